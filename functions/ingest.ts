import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import type { Deps } from '../shared/application/deps.ts';
import { ingestObject } from '../shared/application/ingest.ts';
import { sqsBatchHandler } from './sqs-batch.ts';

/** What S3 puts on the ingest queue (only the fields ingest needs), or S3's test event. */
const S3NotificationSchema = z.union([
  z.object({
    Records: z
      .array(
        z.object({
          eventSource: z.literal('aws:s3'),
          eventName: z.string(),
          eventTime: z.string().optional(),
          s3: z.object({ object: z.object({ key: z.string().min(1) }) }),
        }),
      )
      .min(1),
  }),
  z.object({ Event: z.literal('s3:TestEvent') }),
  /** An ingest job sent by TeleRead itself (a re-drive or a repair). */
  z.object({ type: z.literal('ingest'), key: z.string().min(1), storedAt: z.string().optional() }),
]);

/** S3 event keys are URL-encoded with `+` for spaces. */
const s3Key = (k: string) => decodeURIComponent(k.replace(/\+/g, ' '));

/** The stored objects (key, when stored) one ingest-queue message asks to ingest; throws on a message that is not one. */
export function keysOfIngestMessage(body: string): Array<{ key: string; storedAt?: string | undefined }> {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new Error('ingest message is not JSON');
  }
  const m = S3NotificationSchema.parse(raw);
  if ('Records' in m) {
    return m.Records.filter((r) => r.eventName.startsWith('ObjectCreated:')).map((r) => ({ key: s3Key(r.s3.object.key), storedAt: r.eventTime }));
  }
  if ('key' in m) return [{ key: m.key, storedAt: m.storedAt }];
  return [];
}

/**
 * S3 → SQS → ingest: each record names stored uploads; each is ingested (idempotent on
 * SOPInstanceUID and on (case, file index), so duplicates and redeliveries are harmless). A record
 * that cannot be processed — not an S3 notification, or a failure while ingesting — is reported in
 * `batchItemFailures`, and only that one.
 */
export function makeIngestHandler(deps: Deps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return sqsBatchHandler(async (record: SQSRecord) => {
    for (const { key, storedAt } of keysOfIngestMessage(record.body)) {
      const r = await ingestObject(deps, key, { storedAt });
      deps.log.info('ingest', { messageId: record.messageId, result: r.result, ...('caseId' in r ? { caseId: r.caseId, status: r.caseStatus } : { reason: r.reason }) });
    }
  });
}
