/**
 * In-process stand-ins for the AWS data services the adapters talk to: dynalite (DynamoDB API) and
 * s3rver (S3 API), each on an ephemeral localhost port, plus SDK clients pointed at them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { TABLE_INDEXES } from '../../../shared/adapters/aws/dynamo-schema.ts';

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
let n = 0;
export const uniqueName = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${n++}`;

export interface DynamoServer {
  client(): DynamoDBClient;
  createTable(): Promise<string>;
  deleteTable(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<DynamoServer> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: DynamoDBClient[] = [];
  const client = () => {
    const c = new DynamoDBClient({ endpoint, region: 'cn-northwest-1', credentials, maxAttempts: 2 });
    clients.push(c);
    return c;
  };
  const admin = client();
  return {
    client,
    async createTable() {
      const TableName = uniqueName('teleread');
      const attrs = new Set(['pk', 'sk', ...TABLE_INDEXES.flatMap((i) => [i.pk, i.sk])]);
      await admin.send(
        new CreateTableCommand({
          TableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [...attrs].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: TABLE_INDEXES.map((i) => ({
            IndexName: i.name,
            KeySchema: [
              { AttributeName: i.pk, KeyType: 'HASH' },
              { AttributeName: i.sk, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          })),
        }),
      );
      return TableName;
    },
    async deleteTable(TableName) {
      await admin.send(new DeleteTableCommand({ TableName })).catch(() => undefined);
    },
    async close() {
      for (const c of clients) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface S3Server {
  client(): S3Client;
  createBucket(): Promise<string>;
  close(): Promise<void>;
}

export async function startS3rver(): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'teleread-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const addr = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${addr.port}`;
  const clients: S3Client[] = [];
  const client = () => {
    const c = new S3Client({
      endpoint,
      forcePathStyle: true,
      region: 'cn-northwest-1',
      credentials,
      // s3rver stores streamed bodies corrupted when the SDK adds checksum trailers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    clients.push(c);
    return c;
  };
  const admin = client();
  return {
    client,
    async createBucket() {
      const Bucket = uniqueName('teleread');
      await admin.send(new CreateBucketCommand({ Bucket }));
      return Bucket;
    },
    async close() {
      for (const c of clients) c.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
