import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { AppError } from '../../domain/errors.ts';
import type { JobMessage, Message, Queue, ReadMessage } from '../../ports/queue.ts';

/** Where one logical queue lives: its URL and the URL of its dead-letter queue. */
export interface QueueLocation {
  url: string;
  dlqUrl?: string | undefined;
}

export interface SqsQueueOptions {
  /** Logical name (`ecg.stat`, `ingest`, …) → location; unknown names answer QUEUE.UNKNOWN. */
  resolve: (name: string) => QueueLocation | null;
  /**
   * Long-poll seconds per queue tried by `receive` (0 = short poll). Short polls sample a subset of
   * SQS hosts and can miss a message on a nearly empty queue; the next poll finds it.
   */
  waitTimeSeconds?: number;
}

/** A resolver over a fixed map, as the CDK stack passes it (`TELEREAD_QUEUES` JSON). */
export const queueMap =
  (map: Record<string, QueueLocation>) =>
  (name: string): QueueLocation | null =>
    Object.prototype.hasOwnProperty.call(map, name) ? map[name]! : null;

const MAX_BATCH = 10;
const MAX_VISIBILITY_S = 43_200;
const MAX_DELAY_S = 900;

const invalidArg = (name: string, max: number) =>
  new AppError('QUEUE.INVALID_ARGUMENT', 'invalid', `${name} must be an integer from 0 to ${max}.`);
function checkSeconds(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw invalidArg(name, max);
}
const receiptInvalid = (why: string) => new AppError('QUEUE.RECEIPT_INVALID', 'conflict', `The receipt is no longer valid: ${why}.`);

/** SQS answers these for receipts that are malformed, stale, or of a message no longer in flight. */
const RECEIPT_ERRORS = new Set([
  'ReceiptHandleIsInvalid',
  'InvalidParameterValue',
  'MessageNotInflight',
  'AWS.SimpleQueueService.MessageNotInflight',
]);
const isReceiptError = (e: unknown) => RECEIPT_ERRORS.has((e as { name?: string })?.name ?? '');

/**
 * Queue<T> on SQS, one SQS queue per logical name (read queues `<pool>.<priority>`, `ingest`,
 * `delivery`), each with its own DLQ (redrive policy after maxReceiveCount, set in the stateful stack).
 * Receipts handed out are `<queue>~<SQS receipt handle>`, so a receipt of another queue is refused here.
 */
export class SqsQueue<T> implements Queue<T> {
  private readonly wait: number;
  constructor(
    private readonly sqs: SQSClient,
    private readonly opts: SqsQueueOptions,
  ) {
    this.wait = Math.max(0, Math.min(20, Math.floor(opts.waitTimeSeconds ?? 0)));
  }

  private where(name: string): QueueLocation {
    const l = this.opts.resolve(name);
    if (!l) throw new AppError('QUEUE.UNKNOWN', 'invalid', `There is no queue named ${JSON.stringify(name.slice(0, 80))}.`);
    return l;
  }

  async send(queue: string, body: T, opts: { delaySeconds?: number } = {}): Promise<{ messageId: string }> {
    const delay = opts.delaySeconds ?? 0;
    checkSeconds('delaySeconds', delay, MAX_DELAY_S);
    const r = await this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.where(queue).url, MessageBody: JSON.stringify(body), DelaySeconds: delay || undefined }),
    );
    return { messageId: r.MessageId! };
  }

  async receive(queues: readonly string[], opts: { visibilityTimeoutSeconds: number; max?: number }): Promise<Message<T>[]> {
    checkSeconds('visibilityTimeoutSeconds', opts.visibilityTimeoutSeconds, MAX_VISIBILITY_S);
    const max = opts.max ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > MAX_BATCH) {
      throw new AppError('QUEUE.INVALID_ARGUMENT', 'invalid', `max must be an integer from 1 to ${MAX_BATCH}.`);
    }
    const out: Message<T>[] = [];
    for (const queue of queues) {
      const { url } = this.where(queue);
      while (out.length < max) {
        const r = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: max - out.length,
            VisibilityTimeout: opts.visibilityTimeoutSeconds,
            WaitTimeSeconds: this.wait,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          }),
        );
        const got = r.Messages ?? [];
        if (got.length === 0) break;
        for (const m of got) {
          out.push({
            messageId: m.MessageId!,
            queue,
            body: JSON.parse(m.Body ?? 'null') as T,
            receipt: `${queue}~${m.ReceiptHandle}`,
            receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
            sentAt: new Date(Number(m.Attributes?.SentTimestamp ?? Date.now())).toISOString(),
          });
        }
      }
      if (out.length >= max) break;
    }
    return out;
  }

  private handleOf(queue: string, receipt: string): string {
    const cut = typeof receipt === 'string' ? receipt.indexOf('~') : -1;
    if (cut < 0 || receipt.slice(0, cut) !== queue || cut === receipt.length - 1) throw receiptInvalid('it is not a receipt of this queue');
    return receipt.slice(cut + 1);
  }

  async changeVisibility(queue: string, receipt: string, visibilityTimeoutSeconds: number): Promise<void> {
    checkSeconds('visibilityTimeoutSeconds', visibilityTimeoutSeconds, MAX_VISIBILITY_S);
    const handle = this.handleOf(queue, receipt);
    try {
      await this.sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: this.where(queue).url, ReceiptHandle: handle, VisibilityTimeout: visibilityTimeoutSeconds }),
      );
    } catch (e) {
      if (isReceiptError(e)) throw receiptInvalid('the message was received again or is gone');
      throw e;
    }
  }

  async delete(queue: string, receipt: string): Promise<void> {
    const handle = this.handleOf(queue, receipt);
    try {
      await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.where(queue).url, ReceiptHandle: handle }));
    } catch (e) {
      if (isReceiptError(e)) throw receiptInvalid('the message was received again since');
      throw e;
    }
  }

  /** From SQS's approximate counters (eventually consistent, as on AWS). */
  async depth(queue: string): Promise<{ visible: number; inFlight: number; dead: number }> {
    const l = this.where(queue);
    const attrs = async (url: string) =>
      (
        await this.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        )
      ).Attributes ?? {};
    const a = await attrs(l.url);
    const d = l.dlqUrl ? await attrs(l.dlqUrl) : {};
    return {
      visible: Number(a['ApproximateNumberOfMessages'] ?? 0),
      inFlight: Number(a['ApproximateNumberOfMessagesNotVisible'] ?? 0),
      dead: Number(d['ApproximateNumberOfMessages'] ?? 0) + Number(d['ApproximateNumberOfMessagesNotVisible'] ?? 0),
    };
  }
}

export class SqsReadQueue extends SqsQueue<ReadMessage> {}
export class SqsJobQueue extends SqsQueue<JobMessage> {}
