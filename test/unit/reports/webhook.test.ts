/**
 * Delivery to the clinic's webhook (issue 7): HMAC-signed POST to a loopback receiver, retries with
 * back-off from the queue while the receiver fails, dead letter after maxReceiveCount, in-app inbox always.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../../shared/adapters/local/sqlite.ts';
import { SqliteNotifier } from '../../../shared/adapters/local/sqlite-notifier.ts';
import { SqliteQueue } from '../../../shared/adapters/local/sqlite-queue.ts';
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  verifyWebhookSignature,
  WEBHOOK_QUEUE,
  WebhookNotifier,
  WebhookWorker,
  type WebhookJob,
} from '../../../shared/reports/webhook.ts';
import type { Consortium } from '../../../shared/contracts/consortium.ts';
import type { Directory } from '../../../shared/ports/directory.ts';

const SECRET = 'clinic-a-webhook-secret-0123456789';
const silent = { info() {}, warn() {}, error() {} };

interface Received {
  body: string;
  signature: string | undefined;
  delivery: string | undefined;
}

describe('webhook delivery with HMAC, retries and dead letter', () => {
  let server: Server;
  let url: string;
  let received: Received[];
  let answers: number[];
  let t: number;
  const clock = { now: () => new Date(t) };
  let db: ReturnType<typeof openSqlite>;
  let queue: SqliteQueue<WebhookJob>;
  let notifier: WebhookNotifier;
  let worker: WebhookWorker;

  const directory = (hookUrl: () => string): Directory => ({
    consortium: () =>
      ({
        name: '示范县医共体',
        county: { id: 'county', name: '县医院' },
        clinics: [
          { id: 'clinic-a', name: 'A', webhook: { url: hookUrl(), secret: SECRET } },
          { id: 'clinic-b', name: 'B' },
        ],
        pools: [{ id: 'ecg', name: 'ECG' }],
        routing: {},
        users: [],
      }) as Consortium,
    findUserByUsername: async () => null,
    getUser: async () => null,
  });

  beforeEach(async () => {
    received = [];
    answers = [];
    t = Date.parse('2026-11-23T01:00:00Z');
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        received.push({ body, signature: req.headers[SIGNATURE_HEADER] as string | undefined, delivery: req.headers[DELIVERY_HEADER] as string | undefined });
        res.statusCode = answers.shift() ?? 200;
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/teleread`;
    db = openSqlite(':memory:');
    queue = new SqliteQueue<WebhookJob>(db, 'job_queue', { clock, maxReceiveCount: 4 });
    const dir = directory(() => url);
    notifier = new WebhookNotifier(new SqliteNotifier(db), queue, dir);
    worker = new WebhookWorker(queue, dir, { clock, log: silent, backoffSeconds: (n) => 10 * n });
  });
  afterEach(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    db.close();
  });

  const note = { to: { clinicId: 'clinic-a' }, kind: 'report.delivered' as const, caseId: 'case-ABCDEFGH', at: '2026-11-23T01:00:00.000Z', version: 1 };

  it('posts the notification (ids only) signed with the clinic secret; the inbox has it too', async () => {
    await notifier.notify(note);
    expect(await worker.runOnce()).toBe(true);
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(JSON.parse(r.body)).toMatchObject({ caseId: 'case-ABCDEFGH', kind: 'report.delivered', version: 1, id: r.delivery });
    expect(verifyWebhookSignature(SECRET, r.body, r.signature, clock.now())).toBe(true);
    // A changed body, another secret or a stale timestamp does not verify.
    expect(verifyWebhookSignature(SECRET, r.body.replace('case-ABCDEFGH', 'case-ZZZZZZZZ'), r.signature, clock.now())).toBe(false);
    expect(verifyWebhookSignature('another-secret-0123456789', r.body, r.signature, clock.now())).toBe(false);
    expect(verifyWebhookSignature(SECRET, r.body, r.signature, new Date(t + 3600_000))).toBe(false);
    expect(await queue.depth(WEBHOOK_QUEUE)).toEqual({ visible: 0, inFlight: 0, dead: 0 });
    expect((await notifier.list({ clinicId: 'clinic-a' }, 10)).map((n) => n.caseId)).toEqual(['case-ABCDEFGH']);
  });

  it('a clinic without a webhook gets the in-app notice only', async () => {
    await notifier.notify({ ...note, to: { clinicId: 'clinic-b' } });
    expect(await worker.runOnce()).toBe(false);
    expect(received).toHaveLength(0);
    expect(await notifier.list({ clinicId: 'clinic-b' }, 10)).toHaveLength(1);
  });

  it('retries with back-off while the receiver fails, then delivers once; retries carry the same delivery id', async () => {
    answers = [500, 503];
    await notifier.notify(note);
    expect(await worker.runOnce()).toBe(true); // attempt 1: 500
    expect(await worker.runOnce()).toBe(false); // backing off (10 s)
    t += 10_000;
    expect(await worker.runOnce()).toBe(true); // attempt 2: 503
    t += 19_000;
    expect(await worker.runOnce()).toBe(false); // back-off after attempt 2 is 20 s
    t += 1_000;
    expect(await worker.runOnce()).toBe(true); // attempt 3: 200
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.delivery)).size).toBe(1);
    expect(received.every((r) => verifyWebhookSignature(SECRET, r.body, r.signature, clock.now()))).toBe(true);
    expect(await queue.depth(WEBHOOK_QUEUE)).toEqual({ visible: 0, inFlight: 0, dead: 0 });
  });

  it('a receiver that never succeeds sends the job to the dead-letter queue after maxReceiveCount attempts', async () => {
    answers = Array(10).fill(500);
    await notifier.notify({ ...note, kind: 'report.critical' });
    for (let i = 0; i < 8; i++) {
      await worker.runOnce();
      t += 3600_000;
    }
    expect(received).toHaveLength(4);
    expect(await queue.depth(WEBHOOK_QUEUE)).toEqual({ visible: 0, inFlight: 0, dead: 1 });
    const [dead] = await queue.deadLetters(WEBHOOK_QUEUE);
    expect(dead!.body.notification).toMatchObject({ caseId: 'case-ABCDEFGH', kind: 'report.critical' });
    // An operator redrives it once the receiver is fixed.
    answers = [];
    expect(await queue.redrive(WEBHOOK_QUEUE)).toBe(1);
    expect(await worker.runOnce()).toBe(true);
    expect(received).toHaveLength(5);
    expect(await queue.depth(WEBHOOK_QUEUE)).toEqual({ visible: 0, inFlight: 0, dead: 0 });
  });

  it('an unreachable receiver is retried like a failing one', async () => {
    await new Promise<void>((r) => server.close(() => r()));
    server = createServer().listen(0, '127.0.0.1');
    url = 'http://127.0.0.1:9/unreachable';
    await notifier.notify(note);
    expect(await worker.runOnce()).toBe(true);
    expect((await queue.depth(WEBHOOK_QUEUE)).inFlight).toBe(1);
  });
});
