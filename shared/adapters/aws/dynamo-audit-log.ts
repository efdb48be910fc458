import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, AuditLog } from '../../ports/audit-log.ts';
import { documentClient, iso, uniqueSuffix } from './dynamo-common.ts';

const MAX_LIST = 1000;

/**
 * Append-only audit log in the TeleRead table: `AUDIT` / `<at>#<seq>` for the whole log and a copy
 * under `AUDIT#CASE#<caseId>` for a case's history; both written create-once. The lambda roles get no
 * DeleteItem on these keys (see the app stack), and PITR keeps what was there.
 */
export class DynamoAuditLog implements AuditLog {
  private readonly doc: DynamoDBDocumentClient;
  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = documentClient(client);
  }

  async append(e: AuditEntry): Promise<void> {
    const sk = `${iso(e.at)}#${uniqueSuffix()}`;
    const doc = JSON.stringify(e);
    const put = (pk: string) =>
      this.doc.send(new PutCommand({ TableName: this.table, Item: { pk, sk, doc }, ConditionExpression: 'attribute_not_exists(pk)' }));
    await put('AUDIT');
    if (e.caseId !== undefined) await put(`AUDIT#CASE#${e.caseId}`);
  }

  async list(filter: { caseId?: string; limit: number }): Promise<AuditEntry[]> {
    const n = Math.min(MAX_LIST, Math.max(0, Math.floor(filter.limit)));
    if (n === 0) return [];
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': filter.caseId !== undefined ? `AUDIT#CASE#${filter.caseId}` : 'AUDIT' },
        ScanIndexForward: false,
        Limit: n,
        ConsistentRead: true,
      }),
    );
    return (r.Items ?? []).map((i) => JSON.parse(String(i['doc'])) as AuditEntry);
  }
}
