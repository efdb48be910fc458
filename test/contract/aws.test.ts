/**
 * The port contract suites on the AWS adapters: DynamoDB adapters against dynalite and S3BlobStore
 * against s3rver (both in-process), SqsQueue against an SQS fake behind aws-sdk-client-mock.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../shared/adapters/aws/s3-blob-store.ts';
import { DynamoAuditLog } from '../../shared/adapters/aws/dynamo-audit-log.ts';
import { DynamoCaseRepository } from '../../shared/adapters/aws/dynamo-case-repository.ts';
import { DynamoNotifier } from '../../shared/adapters/aws/dynamo-notifier.ts';
import { DynamoSignerKeyStore } from '../../shared/adapters/aws/dynamo-signer-key-store.ts';
import { SqsQueue } from '../../shared/adapters/aws/sqs-queue.ts';
import { auditLogContract } from './audit-log.contract.ts';
import { blobStoreContract } from './blob-store.contract.ts';
import { caseRepositoryContract } from './case-repository.contract.ts';
import { notifierContract } from './notifier.contract.ts';
import { queueContract } from './queue.contract.ts';
import { signerKeyStoreContract } from './signer-key-store.contract.ts';
import { FakeSqs } from './support/aws-sqs-fake.ts';
import { startDynalite, startS3rver, type DynamoServer, type S3Server } from './support/aws-servers.ts';

let dynamo: Promise<DynamoServer> | undefined;
let s3: Promise<S3Server> | undefined;
const dynamoServer = () => (dynamo ??= startDynalite());
const s3Server = () => (s3 ??= startS3rver());
afterAll(async () => {
  if (dynamo) await (await dynamo).close();
  if (s3) await (await s3).close();
});

async function table() {
  const d = await dynamoServer();
  const name = await d.createTable();
  return { d, name, cleanup: () => d.deleteTable(name) };
}

blobStoreContract('S3BlobStore (s3rver)', async () => {
  const s = await s3Server();
  const bucket = await s.createBucket();
  return { store: new S3BlobStore(s.client(), { bucket }), cleanup: async () => {} };
});

caseRepositoryContract('DynamoCaseRepository (dynalite)', async () => {
  const t = await table();
  return {
    repo: new DynamoCaseRepository(t.d.client(), t.name),
    another: async () => new DynamoCaseRepository(t.d.client(), t.name),
    cleanup: t.cleanup,
  };
});

auditLogContract('DynamoAuditLog (dynalite)', async () => {
  const t = await table();
  return { log: new DynamoAuditLog(t.d.client(), t.name), cleanup: t.cleanup };
});

signerKeyStoreContract('DynamoSignerKeyStore (dynalite)', async () => {
  const t = await table();
  return { keys: new DynamoSignerKeyStore(t.d.client(), t.name), cleanup: t.cleanup };
});

notifierContract('DynamoNotifier (dynalite)', async () => {
  const t = await table();
  return { notifier: new DynamoNotifier(t.d.client(), t.name), cleanup: t.cleanup };
});

queueContract('SqsQueue (aws-sdk-client-mock)', async ({ clock, maxReceiveCount }) => {
  const fake = new FakeSqs(clock, maxReceiveCount);
  const resolve = (name: string) => fake.location(name);
  return {
    queue: new SqsQueue(fake.client(), { resolve }),
    connect: async () => new SqsQueue(fake.client(), { resolve }),
    cleanup: async () => {},
  };
});

describe('AWS adapters: beyond the port contracts', () => {
  it('S3BlobStore routes reports/ to the reports bucket and lists across both', async () => {
    const s = await s3Server();
    const uploads = await s.createBucket();
    const reports = await s.createBucket();
    const client = s.client();
    const store = new S3BlobStore(client, { bucket: uploads, prefixBuckets: { 'reports/': reports } });
    await store.put('uploads/c/sub-1/0', Buffer.from('dicom'));
    await store.put('reports/c/case-1/v1.pdf', Buffer.from('pdf'));
    expect(await new S3BlobStore(client, { bucket: reports }).list('')).toEqual(['reports/c/case-1/v1.pdf']);
    expect(await new S3BlobStore(client, { bucket: uploads }).list('')).toEqual(['uploads/c/sub-1/0']);
    expect(await store.list('')).toEqual(['reports/c/case-1/v1.pdf', 'uploads/c/sub-1/0']);
    await store.copy('uploads/c/sub-1/0', 'reports/c/case-1/copy');
    expect(await store.head('reports/c/case-1/copy')).toEqual({ size: 5 });
  });

  it('S3BlobStore sends a body larger than one part as a multipart upload, and aborts it when too large', async () => {
    const s = await s3Server();
    const bucket = await s.createBucket();
    const store = new S3BlobStore(s.client(), { bucket, partBytes: 5 * 1024 * 1024 });
    const body = Buffer.alloc(11 * 1024 * 1024 + 3, 9);
    async function* chunks() {
      for (let i = 0; i < body.length; i += 1024 * 1024) yield body.subarray(i, i + 1024 * 1024);
    }
    const r = await store.put('big/one', chunks());
    expect(r.size).toBe(body.length);
    expect(await store.head('big/one')).toEqual({ size: body.length });
    expect(await store.sha256('big/one')).toBe(r.sha256);
    await expect(store.put('big/two', chunks(), { maxBytes: 6 * 1024 * 1024 })).rejects.toMatchObject({ code: 'BLOB.TOO_LARGE' });
    expect(await store.head('big/two')).toBeNull();
  });
});
