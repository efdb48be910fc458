import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../domain/errors.ts';
import type { SealedSignerKey, SignerKeyStore } from '../../ports/signer.ts';
import { documentClient, iso, isConditionFailed, queryAll } from './dynamo-common.ts';
import { CASE_INDEXES, GSI_SK } from './dynamo-schema.ts';

const newestFirst = (a: SealedSignerKey, b: SealedSignerKey) => {
  const x = iso(a.createdAt);
  const y = iso(b.createdAt);
  return x === y ? (a.kid < b.kid ? 1 : -1) : x < y ? 1 : -1;
};

/** Sealed signer keys in the TeleRead table: `SIGNER#<id>` / `KEY#<kid>`, create-once; all keys on the `all` index. */
export class DynamoSignerKeyStore implements SignerKeyStore {
  private readonly doc: DynamoDBDocumentClient;
  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = documentClient(client);
  }

  async put(k: SealedSignerKey): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: `SIGNER#${k.signerId}`,
            sk: `KEY#${k.kid}`,
            doc: JSON.stringify(k),
            [CASE_INDEXES.all.pk]: 'SIGNERKEY',
            [GSI_SK]: `${k.signerId}#${iso(k.createdAt)}#${k.kid}`,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (isConditionFailed(e)) {
        throw new AppError('SIGN.KEY_EXISTS', 'conflict', 'This signer already has a key with this id.', { signerId: k.signerId, kid: k.kid });
      }
      throw e;
    }
  }

  async current(signerId: string): Promise<SealedSignerKey | null> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': `SIGNER#${signerId}`, ':p': 'KEY#' },
      ConsistentRead: true,
    });
    return items.map((i) => JSON.parse(String(i['doc'])) as SealedSignerKey).sort(newestFirst)[0] ?? null;
  }

  /** Every key of every signer (old ones included), by signer then oldest first. */
  async all(): Promise<SealedSignerKey[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      IndexName: CASE_INDEXES.all.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': CASE_INDEXES.all.pk },
      ExpressionAttributeValues: { ':pk': 'SIGNERKEY' },
    });
    return items.map((i) => JSON.parse(String(i['doc'])) as SealedSignerKey);
  }
}
