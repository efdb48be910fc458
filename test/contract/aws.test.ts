/**
 * The port contract suites on the AWS adapters: DynamoDB adapters against dynalite and S3BlobStore
 * against s3rver (both in-process), SqsQueue against an SQS fake behind aws-sdk-client-mock.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../shared/adapters/aws/s3-blob-store.ts';
import { DynamoAttemptLimiter } from '../../shared/adapters/aws/dynamo-attempt-limiter.ts';
import { DynamoAuditLog } from '../../shared/adapters/aws/dynamo-audit-log.ts';
import { DynamoCaseRepository } from '../../shared/adapters/aws/dynamo-case-repository.ts';
import { DynamoNotifier } from '../../shared/adapters/aws/dynamo-notifier.ts';
import { DynamoSignerKeyStore } from '../../shared/adapters/aws/dynamo-signer-key-store.ts';
import { ImmediateUnitOfWork } from '../../shared/adapters/aws/immediate-unit-of-work.ts';
import { SqsQueue } from '../../shared/adapters/aws/sqs-queue.ts';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { SIGNING_PIN_POLICY } from '../../shared/domain/attempts.ts';
import { attemptLimiterContract } from './attempt-limiter.contract.ts';
import { auditLogContract } from './audit-log.contract.ts';
import { blobStoreContract } from './blob-store.contract.ts';
import { caseRepositoryContract } from './case-repository.contract.ts';
import { notifierContract } from './notifier.contract.ts';
import { queueContract } from './queue.contract.ts';
import { signerKeyStoreContract } from './signer-key-store.contract.ts';
import { unitOfWorkContract } from './unit-of-work.contract.ts';
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

attemptLimiterContract('DynamoAttemptLimiter (dynalite)', async () => {
  const t = await table();
  return { limiter: new DynamoAttemptLimiter(t.d.client(), t.name), another: async () => new DynamoAttemptLimiter(t.d.client(), t.name), cleanup: t.cleanup };
});
describe('DynamoCaseRepository: drafts saved before they were kept per author', () => {
  it('a `DRAFT` item is still its author\'s draft (and nobody else\'s) until they save again', async () => {
    const t = await table();
    const repo = new DynamoCaseRepository(t.d.client(), t.name);
    const d = { caseId: 'case-1', authorId: 'ecg-reader', body: { findings: 'sinus rhythm' }, updatedAt: '2026-06-01T08:00:00.000Z' };
    await DynamoDBDocumentClient.from(t.d.client()).send(new PutCommand({ TableName: t.name, Item: { pk: 'CASE#case-1', sk: 'DRAFT', doc: JSON.stringify(d) } }));
    expect(await repo.getDraft('case-1', 'ecg-reader')).toEqual(d);
    expect(await repo.getDraft('case-1', 'rad-reader')).toBeNull();
    const newer = { ...d, body: { findings: 'sinus rhythm', impression: 'normal' }, updatedAt: '2026-06-01T08:05:00.000Z' };
    await repo.saveDraft(newer);
    expect(await repo.getDraft('case-1', 'ecg-reader')).toEqual(newer);
    // A function still on the old code saves a `DRAFT` item during a deploy: the newer one wins.
    const fromOldCode = { ...d, body: { findings: 'from the old code' }, updatedAt: '2026-06-01T08:06:00.000Z' };
    await DynamoDBDocumentClient.from(t.d.client()).send(new PutCommand({ TableName: t.name, Item: { pk: 'CASE#case-1', sk: 'DRAFT', doc: JSON.stringify(fromOldCode) } }));
    expect(await repo.getDraft('case-1', 'ecg-reader')).toEqual(fromOldCode);
    await t.cleanup();
  });

  it("discarding a reader's draft empties the old `DRAFT` item too when it is theirs (and only then)", async () => {
    const t = await table();
    const c = t.d.client();
    const repo = new DynamoCaseRepository(c, t.name);
    const d = { caseId: 'case-1', authorId: 'ecg-reader', body: { findings: 'sinus rhythm' }, updatedAt: '2026-06-01T08:00:00.000Z' };
    await DynamoDBDocumentClient.from(c).send(new PutCommand({ TableName: t.name, Item: { pk: 'CASE#case-1', sk: 'DRAFT', doc: JSON.stringify(d) } }));
    const theirs = { ...d, authorId: 'rad-reader', body: { findings: 'theirs' } };
    await repo.saveDraft(theirs);
    await repo.discardDraft(theirs);
    expect(await repo.getDraft('case-1', 'ecg-reader')).toEqual(d);
    // Their own newer item and the old one: both go when the newer is discarded.
    const newer = { ...d, body: { findings: 'sinus rhythm, newer' }, updatedAt: '2026-06-01T08:05:00.000Z' };
    await repo.saveDraft(newer);
    await repo.discardDraft(newer);
    expect(await repo.getDraft('case-1', 'ecg-reader')).toBeNull();
    expect(await repo.getDraft('case-1', 'rad-reader')).toBeNull();
    // An old function's `DRAFT` newer than the author's own item: signing that one empties both.
    const own = { ...d, caseId: 'case-1', body: { findings: 'sinus rhythm, own' }, updatedAt: '2026-06-01T09:00:00.000Z' };
    await repo.saveDraft(own);
    const fromOldCode = { ...own, body: { findings: 'sinus rhythm, from the old code' }, updatedAt: '2026-06-01T09:01:00.000Z' };
    await DynamoDBDocumentClient.from(c).send(new PutCommand({ TableName: t.name, Item: { pk: 'CASE#case-1', sk: 'DRAFT', doc: JSON.stringify(fromOldCode) } }));
    const read = (await repo.getDraft('case-1', 'ecg-reader'))!;
    expect(read).toEqual(fromOldCode);
    await repo.discardDraft(read);
    expect(await repo.getDraft('case-1', 'ecg-reader')).toBeNull();
    // No clinical text is left in the emptied items.
    const left = await DynamoDBDocumentClient.from(c).send(new QueryCommand({ TableName: t.name, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'CASE#case-1' } }));
    expect(JSON.stringify(left.Items)).not.toMatch(/sinus rhythm|theirs/);
    await t.cleanup();
  });
});

describe('DynamoCaseRepository and the functions\' role (GetItem, PutItem and Query only: no DeleteItem)', () => {
  it('taking over an instance, discarding a draft and marking a repair send no other command; the old case no longer lists the instance', async () => {
    const t = await table();
    const c = t.d.client();
    const repo = new DynamoCaseRepository(c, t.name);
    const inst = (caseId: string) => ({
      sopInstanceUID: '1.2.3.4', caseId, fileIndex: 0, key: `uploads/clinic-a/sub-${caseId}/0`, size: 10, sha256: 'ab'.repeat(32),
      studyInstanceUID: '1.2.3', seriesInstanceUID: '1.2.3.1', sopClassUID: '1.2.840.10008.5.1.4.1.1.1', modality: 'CR', receivedAt: '2026-06-01T08:00:00.000Z',
    });
    await repo.putInstance(inst('case-old'));
    const draft = { caseId: 'case-new', authorId: 'rad-reader', body: { findings: 'x' }, updatedAt: '2026-06-01T08:00:00.000Z' };
    await repo.saveDraft(draft);
    const sent = new Set<string>();
    c.middlewareStack.add((next, context) => (args) => (sent.add(String(context.commandName)), next(args)), { step: 'initialize' });
    expect(await repo.takeOverInstance(inst('case-new'), inst('case-old'))).toBe(true);
    await repo.discardDraft(draft);
    expect(await repo.markUploadRepaired('case-new', 0, '2026-06-01T08:00:00.000Z')).toBe(true);
    expect([...sent].sort()).toEqual(['GetItemCommand', 'PutItemCommand']);
    expect(await repo.listInstances('case-old')).toEqual([]);
    expect((await repo.listInstances('case-new')).map((i) => i.caseId)).toEqual(['case-new']);
    await t.cleanup();
  });
});

describe('DynamoAttemptLimiter and the functions\' role', () => {
  it('sends only GetItem and PutItem (the role has no DeleteItem or UpdateItem)', async () => {
    const t = await table();
    const sent = new Set<string>();
    const c = t.d.client();
    c.middlewareStack.add((next, context) => (args) => (sent.add(String(context.commandName)), next(args)), { step: 'initialize' });
    const l = new DynamoAttemptLimiter(c, t.name);
    const now = new Date('2026-11-23T08:00:00.000Z');
    for (let i = 0; i < 6; i++) await l.take('signing-pin:r', now, SIGNING_PIN_POLICY);
    await l.giveBack('signing-pin:r', SIGNING_PIN_POLICY);
    await l.clear('signing-pin:r');
    expect((await l.take('signing-pin:r', now, SIGNING_PIN_POLICY)).allowed).toBe(true);
    expect([...sent].sort()).toEqual(['GetItemCommand', 'PutItemCommand']);
    await t.cleanup();
  });
});

notifierContract('DynamoNotifier (dynalite)', async () => {
  const t = await table();
  return { notifier: new DynamoNotifier(t.d.client(), t.name), cleanup: t.cleanup };
});

unitOfWorkContract('ImmediateUnitOfWork (dynalite)', async () => {
  const t = await table();
  const inbox = new DynamoNotifier(t.d.client(), t.name);
  return {
    uow: new ImmediateUnitOfWork(),
    write: (tag) => inbox.notify({ to: { clinicId: 'clinic-uow' }, kind: 'case.rejected', caseId: tag, at: '2026-06-01T00:00:00.000Z' }),
    written: async () => (await inbox.list({ clinicId: 'clinic-uow' }, 500)).map((n) => n.caseId),
    cleanup: t.cleanup,
  };
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
    expect(await store.head('reports/c/case-1/copy')).toMatchObject({ size: 5 });
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
    expect(await store.head('big/one')).toMatchObject({ size: body.length });
    expect(await store.sha256('big/one')).toBe(r.sha256);
    await expect(store.put('big/two', chunks(), { maxBytes: 6 * 1024 * 1024 })).rejects.toMatchObject({ code: 'BLOB.TOO_LARGE' });
    expect(await store.head('big/two')).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// Lambda handlers on SQS event fixtures, over the AWS adapters (dynalite, s3rver, SQS fake).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { DEFAULT_SETTINGS, type Deps } from '../../shared/application/deps.ts';
import { createSubmission } from '../../shared/application/submissions.ts';
import { DynamoDirectory } from '../../shared/adapters/aws/dynamo-directory.ts';
import { RandomIdsAws } from '../../shared/adapters/aws/ids.ts';
import { S3UploadTargetSigner } from '../../shared/adapters/aws/s3-upload-target-signer.ts';
import { SqsJobQueue, SqsReadQueue } from '../../shared/adapters/aws/sqs-queue.ts';
import { VerifiedClaimsTokenService } from '../../shared/adapters/aws/claims-token-service.ts';
import type { Principal } from '../../shared/contracts/auth.ts';
import { lambdaInspector } from '../../functions/inspector.ts';
import { keysOfIngestMessage, makeIngestHandler } from '../../functions/ingest.ts';
import { makeDeliveryHandler } from '../../functions/delivery.ts';
import { makeSweepHandler } from '../../functions/sweep.ts';
import { makeApiHandler, type ApiEvent } from '../../functions/api.ts';
import { ManualClock } from './support/manual-clock.ts';

const SAMPLES = join(import.meta.dirname, '../../../shared/samples');
const ECG = readFileSync(join(SAMPLES, 'ecg-12lead-mortara-explicit-le.dcm'));
const tech: Principal = { userId: 'tech-a', role: 'technician', clinicId: 'clinic-a' };
const context = { functionName: 'ingest', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

const CONSORTIUM = {
  name: 'Test consortium',
  county: { id: 'county', name: 'County hospital' },
  clinics: [{ id: 'clinic-a', name: 'Clinic A' }],
  pools: [
    { id: 'ecg', name: 'ECG' },
    { id: 'radiography', name: 'Radiography' },
  ],
  routing: { ECG: 'ecg', CR: 'radiography', DX: 'radiography' },
  users: [
    { id: 'tech-a', username: 'tech-a', displayName: 'Tech A', role: 'technician' as const, clinicId: 'clinic-a', passwordHash: '!cognito' },
    { id: 'ecg-reader', username: 'ecg-reader', displayName: 'ECG reader', role: 'reader' as const, pools: ['ecg'], passwordHash: '!cognito' },
  ],
};

const s3Record = (key: string, messageId: string, receiveCount = 1): SQSRecord => ({
  messageId,
  receiptHandle: `rh-${messageId}`,
  body: JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'cn-northwest-1',
        eventTime: '2026-06-01T08:00:00.000Z',
        eventName: 'ObjectCreated:Put',
        s3: { s3SchemaVersion: '1.0', bucket: { name: 'uploads', arn: 'arn:aws-cn:s3:::uploads' }, object: { key, size: 1 } },
      },
    ],
  }),
  attributes: {
    ApproximateReceiveCount: String(receiveCount),
    SentTimestamp: '1780000000000',
    SenderId: 'AIDAEXAMPLE',
    ApproximateFirstReceiveTimestamp: '1780000000000',
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws-cn:sqs:cn-northwest-1:000000000000:teleread-ingest',
  awsRegion: 'cn-northwest-1',
});
const rawRecord = (body: string, messageId: string): SQSRecord => ({ ...s3Record('x', messageId), body });
const sqsEvent = (...Records: SQSRecord[]): SQSEvent => ({ Records });

describe('ingest and delivery handlers on SQS event fixtures', () => {
  async function system(start = '2026-06-01T08:00:00.000Z') {
    const t = await table();
    const s = await s3Server();
    const bucket = await s.createBucket();
    const clock = new ManualClock(start);
    const fake = new FakeSqs(clock, 5);
    const resolve = (name: string) => fake.location(name);
    const s3 = s.client();
    const noop = () => {};
    const deps: Deps = {
      cases: new DynamoCaseRepository(t.d.client(), t.name),
      blobs: new S3BlobStore(s3, { bucket }),
      readQueue: new SqsReadQueue(fake.client(), { resolve }),
      jobQueue: new SqsJobQueue(fake.client(), { resolve }),
      inspector: lambdaInspector(),
      signer: { jwks: async () => ({ keys: [] }) } as unknown as Deps['signer'], // ingest and delivery never sign
      attempts: new DynamoAttemptLimiter(t.d.client(), t.name),
      renderer: { render: async () => ({ pdf: new Uint8Array(0), missingGlyphs: [] }) },
      directory: DynamoDirectory.fromConsortium(CONSORTIUM),
      uploads: new S3UploadTargetSigner(s3, bucket, clock),
      notifier: new DynamoNotifier(t.d.client(), t.name),
      audit: new DynamoAuditLog(t.d.client(), t.name),
      uow: new ImmediateUnitOfWork(),
      clock,
      ids: new RandomIdsAws(),
      log: { info: noop, warn: noop, error: noop },
      settings: DEFAULT_SETTINGS,
    };
    const submit = async (files: Buffer[]) => {
      const r = await createSubmission(deps, tech, {
        patient: { id: 'p-1', name: 'Test Patient' },
        consent: { obtained: true },
        priority: 'routine',
        files: files.map((b, i) => ({ name: `f${i}.dcm`, size: b.length })),
      });
      const keys = files.map((_, i) => `uploads/clinic-a/${r.submissionId}/${i}`);
      for (const [i, b] of files.entries()) await deps.blobs.put(keys[i]!, b);
      return { caseId: r.caseId, keys };
    };
    return { deps, fake, clock, submit, cleanup: t.cleanup };
  }

  it('reads the keys of S3 notifications (URL-encoded), test events and ingest jobs; refuses anything else', () => {
    expect(keysOfIngestMessage(s3Record('uploads/clinic-a/sub-abcdef/0', 'm').body)).toEqual([
      { key: 'uploads/clinic-a/sub-abcdef/0', storedAt: '2026-06-01T08:00:00.000Z' },
    ]);
    expect(keysOfIngestMessage(s3Record('a+b%2Fc', 'm').body)).toEqual([{ key: 'a b/c', storedAt: '2026-06-01T08:00:00.000Z' }]);
    expect(keysOfIngestMessage(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'b' }))).toEqual([]);
    expect(keysOfIngestMessage(JSON.stringify({ type: 'ingest', key: 'uploads/c/sub-123456/1' }))).toEqual([
      { key: 'uploads/c/sub-123456/1', storedAt: undefined },
    ]);
    expect(() => keysOfIngestMessage('{not json')).toThrow();
    expect(() => keysOfIngestMessage(JSON.stringify({ hello: 'world' }))).toThrow();
  });

  it('ingests an uploaded ECG: no failures, case QUEUED, exactly one read message', async () => {
    const s = await system();
    try {
      const { caseId, keys } = await s.submit([ECG]);
      const handler = makeIngestHandler(s.deps);
      expect(await handler(sqsEvent(s3Record(keys[0]!, 'm-1')), context)).toEqual({ batchItemFailures: [] });
      const c = await s.deps.cases.get(caseId);
      expect(c?.status).toBe('QUEUED');
      expect(c?.pool).toBe('ecg');
      expect(await s.deps.cases.listInstances(caseId)).toHaveLength(1);
      const queue = `ecg.${c!.priority}`;
      expect((await s.deps.readQueue.depth(queue)).visible).toBe(1);
    } finally {
      await s.cleanup();
    }
  });

  it('duplicates in one batch and redeliveries change nothing: one instance, one outcome, one read message', async () => {
    const s = await system();
    try {
      const { caseId, keys } = await s.submit([ECG]);
      const handler = makeIngestHandler(s.deps);
      const r1 = await handler(sqsEvent(s3Record(keys[0]!, 'm-1'), s3Record(keys[0]!, 'm-2')), context);
      expect(r1.batchItemFailures).toEqual([]);
      const r2 = await handler(sqsEvent(s3Record(keys[0]!, 'm-1', 2)), context);
      expect(r2.batchItemFailures).toEqual([]);
      expect(await s.deps.cases.listInstances(caseId)).toHaveLength(1);
      expect(await s.deps.cases.listFileOutcomes(caseId)).toHaveLength(1);
      const c = (await s.deps.cases.get(caseId))!;
      expect(c.status).toBe('QUEUED');
      expect((await s.deps.readQueue.depth(`ecg.${c.priority}`)).visible).toBe(1);
    } finally {
      await s.cleanup();
    }
  });

  it('a poison message fails alone: exactly its id in batchItemFailures, the rest of the batch is ingested', async () => {
    const s = await system();
    try {
      const a = await s.submit([ECG]);
      const b = await s.submit([Buffer.from('this is not a DICOM file at all, just text')]);
      const handler = makeIngestHandler(s.deps);
      const r = await handler(
        sqsEvent(
          s3Record(a.keys[0]!, 'good-1'),
          rawRecord('{"Records": [ this is not json', 'poison-1'),
          s3Record(b.keys[0]!, 'bad-file-1'),
          rawRecord(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }), 'test-event-1'),
        ),
        context,
      );
      expect(r).toEqual({ batchItemFailures: [{ itemIdentifier: 'poison-1' }] });
      expect((await s.deps.cases.get(a.caseId))?.status).toBe('QUEUED');
      // A refused file is an answer, not a failure: the case is REJECTED with a reason and the bytes kept.
      const rejected = (await s.deps.cases.get(b.caseId))!;
      expect(rejected.status).toBe('REJECTED');
      expect(rejected.rejection?.code).toMatch(/^(DICOM|FILE)\./);
      expect(await s.deps.blobs.list('quarantine/')).toHaveLength(1);
    } finally {
      await s.cleanup();
    }
  });

  it('an ingest that fails on storage reports that record only (and it is retried, then dead-lettered by SQS)', async () => {
    const s = await system();
    try {
      const a = await s.submit([ECG]);
      const ghost = await s.submit([ECG]);
      // The object of the second case vanished before ingest: that record fails, the other succeeds.
      const r = await makeIngestHandler({
        ...s.deps,
        blobs: new Proxy(s.deps.blobs, {
          get(target, prop, recv) {
            if (prop === 'head') return async (key: string) => (key === ghost.keys[0] ? null : target.head(key));
            return Reflect.get(target, prop, recv);
          },
        }),
      })(sqsEvent(s3Record(a.keys[0]!, 'ok-1'), s3Record(ghost.keys[0]!, 'vanished-1')), context);
      expect(r.batchItemFailures).toEqual([{ itemIdentifier: 'vanished-1' }]);
      expect((await s.deps.cases.get(ghost.caseId))?.status).toBe('AWAITING_FILES');
    } finally {
      await s.cleanup();
    }
  });

  it('delivery: a malformed job is reported alone; a delivery of a case not SIGNED is a harmless no-op', async () => {
    const s = await system();
    try {
      const handler = makeDeliveryHandler(s.deps);
      const r = await handler(
        sqsEvent(
          rawRecord(JSON.stringify({ type: 'deliver', caseId: 'case-none00', version: 1 }), 'd-1'),
          rawRecord(JSON.stringify({ type: 'deliver', caseId: 'case-x' }), 'd-bad'),
        ),
        context,
      );
      expect(r).toEqual({ batchItemFailures: [{ itemIdentifier: 'd-bad' }] });
    } finally {
      await s.cleanup();
    }
  });
  it('api handler: the hono app behind API Gateway, principal from the verified claims only', async () => {
    const s = await system();
    try {
      s.clock.set(new Date()); // s3rver checks the presigned URL's expiry against the real time
      const tokens = new VerifiedClaimsTokenService();
      const handler = makeApiHandler(s.deps, tokens, { objectUrl: async (key) => `https://s3.example/${key}?sig=1` });
      const event = (method: string, path: string, claims?: Record<string, string>, body?: unknown) =>
        ({
          version: '2.0',
          routeKey: `${method} /api/{proxy+}`,
          rawPath: path,
          rawQueryString: '',
          headers: { host: 'api.example', 'content-type': 'application/json', authorization: 'Bearer verified-by-api-gateway' },
          requestContext: {
            accountId: '123456789012',
            apiId: 'api',
            domainName: 'api.example',
            domainPrefix: 'api',
            http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
            requestId: 'r',
            routeKey: `${method} /api/{proxy+}`,
            stage: '$default',
            time: '',
            timeEpoch: 0,
            ...(claims ? { authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } } } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          isBase64Encoded: false,
        }) as unknown as ApiEvent;
      const techClaims = { 'cognito:username': 'tech-a', 'cognito:groups': '[technician]', 'custom:clinicId': 'clinic-a' };
      const me = (await handler(event('GET', '/api/me', techClaims), context)) as { statusCode: number; body: string };
      expect(me.statusCode).toBe(200);
      expect(JSON.parse(me.body)).toEqual({ userId: 'tech-a', role: 'technician', clinicId: 'clinic-a' });
      const anon = (await handler(event('GET', '/api/me'), context)) as { statusCode: number; body: string };
      expect(anon.statusCode).toBe(401);
      expect(((await handler(event('POST', '/api/auth/login', undefined, { username: 'a', password: 'b' }), context)) as { statusCode: number }).statusCode).toBe(404);
      const created = (await handler(
        event('POST', '/api/submissions', techClaims, {
          patient: { id: 'p-9', name: 'Api Patient' },
          consent: { obtained: true },
          priority: 'urgent',
          files: [{ name: 'ecg.dcm', size: ECG.length }],
        }),
        context,
      )) as { statusCode: number; body: string };
      expect(created.statusCode).toBe(201);
      const sub = JSON.parse(created.body) as { caseId: string; uploads: { url: string; method: string }[] };
      const url = new URL(sub.uploads[0]!.url);
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toContain('content-length');
      // The bytes go straight to S3 (here s3rver), S3 notifies the ingest queue, ingest runs.
      const put = await fetch(sub.uploads[0]!.url, { method: 'PUT', headers: { 'content-type': 'application/dicom' }, body: ECG });
      expect(put.status).toBe(200);
      const key = decodeURIComponent(url.pathname.split('/').slice(2).join('/'));
      expect((await makeIngestHandler(s.deps)(sqsEvent(s3Record(key, 'm-api')), context)).batchItemFailures).toEqual([]);
      const readerClaims = { 'cognito:username': 'ecg-reader', 'cognito:groups': '[reader]', 'custom:pools': 'ecg' };
      const inst = (await handler(event('GET', `/api/cases/${sub.caseId}/instances/0`, readerClaims), context)) as { statusCode: number; headers: Record<string, string> };
      expect(inst.statusCode).toBe(302);
      expect(inst.headers['location']).toBe(`https://s3.example/${key}?sig=1`);
      const other = (await handler(event('GET', `/api/cases/${sub.caseId}`, { ...techClaims, 'cognito:username': 'tech-b', 'custom:clinicId': 'clinic-b' }), context)) as { statusCode: number };
      expect(other.statusCode).toBe(404);
    } finally {
      await s.cleanup();
    }
  });
  it('sweep handler: an expired lease goes back to QUEUED on the schedule', async () => {
    const s = await system();
    try {
      const { caseId, keys } = await s.submit([ECG]);
      await makeIngestHandler(s.deps)(sqsEvent(s3Record(keys[0]!, 'm-1')), context);
      const c = (await s.deps.cases.get(caseId))!;
      const lease = { id: 'lease-1', readerId: 'ecg-reader', expiresAt: new Date(s.clock.now().getTime() + 1000).toISOString(), queue: 'ecg.routine', receipt: 'ecg.routine~x' };
      await s.deps.cases.update({ ...c, status: 'CLAIMED', lease, events: [...c.events, { status: 'CLAIMED', at: s.clock.now().toISOString(), actor: 'ecg-reader' }] }, c.version);
      s.clock.advanceSeconds(5);
      const r = await makeSweepHandler(s.deps)();
      expect(r.expired).toBe(1);
      expect((await s.deps.cases.get(caseId))?.status).toBe('QUEUED');
    } finally {
      await s.cleanup();
    }
  });

  it('sweep handler: an upload whose S3 event was lost gets one ingest job once it is 5 minutes old (never a second); a signature left unapplied is applied and delivered', async () => {
    // The clock an hour behind the wall clock, which S3 (s3rver) dates the objects by; moved to the
    // object's own Last-Modified once it is stored.
    const s = await system(new Date(Date.now() - 3_600_000).toISOString());
    try {
      const sub = await createSubmission(s.deps, tech, { patient: { id: 'p-1', name: 'Test Patient' }, consent: { obtained: true }, priority: 'routine', files: [{ name: 'f0.dcm', size: ECG.length }] });
      const caseId = sub.caseId;
      const key = `uploads/clinic-a/${sub.submissionId}/0`;
      await s.deps.blobs.put(key, ECG);
      const storedAt = Date.parse((await s.deps.blobs.head(key))!.lastModified!);
      const at = (secondsAfterStored: number) => s.clock.advanceSeconds((storedAt + secondsAfterStored * 1000 - s.clock.now().getTime()) / 1000);
      const ingestUrl = s.fake.location('ingest').url;
      // The submission is old by the time its file arrives; the file is young: its notice may be on the way.
      at(60);
      expect((await makeSweepHandler(s.deps)()).uploadsRepaired).toBe(0);
      at(301);
      expect((await makeSweepHandler(s.deps)()).uploadsRepaired).toBe(1);
      // Its job failed, say: no second one, however long the case waits.
      at(900);
      expect((await makeSweepHandler(s.deps)()).uploadsRepaired).toBe(0);
      const [job, ...more] = s.fake.receive(ingestUrl, 10, 30).Messages ?? [];
      expect(more).toEqual([]);
      expect(JSON.parse(job!.Body!)).toMatchObject({ type: 'ingest', key });
      expect((await makeIngestHandler(s.deps)(sqsEvent(rawRecord(job!.Body!, 'm-sweep')), context)).batchItemFailures).toEqual([]);
      expect((await s.deps.cases.get(caseId))?.status).toBe('QUEUED');

      // A sign function that stored version 1 and failed before applying it: the next sweep applies it
      // (once the case has been claimed: an unclaimed case cannot hold a signature and is not read).
      await s.deps.cases.putSignedReport({ caseId, version: 1, canonical: '{"critical":false}', jws: 'h..s', signerId: 'ecg-reader', signedAt: s.clock.now().toISOString() });
      expect((await makeSweepHandler(s.deps)()).signaturesApplied).toBe(0);
      const queued = (await s.deps.cases.get(caseId))!;
      await s.deps.cases.update({ ...queued, events: [...queued.events, { status: 'CLAIMED', at: s.clock.now().toISOString(), actor: 'ecg-reader' }] }, queued.version);
      expect((await makeSweepHandler(s.deps)()).signaturesApplied).toBe(1);
      const signed = await s.deps.cases.get(caseId);
      expect([signed?.status, signed?.reportVersion]).toEqual(['SIGNED', 1]);
      const [delivery] = s.fake.receive(s.fake.location('delivery').url, 10, 30).Messages ?? [];
      expect(JSON.parse(delivery!.Body!)).toEqual({ type: 'deliver', caseId, version: 1 });
    } finally {
      await s.cleanup();
    }
  });

  it('sweep handler: a failing step does not stop the ones after it; the invocation fails (and is retried)', async () => {
    const s = await system();
    try {
      const errors: unknown[] = [];
      s.deps.log = { info() {}, warn() {}, error: (_m: string, f?: unknown) => void errors.push(f) };
      // Case B: queued, claimed once, with a signed version a failed sign left unapplied.
      const b = await s.submit([ECG]);
      await makeIngestHandler(s.deps)(sqsEvent(s3Record(b.keys[0]!, 'm-b')), context);
      const queued = (await s.deps.cases.get(b.caseId))!;
      await s.deps.cases.update({ ...queued, events: [...queued.events, { status: 'CLAIMED', at: s.clock.now().toISOString(), actor: 'ecg-reader' }] }, queued.version);
      await s.deps.cases.putSignedReport({ caseId: b.caseId, version: 1, canonical: '{"critical":false}', jws: 'h..s', signerId: 'ecg-reader', signedAt: s.clock.now().toISOString() });
      // Case A: waiting for a file whose HEAD the store refuses (a role without s3:ListBucket answers 403).
      const a = await createSubmission(s.deps, tech, { patient: { id: 'p-2', name: 'Other Patient' }, consent: { obtained: true }, priority: 'routine', files: [{ name: 'f0.dcm', size: 10 }] });
      s.deps.blobs.head = async () => Promise.reject(Object.assign(new Error('Forbidden'), { name: 'AccessDenied' }));
      s.clock.advanceSeconds(600);
      await expect(makeSweepHandler(s.deps)()).rejects.toThrow('sweep steps failed: uploads');
      expect(errors).toEqual([{ step: 'uploads', code: undefined, error: 'AccessDenied' }]);
      // The step after it ran: case B's signature is applied.
      expect((await s.deps.cases.get(b.caseId))?.status).toBe('SIGNED');
      expect((await s.deps.cases.get(a.caseId))?.status).toBe('AWAITING_FILES');
    } finally {
      await s.cleanup();
    }
  });
});

describe('S3 upload targets and Cognito claims', () => {
  it('presigns a PUT bound to the key, content type and length, expiring within five minutes', async () => {
    const s = await s3Server();
    const bucket = await s.createBucket();
    const client = s.client();
    const clock = { now: () => new Date() };
    const signer = new S3UploadTargetSigner(client, bucket, clock);
    const t = await signer.create('uploads/clinic-a/sub-abcdef/0', { maxBytes: 5, contentType: 'application/dicom', expiresInSeconds: 3600 });
    const u = new URL(t.url);
    expect(u.pathname.endsWith('/uploads/clinic-a/sub-abcdef/0')).toBe(true);
    expect(Number(u.searchParams.get('X-Amz-Expires'))).toBe(300);
    expect(u.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(expect.arrayContaining(['content-length', 'content-type', 'host']));
    expect(Date.parse(t.expiresAt) - Date.now()).toBeLessThanOrEqual(300_000);
    expect(t).toMatchObject({ method: 'PUT', headers: { 'content-type': 'application/dicom' } });
    // (s3rver checks the expiry but not every signed header, so S3's refusal of another size or type is
    // asserted through X-Amz-SignedHeaders above, not by a PUT here.)
    const ok = await fetch(t.url, { method: 'PUT', headers: t.headers, body: Buffer.from('12345') });
    expect(ok.status).toBe(200);
    expect(await new S3BlobStore(client, { bucket }).head('uploads/clinic-a/sub-abcdef/0')).toMatchObject({ size: 5 });
    await expect(signer.create('../x', { maxBytes: 1, contentType: 'application/dicom', expiresInSeconds: 60 })).rejects.toMatchObject({
      code: 'BLOB.INVALID_KEY',
    });
  });

  it('maps verified claims to a principal and refuses requests without verified claims', async () => {
    const tokens = new VerifiedClaimsTokenService();
    await expect(tokens.verify('anything')).rejects.toMatchObject({ code: 'AUTH.INVALID_TOKEN' });
    const reader = await tokens.withClaims({ 'cognito:username': 'rad-reader', 'cognito:groups': '[reader]', 'custom:pools': 'radiography,ultrasound' }, () =>
      tokens.verify('t'),
    );
    expect(reader).toEqual({ userId: 'rad-reader', role: 'reader', pools: ['radiography', 'ultrasound'] });
    const techP = await tokens.withClaims({ 'cognito:username': 'tech-a', 'cognito:groups': ['technician'], 'custom:clinicId': 'clinic-a' }, () =>
      tokens.verify('t'),
    );
    expect(techP).toEqual({ userId: 'tech-a', role: 'technician', clinicId: 'clinic-a' });
    await expect(tokens.withClaims({ 'cognito:username': 'x', 'cognito:groups': '[reader admin]' }, () => tokens.verify('t'))).rejects.toMatchObject({
      code: 'AUTH.NO_ROLE',
    });
    await expect(tokens.issue()).rejects.toMatchObject({ code: 'AUTH.NOT_SUPPORTED' });
  });
});
