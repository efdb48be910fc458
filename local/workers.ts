import type { Deps } from '../shared/application/deps.ts';
import type { JobMessage, Queue } from '../shared/ports/queue.ts';

/**
 * An in-process consumer with SQS rules: receive with a visibility timeout, delete on success, leave
 * the message on failure so it is retried (and dead-lettered after maxReceiveCount).
 */
export class JobWorker {
  private running = false;
  private wakers: Array<() => void> = [];
  private loops: Promise<void>[] = [];

  constructor(
    private readonly deps: Pick<Deps, 'log'>,
    private readonly queue: Queue<JobMessage>,
    private readonly name: string,
    private readonly handle: (m: JobMessage) => Promise<void>,
    private readonly opts: { concurrency: number; visibilitySeconds: number; idleMs: number },
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < this.opts.concurrency; i++) this.loops.push(this.loop());
  }

  /** New work arrived: stop idling now instead of at the next poll. */
  wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let got = false;
      try {
        const [m] = await this.queue.receive([this.name], { visibilityTimeoutSeconds: this.opts.visibilitySeconds, max: 1 });
        if (m) {
          got = true;
          try {
            await this.handle(m.body);
            await this.queue.delete(m.queue, m.receipt);
          } catch (e) {
            const err = e as { name?: string; code?: string };
            this.deps.log.error('job failed; will retry', { queue: this.name, messageId: m.messageId, receiveCount: m.receiveCount, error: err?.code ?? err?.name });
          }
        }
      } catch (e) {
        this.deps.log.error('queue receive failed', { queue: this.name, error: (e as { code?: string })?.code });
      }
      if (!got && this.running) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.opts.idleMs);
          this.wakers.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    }
  }
}

/**
 * The job queue as the use cases see it, waking the in-process worker of a queue as soon as a message
 * is sent to it (the local stand-in for SQS long polling), so new work waits no idle interval.
 */
export class WakingQueue<T> implements Queue<T> {
  private readonly wakers = new Map<string, () => void>();
  constructor(private readonly inner: Queue<T>) {}

  onSend(queue: string, wake: () => void): void {
    this.wakers.set(queue, wake);
  }
  async send(queue: string, body: T, opts?: { delaySeconds?: number; deduplicationId?: string }) {
    const r = await this.inner.send(queue, body, opts);
    this.wakers.get(queue)?.();
    return r;
  }
  receive(queues: readonly string[], opts: { visibilityTimeoutSeconds: number; max?: number }) {
    return this.inner.receive(queues, opts);
  }
  changeVisibility(queue: string, receipt: string, seconds: number) {
    return this.inner.changeVisibility(queue, receipt, seconds);
  }
  delete(queue: string, receipt: string) {
    return this.inner.delete(queue, receipt);
  }
  depth(queue: string) {
    return this.inner.depth(queue);
  }
}

/**
 * Work started at once in this process with bounded concurrency, for what a durable record already
 * guards: uploads received here are ingested without the job-queue hop (three SQLite writes and two
 * fsyncs per file), since a crash loses nothing that the restart's reconcile does not find again
 * (every stored upload without an outcome gets an ingest job). A failure hands the item to
 * `onFail` (the job queue, so it is retried under the queue's rules).
 */
export class InProcessDispatcher<T> {
  private active = 0;
  private readonly waiting: T[] = [];
  private drained: Array<() => void> = [];

  constructor(
    private readonly run: (item: T) => Promise<void>,
    private readonly onFail: (item: T, error: unknown) => Promise<void>,
    private readonly concurrency: number,
  ) {}

  submit(item: T): void {
    this.waiting.push(item);
    this.pump();
  }

  /** Resolves when nothing is running or waiting (before the database closes). */
  drain(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private pump(): void {
    while (this.active < this.concurrency && this.waiting.length > 0) {
      const item = this.waiting.shift()!;
      this.active++;
      this.run(item)
        .catch((e: unknown) => this.onFail(item, e).catch(() => undefined))
        .finally(() => {
          this.active--;
          this.pump();
          if (this.active === 0 && this.waiting.length === 0) for (const f of this.drained.splice(0)) f();
        });
    }
  }
}
