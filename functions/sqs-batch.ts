import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * Run `handle` on every record of an SQS batch with Powertools' partial batch responses: records that
 * throw are reported in `batchItemFailures` (and come back after their visibility timeout, then go to
 * the DLQ), the others are deleted by the event source mapping. One at a time, to bound memory.
 */
export function sqsBatchHandler(handle: (record: SQSRecord) => Promise<void>) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(event, handle, processor, { context, processInParallel: false, throwOnFullBatchFailure: false });
  };
}
