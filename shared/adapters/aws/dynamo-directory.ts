import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConsortiumSchema, type Consortium, type UserRecord } from '../../contracts/consortium.ts';
import { describeIssues } from '../../contracts/describe.ts';
import type { Directory } from '../../ports/directory.ts';
import { documentClient } from './dynamo-common.ts';

const KEY = { pk: 'CONFIG', sk: 'CONSORTIUM' } as const;

/**
 * The consortium (clinics, pools, routing, users' display names and licence numbers) as one item of
 * the TeleRead table, read once at cold start. Logins are Cognito's: `passwordHash` is unused on AWS.
 */
export class DynamoDirectory implements Directory {
  private constructor(private readonly c: Consortium) {}

  static fromConsortium(c: Consortium): DynamoDirectory {
    return new DynamoDirectory(c);
  }

  static async load(client: DynamoDBClient, table: string): Promise<DynamoDirectory> {
    const r = await documentClient(client).send(new GetCommand({ TableName: table, Key: KEY, ConsistentRead: true }));
    if (!r.Item) throw new Error(`table ${table} holds no consortium (item CONFIG/CONSORTIUM); see docs/OPERATIONS.md`);
    const parsed = ConsortiumSchema.safeParse(JSON.parse(String(r.Item['doc'])));
    if (!parsed.success) throw new Error(`the stored consortium is invalid: ${describeIssues(parsed.error)}`);
    return new DynamoDirectory(parsed.data);
  }

  static async store(client: DynamoDBClient, table: string, c: Consortium): Promise<void> {
    const parsed = ConsortiumSchema.parse(c);
    await documentClient(client).send(new PutCommand({ TableName: table, Item: { ...KEY, doc: JSON.stringify(parsed) } }));
  }

  consortium(): Consortium {
    return this.c;
  }
  async findUserByUsername(username: string): Promise<UserRecord | null> {
    return this.c.users.find((u) => u.username === username) ?? null;
  }
  async getUser(id: string): Promise<UserRecord | null> {
    return this.c.users.find((u) => u.id === id) ?? null;
  }
}
