import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../domain/errors.ts';
import type { Notification, Notifier } from '../../ports/notifier.ts';
import { documentClient, iso, uniqueSuffix, type Item } from './dynamo-common.ts';

const MAX_LIST = 500;

/**
 * In-app inboxes in the TeleRead table: one item per recipient inbox (`INBOX#CLINIC#<id>`,
 * `INBOX#USER#<id>`, `INBOX#ROLE#<role>`) sorted by `<at>#<seq>`; `list` merges the caller's inboxes.
 */
export class DynamoNotifier implements Notifier {
  private readonly doc: DynamoDBDocumentClient;
  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = documentClient(client);
  }

  async notify(n: Notification): Promise<void> {
    const to = n.to ?? {};
    const inboxes = [
      to.clinicId !== undefined ? `INBOX#CLINIC#${to.clinicId}` : null,
      to.userId !== undefined ? `INBOX#USER#${to.userId}` : null,
      to.role !== undefined ? `INBOX#ROLE#${to.role}` : null,
    ].filter((x): x is string => x !== null);
    if (inboxes.length === 0) throw new AppError('NOTIFY.NO_RECIPIENT', 'invalid', 'A notification needs a clinic, a user or a role to go to.');
    const sk = `${iso(n.at)}#${uniqueSuffix()}`;
    for (const pk of inboxes) {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk, sk, doc: JSON.stringify(n) } }));
    }
  }

  async list(to: { clinicId?: string; userId?: string }, limit: number): Promise<Notification[]> {
    const n = Math.min(MAX_LIST, Math.max(0, Math.floor(limit)));
    const inboxes = [
      to.clinicId !== undefined ? `INBOX#CLINIC#${to.clinicId}` : null,
      to.userId !== undefined ? `INBOX#USER#${to.userId}` : null,
    ].filter((x): x is string => x !== null);
    if (n === 0 || inboxes.length === 0) return [];
    const pages = await Promise.all(
      inboxes.map((pk) =>
        this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk },
            ScanIndexForward: false,
            Limit: n,
            ConsistentRead: true,
          }),
        ),
      ),
    );
    // One notification sent to both inboxes shares its sort key: keep it once.
    const bySk = new Map<string, Item>();
    for (const p of pages) for (const i of p.Items ?? []) bySk.set(String(i['sk']), i);
    return [...bySk.entries()]
      .sort((a, b) => (a[0] < b[0] ? 1 : -1))
      .slice(0, n)
      .map(([, i]) => JSON.parse(String(i['doc'])) as Notification);
  }
}
