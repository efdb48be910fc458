import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export type Item = Record<string, unknown>;

/** The document client every Dynamo adapter uses: undefined fields are left out, never an error. */
export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export const isConditionFailed = (e: unknown) =>
  (e as { name?: string })?.name === 'ConditionalCheckFailedException';

/** ISO timestamps order as text only in one canonical form. */
export const iso = (s: string): string => {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toISOString();
};

let seq = 0;
/** A sort-key suffix that orders appends of one process and never collides across processes. */
export function uniqueSuffix(): string {
  seq = (seq + 1) % 1e9;
  return `${String(seq).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}

/** Every item of a query, following LastEvaluatedKey (strongly consistent on the base table). */
export async function queryAll(doc: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Item[]> {
  const out: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    out.push(...((r.Items ?? []) as Item[]));
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Items of a query in index order, lazily, page by page. */
export async function* queryPages(doc: DynamoDBDocumentClient, input: QueryCommandInput): AsyncGenerator<Item> {
  let start: Record<string, unknown> | undefined;
  do {
    const r = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    for (const i of (r.Items ?? []) as Item[]) yield i;
    start = r.LastEvaluatedKey;
  } while (start);
}
