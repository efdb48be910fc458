import { randomBytes, randomUUID } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { AppError } from '../../domain/errors.ts';
import { systemClock, type Clock } from '../../ports/clock.ts';
import type { JobMessage, Message, Queue, ReadMessage } from '../../ports/queue.ts';
import { durable } from './sqlite.ts';

/** The queue tables created by the migrations in sqlite.ts; one per kind. */
export type SqliteQueueTable = 'read_queue' | 'job_queue';
const TABLES: readonly SqliteQueueTable[] = ['read_queue', 'job_queue'];

export interface SqliteQueueOptions {
  /** Every time comparison uses this clock, so tests can move time. Default: the system clock. */
  clock?: Clock;
  /** Receives after which a message is dead-lettered instead of delivered again (as SQS's redrive policy). Default 5. */
  maxReceiveCount?: number;
  /**
   * A receive that returns messages first waits until every commit made before it is on disk. For a
   * consumer whose first act leaves the machine (the webhook POST): a message sent inside a unit of
   * work is visible before the unit's fsync, and nothing may go out that a power loss could take back.
   */
  durableReceive?: boolean;
}

interface Row {
  id: string;
  queue: string;
  body: string;
  sent_at: string;
  visible_at: number;
  receive_count: number;
  receipt: string | null;
  dead: number;
}

/** SQS limits, kept locally so code that works here works on AWS. */
const MAX_BATCH = 10;
const MAX_VISIBILITY_S = 43_200;
const MAX_DELAY_S = 900;

const receiptInvalid = (why: string) =>
  new AppError('QUEUE.RECEIPT_INVALID', 'conflict', `The receipt is no longer valid: ${why}.`);

function checkSeconds(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new AppError('QUEUE.INVALID_ARGUMENT', 'invalid', `${name} must be an integer from 0 to ${max}.`);
  }
}

/**
 * Queue<T> with SQS semantics on a SQLite table: at-least-once delivery, visibility timeout, receive
 * count, dead-lettering (`dead = 1`) after `maxReceiveCount`, receipts that go stale on re-receive.
 * `receive` runs in one BEGIN IMMEDIATE transaction, so several processes may share the file.
 *
 * Receipts are `<messageId>.<random>`: deleting a message that is already gone succeeds (as SQS does),
 * while a receipt from an earlier receive of a message still present is refused.
 */
export class SqliteQueue<T> implements Queue<T> {
  readonly table: SqliteQueueTable;
  private readonly clock: Clock;
  private readonly maxReceiveCount: number;
  private readonly durableReceive: boolean;
  private readonly st: {
    insert: Statement<unknown[]>;
    byDedup: Statement<[string, string], { id: string }>;
    pick: Statement<[string, number, number], Row>;
    deliver: Statement<[number, string, string]>;
    kill: Statement<[string]>;
    byId: Statement<[string], Row>;
    setVisible: Statement<[number, string, string]>;
    remove: Statement<[string, string]>;
    depth: Statement<[number, number, string], { visible: number; inFlight: number; dead: number }>;
    deadList: Statement<[string, number], Row>;
    redrive: Statement<[number, string]>;
  };
  private readonly receiveTx: (queues: readonly string[], vis: number, max: number) => Message<T>[];

  constructor(
    private readonly db: Database,
    table: SqliteQueueTable,
    opts: SqliteQueueOptions = {},
  ) {
    if (!TABLES.includes(table)) throw new Error(`unknown queue table ${String(table)}`);
    this.table = table;
    this.clock = opts.clock ?? systemClock;
    this.maxReceiveCount = opts.maxReceiveCount ?? 5;
    this.durableReceive = opts.durableReceive ?? false;
    if (!Number.isInteger(this.maxReceiveCount) || this.maxReceiveCount < 1) {
      throw new Error('maxReceiveCount must be a positive integer');
    }
    const t = table;
    this.st = {
      insert: db.prepare(
        `INSERT INTO ${t} (id, queue, body, sent_at, visible_at, receive_count, receipt, dead, dedup_id)
         VALUES (?, ?, ?, ?, ?, 0, NULL, 0, ?) ON CONFLICT DO NOTHING`,
      ),
      byDedup: db.prepare(`SELECT id FROM ${t} WHERE queue = ? AND dedup_id = ? AND dead = 0`),
      pick: db.prepare(
        `SELECT * FROM ${t} WHERE queue = ? AND dead = 0 AND visible_at <= ?
         ORDER BY sent_at, rowid LIMIT ?`,
      ),
      deliver: db.prepare(
        `UPDATE ${t} SET receive_count = receive_count + 1, visible_at = ?, receipt = ? WHERE id = ?`,
      ),
      kill: db.prepare(`UPDATE ${t} SET dead = 1, receipt = NULL WHERE id = ?`),
      byId: db.prepare(`SELECT * FROM ${t} WHERE id = ?`),
      setVisible: db.prepare(`UPDATE ${t} SET visible_at = ? WHERE id = ? AND receipt = ? AND dead = 0`),
      remove: db.prepare(`DELETE FROM ${t} WHERE id = ? AND receipt = ?`),
      depth: db.prepare(
        `SELECT
           COALESCE(SUM(dead = 0 AND visible_at <= ?), 0) AS visible,
           COALESCE(SUM(dead = 0 AND visible_at > ? AND receive_count > 0), 0) AS inFlight,
           COALESCE(SUM(dead = 1), 0) AS dead
         FROM ${t} WHERE queue = ?`,
      ),
      deadList: db.prepare(`SELECT * FROM ${t} WHERE queue = ? AND dead = 1 ORDER BY sent_at, rowid LIMIT ?`),
      redrive: db.prepare(`UPDATE ${t} SET dead = 0, receive_count = 0, receipt = NULL, visible_at = ? WHERE queue = ? AND dead = 1`),
    };

    const rx = db.transaction((queues: readonly string[], vis: number, max: number): Message<T>[] => {
      const now = this.clock.now().getTime();
      const out: Message<T>[] = [];
      for (const queue of queues) {
        while (out.length < max) {
          const rows = this.st.pick.all(queue, now, max - out.length);
          if (rows.length === 0) break;
          for (const r of rows) {
            if (r.receive_count + 1 > this.maxReceiveCount) {
              this.st.kill.run(r.id);
              continue;
            }
            const receipt = `${r.id}.${randomBytes(16).toString('base64url')}`;
            this.st.deliver.run(now + vis * 1000, receipt, r.id);
            out.push({
              messageId: r.id,
              queue: r.queue,
              body: JSON.parse(r.body) as T,
              receipt,
              receiveCount: r.receive_count + 1,
              sentAt: r.sent_at,
            });
          }
        }
        if (out.length >= max) break;
      }
      return out;
    });
    this.receiveTx = (queues, vis, max) => rx.immediate(queues, vis, max);
  }

  async send(queue: string, body: T, opts: { delaySeconds?: number; deduplicationId?: string } = {}): Promise<{ messageId: string }> {
    if (typeof queue !== 'string' || queue.length === 0) {
      throw new AppError('QUEUE.INVALID_ARGUMENT', 'invalid', 'A queue name is required.');
    }
    const delay = opts.delaySeconds ?? 0;
    checkSeconds('delaySeconds', delay, MAX_DELAY_S);
    const json = JSON.stringify(body);
    if (json === undefined) throw new AppError('QUEUE.INVALID_ARGUMENT', 'invalid', 'The message body must be JSON.');
    const now = this.clock.now();
    const messageId = randomUUID();
    const dedup = opts.deduplicationId ?? null;
    const info = this.st.insert.run(messageId, queue, json, now.toISOString(), now.getTime() + delay * 1000, dedup);
    await durable(this.db);
    if (info.changes === 0 && dedup !== null) {
      const live = this.st.byDedup.get(queue, dedup);
      if (live) return { messageId: live.id };
    }
    return { messageId };
  }

  async receive(
    queues: readonly string[],
    opts: { visibilityTimeoutSeconds: number; max?: number },
  ): Promise<Message<T>[]> {
    checkSeconds('visibilityTimeoutSeconds', opts.visibilityTimeoutSeconds, MAX_VISIBILITY_S);
    const max = opts.max ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > MAX_BATCH) {
      throw new AppError('QUEUE.INVALID_ARGUMENT', 'invalid', `max must be an integer from 1 to ${MAX_BATCH}.`);
    }
    if (queues.length === 0) return [];
    // Not awaited to disk: a receive lost with the machine's power only makes the message visible again.
    const got = this.receiveTx(queues, opts.visibilityTimeoutSeconds, max);
    if (this.durableReceive && got.length) await durable(this.db);
    return got;
  }

  /** The message a receipt names, if the receipt is still the latest one for it (else throws); null if the message is gone. */
  private current(queue: string, receipt: string): Row | null {
    const dot = typeof receipt === 'string' ? receipt.indexOf('.') : -1;
    if (dot <= 0) throw receiptInvalid('it is malformed');
    const row = this.st.byId.get(receipt.slice(0, dot));
    if (!row) return null;
    if (row.queue !== queue) throw receiptInvalid('it belongs to another queue');
    if (row.dead) throw receiptInvalid('the message was moved to the dead-letter queue');
    if (row.receipt !== receipt) throw receiptInvalid('the message was received again since');
    return row;
  }

  async changeVisibility(queue: string, receipt: string, visibilityTimeoutSeconds: number): Promise<void> {
    checkSeconds('visibilityTimeoutSeconds', visibilityTimeoutSeconds, MAX_VISIBILITY_S);
    const row = this.current(queue, receipt);
    if (!row) throw receiptInvalid('the message was deleted');
    const info = this.st.setVisible.run(this.clock.now().getTime() + visibilityTimeoutSeconds * 1000, row.id, receipt);
    if (info.changes === 0) throw receiptInvalid('the message was received again since');
    await durable(this.db);
  }

  async delete(queue: string, receipt: string): Promise<void> {
    const row = this.current(queue, receipt);
    if (!row) return; // already deleted: deleting again is a no-op, as on SQS
    const info = this.st.remove.run(row.id, receipt);
    if (info.changes === 0 && this.st.byId.get(row.id)) throw receiptInvalid('the message was received again since');
    await durable(this.db);
  }

  async depth(queue: string): Promise<{ visible: number; inFlight: number; dead: number }> {
    const now = this.clock.now().getTime();
    const r = this.st.depth.get(now, now, queue);
    return { visible: r?.visible ?? 0, inFlight: r?.inFlight ?? 0, dead: r?.dead ?? 0 };
  }

  /** Dead-lettered messages of a queue, oldest first (operators' view; not part of the port). */
  async deadLetters(queue: string, limit = 100): Promise<{ messageId: string; body: T; sentAt: string; receiveCount: number }[]> {
    return this.st.deadList.all(queue, limit).map((r) => ({
      messageId: r.id,
      body: JSON.parse(r.body) as T,
      sentAt: r.sent_at,
      receiveCount: r.receive_count,
    }));
  }

  /** Put a queue's dead-lettered messages back, visible now with a fresh receive count. Returns how many. */
  async redrive(queue: string): Promise<number> {
    const n = this.st.redrive.run(this.clock.now().getTime(), queue).changes;
    await durable(this.db);
    return n;
  }

  /**
   * Make every in-flight message of a queue visible now, invalidating its receipt: for a consumer
   * process that starts after a crash, whose predecessor's receives can no longer finish. Receive
   * counts stay, so a message that keeps killing its consumer is still dead-lettered.
   */
  async releaseInFlight(queue: string): Promise<number> {
    const now = this.clock.now().getTime();
    const n = this.db
      .prepare(`UPDATE ${this.table} SET visible_at = ?, receipt = NULL WHERE queue = ? AND dead = 0 AND receipt IS NOT NULL AND visible_at > ?`)
      .run(now, queue, now).changes;
    await durable(this.db);
    return n;
  }
}

/** The read queues `<pool>.<priority>` (ReadQueue port). */
export class SqliteReadQueue extends SqliteQueue<ReadMessage> {
  constructor(db: Database, opts: SqliteQueueOptions = {}) {
    super(db, 'read_queue', opts);
  }
}

/** Background jobs: ingest, delivery (JobQueue port). */
export class SqliteJobQueue extends SqliteQueue<JobMessage> {
  constructor(db: Database, opts: SqliteQueueOptions = {}) {
    super(db, 'job_queue', opts);
  }
}
