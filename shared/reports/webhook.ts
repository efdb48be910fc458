/**
 * Delivery of notifications to a clinic's webhook: the in-app inbox first (always), then, for a
 * clinic with `webhook: {url, secret}` in the consortium, a job on a queue with SQS semantics. A
 * consumer POSTs the notification (ids only, never PHI) signed with HMAC-SHA256, retries with growing
 * back-off while the receiver fails, and the queue dead-letters the job after `maxReceiveCount`.
 *
 * Signature (Stripe-like): `x-teleread-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`;
 * `x-teleread-delivery: <id>` is the same for every retry of one notification, so receivers can drop duplicates.
 *
 * Ports only (Queue, Directory, Notifier, Clock): the local runtime runs `WebhookWorker` over a SQLite
 * queue; on AWS an SQS-triggered function can call `deliver(job)` per record and let SQS retry/dead-letter.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../ports/clock.ts';
import type { Directory } from '../ports/directory.ts';
import type { Logger } from '../ports/logger.ts';
import type { Notification, Notifier } from '../ports/notifier.ts';
import type { Queue } from '../ports/queue.ts';

export const WEBHOOK_QUEUE = 'webhook';
export const SIGNATURE_HEADER = 'x-teleread-signature';
export const DELIVERY_HEADER = 'x-teleread-delivery';

export interface WebhookJob {
  type: 'webhook';
  deliveryId: string;
  clinicId: string;
  notification: Notification;
}

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** For receivers (and tests): true when `header` signs `body` with `secret` within `toleranceSeconds` of `now`. */
export function verifyWebhookSignature(secret: string, body: string, header: string | null | undefined, now = new Date(), toleranceSeconds = 300): boolean {
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return false;
  const want = Buffer.from(signWebhook(secret, t, body).split('v1=')[1]!, 'hex');
  return timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
}

/** The in-app inbox plus a webhook job for clinics that have a webhook. */
export class WebhookNotifier implements Notifier {
  constructor(
    private readonly inbox: Notifier,
    private readonly queue: Queue<WebhookJob>,
    private readonly directory: Directory,
    private readonly onQueued: () => void = () => {},
  ) {}

  async notify(n: Notification): Promise<void> {
    await this.inbox.notify(n);
    const clinicId = n.to.clinicId;
    if (!clinicId || !this.directory.consortium().clinics.find((c) => c.id === clinicId)?.webhook) return;
    await this.queue.send(WEBHOOK_QUEUE, { type: 'webhook', deliveryId: randomUUID(), clinicId, notification: n });
    this.onQueued();
  }

  list(to: { clinicId?: string; userId?: string }, limit: number): Promise<Notification[]> {
    return this.inbox.list(to, limit);
  }
}

export interface WebhookWorkerOptions {
  clock: Clock;
  log: Logger;
  fetch?: typeof fetch;
  /** Seconds a job stays invisible while one attempt runs. */
  attemptTimeoutSeconds?: number;
  /** Seconds to wait before attempt `n + 1` after attempt `n` failed (default 5 · 2^(n-1), at most 15 min). */
  backoffSeconds?: (attempt: number) => number;
  idleMs?: number;
}

/** Consumes the webhook queue: one POST per job; failure leaves the job for a later retry or the dead-letter queue. */
export class WebhookWorker {
  private running = false;
  private loopDone: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private readonly fetch: typeof fetch;
  private readonly attemptTimeout: number;
  private readonly backoff: (attempt: number) => number;

  constructor(
    private readonly queue: Queue<WebhookJob>,
    private readonly directory: Directory,
    private readonly opts: WebhookWorkerOptions,
  ) {
    this.fetch = opts.fetch ?? fetch;
    this.attemptTimeout = opts.attemptTimeoutSeconds ?? 30;
    this.backoff = opts.backoffSeconds ?? ((n) => Math.min(900, 5 * 2 ** (n - 1)));
  }

  /** One POST. Throws when the receiver does not answer 2xx (or the clinic has no webhook any more: then it is dropped). */
  async deliver(job: WebhookJob): Promise<'delivered' | 'dropped'> {
    const hook = this.directory.consortium().clinics.find((c) => c.id === job.clinicId)?.webhook;
    if (!hook) return 'dropped';
    const body = JSON.stringify({ id: job.deliveryId, ...job.notification });
    const t = Math.floor(this.opts.clock.now().getTime() / 1000);
    const res = await this.fetch(hook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(hook.secret, t, body), [DELIVERY_HEADER]: job.deliveryId },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(Math.max(1, this.attemptTimeout - 1) * 1000),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new Error(`webhook answered HTTP ${res.status}`);
    return 'delivered';
  }

  /** Receive and attempt at most one job; true when there was one. */
  async runOnce(): Promise<boolean> {
    const [m] = await this.queue.receive([WEBHOOK_QUEUE], { visibilityTimeoutSeconds: this.attemptTimeout, max: 1 });
    if (!m) return false;
    try {
      const outcome = await this.deliver(m.body);
      await this.queue.delete(m.queue, m.receipt);
      this.opts.log.info('webhook delivered', { clinicId: m.body.clinicId, caseId: m.body.notification.caseId, kind: m.body.notification.kind, outcome, attempt: m.receiveCount });
    } catch (e) {
      const delay = Math.max(0, Math.min(43_200, Math.round(this.backoff(m.receiveCount))));
      await this.queue.changeVisibility(m.queue, m.receipt, delay).catch(() => undefined);
      this.opts.log.warn('webhook attempt failed; will retry', {
        clinicId: m.body.clinicId,
        caseId: m.body.notification.caseId,
        attempt: m.receiveCount,
        retryInSeconds: delay,
        error: (e as Error)?.message?.slice(0, 200),
      });
    }
    return true;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let got = false;
      try {
        got = await this.runOnce();
      } catch (e) {
        this.opts.log.error('webhook queue receive failed', { error: (e as { code?: string })?.code });
      }
      if (!got && this.running) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.opts.idleMs ?? 1000);
          this.wakeUp = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wakeUp = null;
      }
    }
  }
}
