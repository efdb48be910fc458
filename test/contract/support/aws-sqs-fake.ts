/**
 * An in-memory SQS behind aws-sdk-client-mock (no SQS emulator works with the current SDK): standard
 * queues with visibility timeouts, receive counts, delays and a redrive policy to a DLQ after
 * `maxReceiveCount`, all timed by the test's clock. Stricter than SQS in one place, on purpose: a
 * stale receipt handle is refused for DeleteMessage too (SQS may accept it and not delete), which the
 * Queue contract asks of every adapter; the application never relies on either behaviour.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { Clock } from '../../../shared/ports/clock.ts';
import type { QueueLocation } from '../../../shared/adapters/aws/sqs-queue.ts';

interface Stored {
  id: string;
  body: string;
  sentAt: number;
  seq: number;
  visibleAt: number;
  receiveCount: number;
  handle: string | null;
}

const sqsError = (name: string, message: string) => Object.assign(new Error(message), { name, $fault: 'client' });

export class FakeSqs {
  private readonly queues = new Map<string, Stored[]>();
  private seq = 0;
  /** Every call the fake served, by command name (for assertions on batch sizes and the like). */
  readonly calls: string[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly maxReceiveCount: number,
  ) {}

  location(name: string): QueueLocation {
    return { url: `https://sqs.fake.local/000000000000/${name}`, dlqUrl: `https://sqs.fake.local/000000000000/${name}-dlq` };
  }

  /** A real SQSClient whose every call this fake answers. */
  client(): SQSClient {
    const client = new SQSClient({ region: 'cn-northwest-1', credentials: { accessKeyId: 'fake', secretAccessKey: 'fake' } });
    const m = mockClient(client);
    m.on(SendMessageCommand).callsFake((i) => this.send(i.QueueUrl!, i.MessageBody!, i.DelaySeconds ?? 0));
    m.on(ReceiveMessageCommand).callsFake((i) => this.receive(i.QueueUrl!, i.MaxNumberOfMessages ?? 1, i.VisibilityTimeout ?? 30));
    m.on(ChangeMessageVisibilityCommand).callsFake((i) => this.changeVisibility(i.QueueUrl!, i.ReceiptHandle!, i.VisibilityTimeout!));
    m.on(DeleteMessageCommand).callsFake((i) => this.delete(i.QueueUrl!, i.ReceiptHandle!));
    m.on(GetQueueAttributesCommand).callsFake((i) => this.attributes(i.QueueUrl!));
    return client;
  }

  private q(url: string): Stored[] {
    let q = this.queues.get(url);
    if (!q) this.queues.set(url, (q = []));
    return q;
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  send(url: string, body: string, delaySeconds: number) {
    this.calls.push('SendMessage');
    const now = this.now();
    const id = randomUUID();
    this.q(url).push({ id, body, sentAt: now, seq: this.seq++, visibleAt: now + delaySeconds * 1000, receiveCount: 0, handle: null });
    return { MessageId: id };
  }

  receive(url: string, max: number, visibility: number): { Messages?: SqsMessage[] } {
    this.calls.push('ReceiveMessage');
    const now = this.now();
    const q = this.q(url);
    const ready = q.filter((m) => m.visibleAt <= now).sort((a, b) => a.sentAt - b.sentAt || a.seq - b.seq);
    const out: SqsMessage[] = [];
    for (const m of ready) {
      if (out.length >= max) break;
      if (m.receiveCount >= this.maxReceiveCount) {
        // Redrive policy: moved to the DLQ instead of being delivered again.
        q.splice(q.indexOf(m), 1);
        this.q(`${url}-dlq`).push({ ...m, handle: null });
        continue;
      }
      m.receiveCount++;
      m.handle = `${m.id}.${randomBytes(12).toString('base64url')}`;
      m.visibleAt = now + visibility * 1000;
      out.push({
        MessageId: m.id,
        ReceiptHandle: m.handle,
        Body: m.body,
        Attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(m.sentAt) },
      });
    }
    return out.length ? { Messages: out } : {};
  }

  private byHandle(url: string, handle: string): { m: Stored | undefined; known: boolean } {
    const id = handle.split('.')[0] ?? '';
    if (!/^[0-9a-f-]{36}$/.test(id)) throw sqsError('ReceiptHandleIsInvalid', 'The receipt handle is not valid.');
    const m = this.q(url).find((x) => x.id === id);
    return { m, known: !!m };
  }

  changeVisibility(url: string, handle: string, visibility: number) {
    this.calls.push('ChangeMessageVisibility');
    const { m } = this.byHandle(url, handle);
    if (!m || m.handle !== handle || m.visibleAt <= this.now()) throw sqsError('MessageNotInflight', 'The message is not in flight.');
    m.visibleAt = this.now() + visibility * 1000;
    return {};
  }

  delete(url: string, handle: string) {
    this.calls.push('DeleteMessage');
    const { m } = this.byHandle(url, handle);
    if (!m) return {}; // already deleted (or moved): SQS answers success
    if (m.handle !== handle) throw sqsError('ReceiptHandleIsInvalid', 'The receipt handle has expired.');
    const q = this.q(url);
    q.splice(q.indexOf(m), 1);
    return {};
  }

  attributes(url: string) {
    this.calls.push('GetQueueAttributes');
    const now = this.now();
    const q = this.q(url);
    return {
      Attributes: {
        ApproximateNumberOfMessages: String(q.filter((m) => m.visibleAt <= now).length),
        ApproximateNumberOfMessagesNotVisible: String(q.filter((m) => m.visibleAt > now && m.receiveCount > 0).length),
      },
    };
  }
}
