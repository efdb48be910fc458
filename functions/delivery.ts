import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import type { Deps } from '../shared/application/deps.ts';
import { deliverReport } from '../shared/application/reports.ts';
import { sqsBatchHandler } from './sqs-batch.ts';

const DeliverSchema = z.object({ type: z.literal('deliver'), caseId: z.string().min(1), version: z.number().int().min(1) });

/** Delivery queue → SIGNED becomes DELIVERED and the clinic is told; idempotent on caseId + version. */
export function makeDeliveryHandler(deps: Deps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return sqsBatchHandler(async (record: SQSRecord) => {
    const m = DeliverSchema.parse(JSON.parse(record.body));
    const c = await deliverReport(deps, m.caseId, m.version);
    deps.log.info('delivery', { messageId: record.messageId, caseId: m.caseId, version: m.version, delivered: c !== null });
  });
}
