import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../shared/ports/clock.ts';
import type { Queue } from '../../shared/ports/queue.ts';
import { expectAppError } from './support/expect-error.ts';
import { ManualClock } from './support/manual-clock.ts';

type Body = { caseId: string; n?: number };

export interface QueueFixture {
  queue: Queue<Body>;
  /** Another client on the same queues (another connection), for racing receivers; optional. */
  connect?: () => Promise<Queue<Body>>;
  cleanup(): Promise<void>;
}

export interface QueueFixtureOptions {
  /** The adapter must use this clock for every time comparison. */
  clock: Clock;
  maxReceiveCount: number;
}

const VIS = 60;

/** The Queue port's contract (SQS semantics); run on every adapter (SQLite tables, SQS). */
export function queueContract(name: string, make: (opts: QueueFixtureOptions) => Promise<QueueFixture>): void {
  describe(`Queue contract: ${name}`, () => {
    let f: QueueFixture;
    let q: Queue<Body>;
    let clock: ManualClock;
    beforeEach(async () => {
      clock = new ManualClock('2026-02-01T10:00:00.000Z');
      f = await make({ clock, maxReceiveCount: 3 });
      q = f.queue;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    it('delivers what was sent, with a receipt, a receive count and the send time', async () => {
      expect(await q.receive(['ecg.routine'], { visibilityTimeoutSeconds: VIS })).toEqual([]);
      const { messageId } = await q.send('ecg.routine', { caseId: 'case-1' });
      expect(typeof messageId).toBe('string');
      const [m, ...rest] = await q.receive(['ecg.routine'], { visibilityTimeoutSeconds: VIS });
      expect(rest).toEqual([]);
      expect(m).toMatchObject({
        messageId,
        queue: 'ecg.routine',
        body: { caseId: 'case-1' },
        receiveCount: 1,
        sentAt: '2026-02-01T10:00:00.000Z',
      });
      expect(typeof m!.receipt).toBe('string');
      expect(m!.receipt.length).toBeGreaterThan(8);
    });

    it('hides a received message for the visibility timeout, then delivers it again with a new receipt', async () => {
      await q.send('ecg.routine', { caseId: 'case-1' });
      const [first] = await q.receive(['ecg.routine'], { visibilityTimeoutSeconds: VIS });
      expect(await q.depth('ecg.routine')).toEqual({ visible: 0, inFlight: 1, dead: 0 });
      clock.advanceSeconds(VIS - 1);
      expect(await q.receive(['ecg.routine'], { visibilityTimeoutSeconds: VIS })).toEqual([]);
      clock.advanceSeconds(1);
      expect(await q.depth('ecg.routine')).toEqual({ visible: 1, inFlight: 0, dead: 0 });
      const [second] = await q.receive(['ecg.routine'], { visibilityTimeoutSeconds: VIS });
      expect(second?.messageId).toBe(first?.messageId);
      expect(second?.receiveCount).toBe(2);
      expect(second?.receipt).not.toBe(first?.receipt);
    });

    it('refuses a stale receipt (the message was received again since) for delete and changeVisibility', async () => {
      await q.send('ecg.routine', { caseId: 'case-1' });
      const [first] = await q.receive(['ecg.routine'], { visibilityTimeoutSeconds: VIS });
      clock.advanceSeconds(VIS);
      const [second] = await q.receive(['ecg.routine'], { visibilityTimeoutSeconds: VIS });
      await expectAppError(q.delete('ecg.routine', first!.receipt), 'QUEUE.RECEIPT_INVALID');
      await expectAppError(q.changeVisibility('ecg.routine', first!.receipt, 600), 'QUEUE.RECEIPT_INVALID');
      // The stale attempts changed nothing: the current holder still owns it.
      expect(await q.depth('ecg.routine')).toEqual({ visible: 0, inFlight: 1, dead: 0 });
      await q.changeVisibility('ecg.routine', second!.receipt, 600);
      await q.delete('ecg.routine', second!.receipt);
      expect(await q.depth('ecg.routine')).toEqual({ visible: 0, inFlight: 0, dead: 0 });
    });

    it('refuses a malformed receipt or one of another queue', async () => {
      await q.send('ecg.routine', { caseId: 'case-1' });
      const [m] = await q.receive(['ecg.routine'], { visibilityTimeoutSeconds: VIS });
      await expectAppError(q.delete('ecg.routine', 'garbage'), 'QUEUE.RECEIPT_INVALID');
      await expectAppError(q.changeVisibility('ecg.stat', m!.receipt, 10), 'QUEUE.RECEIPT_INVALID');
      await expectAppError(q.delete('ecg.stat', m!.receipt), 'QUEUE.RECEIPT_INVALID');
      expect(await q.depth('ecg.routine')).toEqual({ visible: 0, inFlight: 1, dead: 0 });
    });

    it('delete removes the message for good; deleting again is harmless', async () => {
      await q.send('jobs', { caseId: 'case-1' });
      const [m] = await q.receive(['jobs'], { visibilityTimeoutSeconds: VIS });
      await q.delete('jobs', m!.receipt);
      await q.delete('jobs', m!.receipt);
      clock.advanceSeconds(VIS * 10);
      expect(await q.receive(['jobs'], { visibilityTimeoutSeconds: VIS })).toEqual([]);
      expect(await q.depth('jobs')).toEqual({ visible: 0, inFlight: 0, dead: 0 });
    });

    it('changeVisibility extends the lease, and 0 makes the message visible now', async () => {
      await q.send('ecg.routine', { caseId: 'case-1' });
      const [m] = await q.receive(['ecg.routine'], { visibilityTimeoutSeconds: VIS });
      clock.advanceSeconds(VIS - 5);
      await q.changeVisibility('ecg.routine', m!.receipt, 120); // heartbeat
      clock.advanceSeconds(119);
      expect(await q.receive(['ecg.routine'], { visibilityTimeoutSeconds: VIS })).toEqual([]);
      await q.changeVisibility('ecg.routine', m!.receipt, 0); // release
      const [again] = await q.receive(['ecg.routine'], { visibilityTimeoutSeconds: VIS });
      expect(again?.messageId).toBe(m!.messageId);
      expect(again?.receiveCount).toBe(2);
    });

    it('dead-letters a message after maxReceiveCount receives instead of delivering it again', async () => {
      await q.send('ingest', { caseId: 'poison' });
      for (let i = 1; i <= 3; i++) {
        const [m] = await q.receive(['ingest'], { visibilityTimeoutSeconds: VIS });
        expect(m?.receiveCount).toBe(i);
        clock.advanceSeconds(VIS);
      }
      expect(await q.receive(['ingest'], { visibilityTimeoutSeconds: VIS })).toEqual([]);
      expect(await q.depth('ingest')).toEqual({ visible: 0, inFlight: 0, dead: 1 });
      clock.advanceSeconds(3600);
      expect(await q.receive(['ingest'], { visibilityTimeoutSeconds: VIS })).toEqual([]);
    });

    it('a dead-lettered message does not hold back the next one', async () => {
      await q.send('ingest', { caseId: 'poison' });
      for (let i = 0; i < 3; i++) {
        await q.receive(['ingest'], { visibilityTimeoutSeconds: VIS });
        clock.advanceSeconds(VIS);
      }
      await q.send('ingest', { caseId: 'good' });
      const got = await q.receive(['ingest'], { visibilityTimeoutSeconds: VIS, max: 10 });
      expect(got.map((m) => m.body.caseId)).toEqual(['good']);
      expect((await q.depth('ingest')).dead).toBe(1);
    });

    it('delaySeconds keeps a new message invisible until the delay has passed', async () => {
      await q.send('delivery', { caseId: 'case-1' }, { delaySeconds: 30 });
      expect((await q.depth('delivery')).visible).toBe(0);
      clock.advanceSeconds(29);
      expect(await q.receive(['delivery'], { visibilityTimeoutSeconds: VIS })).toEqual([]);
      clock.advanceSeconds(1);
      const [m] = await q.receive(['delivery'], { visibilityTimeoutSeconds: VIS });
      expect(m?.body).toEqual({ caseId: 'case-1' });
      expect(m?.receiveCount).toBe(1);
    });

    it('tries queues in the given order (STAT before URGENT before ROUTINE), oldest first within one', async () => {
      await q.send('ecg.routine', { caseId: 'r1' });
      clock.advanceSeconds(1);
      await q.send('ecg.urgent', { caseId: 'u1' });
      clock.advanceSeconds(1);
      await q.send('ecg.routine', { caseId: 'r2' });
      clock.advanceSeconds(1);
      await q.send('ecg.stat', { caseId: 's1' });
      clock.advanceSeconds(1);
      await q.send('ecg.urgent', { caseId: 'u2' });
      await q.send('radiography.stat', { caseId: 'other-pool' });
      const order = ['ecg.stat', 'ecg.urgent', 'ecg.routine'];
      const got: string[] = [];
      for (;;) {
        const [m] = await q.receive(order, { visibilityTimeoutSeconds: VIS });
        if (!m) break;
        got.push(m.body.caseId);
      }
      expect(got).toEqual(['s1', 'u1', 'u2', 'r1', 'r2']);
      expect((await q.depth('radiography.stat')).visible).toBe(1);
    });

    it('a batch receive fills from the queues in order, up to max', async () => {
      for (let i = 0; i < 4; i++) {
        await q.send('ecg.routine', { caseId: `r${i}`, n: i });
        clock.advanceMs(10);
      }
      await q.send('ecg.stat', { caseId: 's0' });
      const batch = await q.receive(['ecg.stat', 'ecg.urgent', 'ecg.routine'], { visibilityTimeoutSeconds: VIS, max: 3 });
      expect(batch.map((m) => m.body.caseId)).toEqual(['s0', 'r0', 'r1']);
      expect(batch.map((m) => m.queue)).toEqual(['ecg.stat', 'ecg.routine', 'ecg.routine']);
      const rest = await q.receive(['ecg.stat', 'ecg.urgent', 'ecg.routine'], { visibilityTimeoutSeconds: VIS, max: 10 });
      expect(rest.map((m) => m.body.caseId)).toEqual(['r2', 'r3']);
    });

    it('depth counts visible, in-flight and dead per queue', async () => {
      for (let i = 0; i < 5; i++) await q.send('jobs', { caseId: `c${i}` });
      await q.send('other', { caseId: 'x' });
      await q.receive(['jobs'], { visibilityTimeoutSeconds: VIS, max: 2 });
      expect(await q.depth('jobs')).toEqual({ visible: 3, inFlight: 2, dead: 0 });
      expect(await q.depth('other')).toEqual({ visible: 1, inFlight: 0, dead: 0 });
      expect(await q.depth('empty')).toEqual({ visible: 0, inFlight: 0, dead: 0 });
    });

    it('50 concurrent receivers on one message: exactly one gets it', async () => {
      await q.send('ecg.stat', { caseId: 'case-1' });
      const clients = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => (f.connect && i % 5 !== 0 ? await f.connect() : q)),
      );
      const results = await Promise.all(
        clients.map((c) => c.receive(['ecg.stat', 'ecg.urgent', 'ecg.routine'], { visibilityTimeoutSeconds: VIS })),
      );
      expect(results.flat()).toHaveLength(1);
      expect(results.flat()[0]?.body).toEqual({ caseId: 'case-1' });
    });

    it('many receivers on many messages: each message delivered to exactly one receiver', async () => {
      for (let i = 0; i < 40; i++) await q.send('ingest', { caseId: `c${i}`, n: i });
      const clients = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => (f.connect && i % 2 ? await f.connect() : q)),
      );
      const results = await Promise.all(
        clients.map((c, i) => c.receive(['ingest'], { visibilityTimeoutSeconds: VIS, max: (i % 3) + 1 })),
      );
      const ids = results.flat().map((m) => m.body.n);
      expect(ids).toHaveLength(40);
      expect(new Set(ids).size).toBe(40);
    });

    it('refuses arguments SQS would refuse', async () => {
      await expectAppError(q.send('jobs', { caseId: 'x' }, { delaySeconds: -1 }), 'QUEUE.INVALID_ARGUMENT', 'invalid');
      await expectAppError(q.receive(['jobs'], { visibilityTimeoutSeconds: -1 }), 'QUEUE.INVALID_ARGUMENT', 'invalid');
      await expectAppError(q.receive(['jobs'], { visibilityTimeoutSeconds: 10, max: 11 }), 'QUEUE.INVALID_ARGUMENT', 'invalid');
      await expectAppError(q.receive(['jobs'], { visibilityTimeoutSeconds: 10, max: 0 }), 'QUEUE.INVALID_ARGUMENT', 'invalid');
    });
  });
}
