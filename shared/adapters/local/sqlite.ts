import BetterSqlite3 from 'better-sqlite3';
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A better-sqlite3 connection. */
export type Database = BetterSqlite3.Database;
type Db = Database;

/** One numbered, forward-only schema step. Never edit a released step: add a new one. */
export interface Migration {
  version: number;
  sql: string;
}

/**
 * The local schema: one database file holds cases, instances, file outcomes, reports, both queue
 * kinds, the audit chain, sealed signer keys and the in-app inbox.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE cases (
        case_id          TEXT PRIMARY KEY,
        clinic_id        TEXT NOT NULL,
        status           TEXT NOT NULL,
        pool             TEXT,
        priority         TEXT NOT NULL,
        patient_id       TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        lease_expires_at TEXT,
        version          INTEGER NOT NULL,
        doc              TEXT NOT NULL
      ) STRICT;
      CREATE INDEX cases_by_created ON cases (created_at, case_id);
      CREATE INDEX cases_by_clinic ON cases (clinic_id, created_at, case_id);
      CREATE INDEX cases_by_status ON cases (status, created_at, case_id);
      CREATE INDEX cases_by_pool ON cases (pool, status, created_at, case_id);
      CREATE INDEX cases_by_patient ON cases (patient_id, created_at, case_id);
      CREATE INDEX cases_by_lease ON cases (lease_expires_at) WHERE status = 'CLAIMED';

      CREATE TABLE instances (
        sop_instance_uid TEXT PRIMARY KEY,
        case_id          TEXT NOT NULL,
        file_index       INTEGER NOT NULL,
        doc              TEXT NOT NULL
      ) STRICT;
      CREATE INDEX instances_by_case ON instances (case_id, file_index);

      CREATE TABLE file_outcomes (
        case_id    TEXT NOT NULL,
        file_index INTEGER NOT NULL,
        doc        TEXT NOT NULL,
        PRIMARY KEY (case_id, file_index)
      ) STRICT;

      CREATE TABLE report_drafts (
        case_id    TEXT PRIMARY KEY,
        updated_at TEXT NOT NULL,
        doc        TEXT NOT NULL
      ) STRICT;

      CREATE TABLE signed_reports (
        case_id   TEXT NOT NULL,
        version   INTEGER NOT NULL,
        signed_at TEXT NOT NULL,
        doc       TEXT NOT NULL,
        PRIMARY KEY (case_id, version)
      ) STRICT;
      CREATE TRIGGER signed_reports_no_update BEFORE UPDATE ON signed_reports
        BEGIN SELECT RAISE(ABORT, 'signed reports are never changed'); END;

      CREATE TABLE read_queue (
        id            TEXT PRIMARY KEY,
        queue         TEXT NOT NULL,
        body          TEXT NOT NULL,
        sent_at       TEXT NOT NULL,
        visible_at    INTEGER NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        receipt       TEXT,
        dead          INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE INDEX read_queue_pick ON read_queue (queue, dead, visible_at, sent_at);

      CREATE TABLE job_queue (
        id            TEXT PRIMARY KEY,
        queue         TEXT NOT NULL,
        body          TEXT NOT NULL,
        sent_at       TEXT NOT NULL,
        visible_at    INTEGER NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        receipt       TEXT,
        dead          INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE INDEX job_queue_pick ON job_queue (queue, dead, visible_at, sent_at);

      CREATE TABLE audit_log (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        at        TEXT NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        case_id   TEXT,
        detail    TEXT,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
      ) STRICT;
      CREATE INDEX audit_log_by_case ON audit_log (case_id, seq);
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

      CREATE TABLE signer_keys (
        signer_id  TEXT NOT NULL,
        kid        TEXT NOT NULL,
        created_at TEXT NOT NULL,
        doc        TEXT NOT NULL,
        PRIMARY KEY (signer_id, kid)
      ) STRICT;
      CREATE INDEX signer_keys_by_created ON signer_keys (signer_id, created_at);

      CREATE TABLE notifications (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        to_clinic_id TEXT,
        to_user_id   TEXT,
        to_role      TEXT,
        kind         TEXT NOT NULL,
        case_id      TEXT NOT NULL,
        at           TEXT NOT NULL,
        doc          TEXT NOT NULL
      ) STRICT;
      CREATE INDEX notifications_by_clinic ON notifications (to_clinic_id, seq);
      CREATE INDEX notifications_by_user ON notifications (to_user_id, seq);
    `,
  },
  {
    // Deduplication ids: a live message with the same id makes a second send a no-op.
    version: 2,
    sql: `
      ALTER TABLE read_queue ADD COLUMN dedup_id TEXT;
      ALTER TABLE job_queue ADD COLUMN dedup_id TEXT;
      CREATE UNIQUE INDEX read_queue_dedup ON read_queue (queue, dedup_id) WHERE dedup_id IS NOT NULL AND dead = 0;
      CREATE UNIQUE INDEX job_queue_dedup ON job_queue (queue, dedup_id) WHERE dedup_id IS NOT NULL AND dead = 0;
    `,
  },
  {
    // Counted attempts at a secret (signing PINs) and the lock-out they lead to.
    version: 3,
    sql: `
      CREATE TABLE attempts (
        subject      TEXT PRIMARY KEY,
        failures     INTEGER NOT NULL,
        locked_until TEXT
      );
    `,
  },
  {
    // A draft per (case, author): a case that passes to another reader (released, lease expired,
    // signing locked) no longer has its first reader's draft overwritten by the next one's. A row
    // without an author could never be read back (drafts were only ever shown to their author).
    version: 4,
    sql: `
      CREATE TABLE report_drafts_by_author (
        case_id    TEXT NOT NULL,
        author_id  TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        doc        TEXT NOT NULL,
        PRIMARY KEY (case_id, author_id)
      ) STRICT;
      INSERT INTO report_drafts_by_author (case_id, author_id, updated_at, doc)
        SELECT case_id, json_extract(doc, '$.authorId'), updated_at, doc FROM report_drafts
        WHERE json_valid(doc) AND json_extract(doc, '$.authorId') IS NOT NULL;
      DROP TABLE report_drafts;
    `,
  },
  {
    // Was, for a few commits of session 5, a clean-up of signed cases' drafts, withdrawn before any
    // release (it deleted other readers' drafts too). Kept as a no-op so that a data directory that
    // ran it and one that did not agree on what version 5 was.
    version: 5,
    sql: `SELECT 1;`,
  },
  {
    // One repair ingest job per stored upload (CaseRepository.markUploadRepaired): an upload whose
    // ingest keeps failing is not sent again on every sweep.
    version: 6,
    sql: `
      CREATE TABLE upload_repairs (
        case_id    TEXT NOT NULL,
        file_index INTEGER NOT NULL,
        at         TEXT NOT NULL,
        PRIMARY KEY (case_id, file_index)
      ) STRICT;
    `,
  },
];

/** Apply the migrations not yet recorded in `schema_migrations`, each in its own immediate transaction. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
  )`);
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const applied: number[] = [];
  const has = db.prepare<[number], { version: number }>('SELECT version FROM schema_migrations WHERE version = ?');
  const record = db.prepare<[number, string]>('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  for (const m of sorted) {
    // Checked again inside the write lock: another process may have applied it meanwhile.
    const step = db.transaction(() => {
      if (has.get(m.version)) return false;
      db.exec(m.sql);
      record.run(m.version, new Date().toISOString());
      return true;
    });
    if (step.immediate()) applied.push(m.version);
  }
  return applied;
}

export interface OpenSqliteOptions {
  /** How long a writer waits for another connection's lock before SQLITE_BUSY. Default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * Called once when an fsync of the WAL fails (code STORE.FSYNC_FAILED): from then on no write is
   * acknowledged. The runtime should stop; a restart's WAL recovery is the way back.
   */
  onFsyncFailure?: (e: Error) => void;
}

/**
 * Shared fsyncs of one database's WAL file, run on the libuv pool. Every caller waits for an fsync
 * that started after its call, so everything it committed before calling is on disk when it resumes;
 * callers that arrive while an fsync runs share the next one.
 */
class WalSync {
  private waiting: { done: () => void; fail: (e: unknown) => void }[] = [];
  private running = false;
  private scheduled = false;
  /** The WAL file stays open between fsyncs (an open and a close fewer per fsync). */
  private fh: FileHandle | null = null;
  /**
   * Counters for tests and the benchmark: durability waits writes asked for (`requests`), how many of
   * those a unit of work answered with its one fsync at its end (`deferred`), fsyncs run.
   */
  readonly stats = { requests: 0, deferred: 0, fsyncs: 0 };
  /**
   * Set by the first failed fsync, for good: Linux reports a write-back error once, so a later fsync on
   * a reopened file can succeed over pages that never reached the disk. Every later write then fails
   * instead of being acknowledged; a restart (SQLite's recovery) is the way back.
   */
  private broken: Error | null = null;
  /** Commits announced (every durable() call follows one), and how many of them an fsync has covered. */
  private commits = 0;
  private syncedThrough = 0;

  constructor(
    private readonly walFile: string,
    private readonly onFsyncFailure?: (e: Error) => void,
  ) {}

  /** A commit was made (its durability may be deferred to a unit of work). */
  committed(): void {
    this.commits++;
  }

  /** Some commit, by anyone, is not yet known to be on disk. */
  hasUnsynced(): boolean {
    return this.commits > this.syncedThrough;
  }

  request(): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((done, fail) => {
      this.waiting.push({ done, fail });
      if (this.running || this.scheduled) return;
      // Started a microtask later: the waits of one group commit, each made in its own caller's
      // context right after the commit, join one fsync instead of the first running alone.
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        if (!this.running && this.waiting.length) this.run();
      });
    });
  }

  private run(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.running = true;
    this.stats.fsyncs++;
    const upTo = this.commits;
    this.sync()
      .then(
        () => {
          this.syncedThrough = Math.max(this.syncedThrough, upTo);
          batch.forEach((w) => w.done());
        },
        (e: unknown) => batch.forEach((w) => w.fail(e)),
      )
      .finally(() => {
        this.running = false;
        if (this.broken) for (const w of this.waiting.splice(0)) w.fail(this.broken);
        else if (this.waiting.length) this.run();
      });
  }

  private async sync(): Promise<void> {
    if (!this.fh) {
      try {
        this.fh = await open(this.walFile, 'r');
      } catch (e) {
        // No WAL file: the last connection checkpointed and removed it, so every commit is in the
        // database file, which the checkpoint synced.
        if ((e as { code?: string }).code === 'ENOENT') return;
        throw e;
      }
    }
    const fh = this.fh;
    try {
      // fsync acts on the file, not the descriptor: it flushes the frames SQLite wrote through its own.
      await fh.sync();
    } catch (e) {
      this.fh = null;
      await fh.close().catch(() => undefined);
      // Only a failed fsync latches (not an open that failed for want of descriptors, say).
      if (!this.broken) {
        this.broken = Object.assign(
          new Error(`An fsync of the database's WAL failed (${(e as { code?: string })?.code ?? 'error'}): writes are refused until TeleRead restarts.`, { cause: e }),
          { code: 'STORE.FSYNC_FAILED' },
        );
        this.onFsyncFailure?.(this.broken);
      }
      throw e;
    }
  }

  /** Close the WAL file (the connection is closing); a later request opens it again. */
  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close().catch(() => undefined);
  }
}

const walSyncs = new WeakMap<Db, WalSync>();

/** A unit of work on one connection: `open` until its outermost run ends; `dirty` once a write deferred to it. */
interface Unit {
  open: boolean;
  dirty: boolean;
  /** Also wait for others' unsynced commits at the end (an idempotent replay inside). */
  answersFromStored: boolean;
}

/**
 * The units the current async context is inside, per connection. Async context, not a field on the
 * adapter: concurrent requests share the adapters, and only the one inside a unit may defer.
 */
const units = new AsyncLocalStorage<ReadonlyMap<Db, Unit>>();

/**
 * Resolves once every transaction this connection committed before the call is on disk. Each local
 * adapter awaits it before a write resolves, so a write that was acknowledged survives power loss.
 * Inside a unit of work (`durablyTogether`) on this connection it resolves at once: the unit's one
 * fsync at its end covers the write, before anything is acknowledged.
 * Connections not opened by `openSqlite` (in-memory test databases) are durable as far as they go.
 */
export function durable(db: Db): Promise<void> {
  const w = walSyncs.get(db);
  if (!w) return Promise.resolve();
  w.stats.requests++;
  w.committed();
  const unit = units.getStore()?.get(db);
  if (unit?.open) {
    unit.dirty = true;
    w.stats.deferred++;
    return Promise.resolve();
  }
  return w.request();
}

/**
 * Run `fn` as one unit of work on `db`: its writes' durability waits are deferred, and one WAL fsync
 * runs when it ends (resolve or throw), before this settles. WAL recovery keeps a prefix of the
 * commits, so an fsync after the last write makes every earlier one durable too. A run inside an
 * open unit of the same connection joins it; a unit that has ended (work it started outlived it) is
 * not joined, so late writes wait for their own fsync again.
 */
export async function durablyTogether<T>(db: Db, fn: () => Promise<T>, opts: { answersFromStored?: boolean } = {}): Promise<T> {
  const outer = units.getStore();
  const w = walSyncs.get(db);
  const joined = outer?.get(db);
  if (joined?.open) {
    // Nested: the outer unit settles for both, so it inherits the wait for others' writes.
    if (opts.answersFromStored) joined.answersFromStored = true;
    return fn();
  }
  if (!w) return fn();
  const unit: Unit = { open: true, dirty: false, answersFromStored: opts.answersFromStored === true };
  const scope = new Map(outer);
  scope.set(db, unit);
  let result: T;
  try {
    result = await units.run(scope, fn);
  } catch (e) {
    unit.open = false;
    // The writes made before the throw stand (nothing rolls back): on disk before the caller hears of it.
    if (unit.dirty) await w.request();
    throw e;
  }
  unit.open = false;
  // An idempotent replay may answer from another unit's writes: it waits for them too (opt-in, so
  // that read-only units do not queue behind others' fsyncs under load).
  if (unit.dirty || (unit.answersFromStored && w.hasUnsynced())) await w.request();
  return result;
}

/** How many durability waits (and of them deferred to a unit of work) and WAL fsyncs this connection has had (null: not a file database). */
export function durabilityStats(db: Db): { requests: number; deferred: number; fsyncs: number } | null {
  const w = walSyncs.get(db);
  return w ? { ...w.stats } : null;
}

/**
 * Open (creating if needed) the local database: WAL, busy_timeout, foreign keys, migrations.
 *
 * Durability: synchronous=NORMAL appends each commit to the WAL without an fsync, and the adapters
 * await `durable()` — one fsync of the WAL on the libuv pool, shared by every commit made before it —
 * before a write resolves (or a unit of work's one fsync, before the use case answers). WAL recovery
 * keeps a prefix of the commits, so an acknowledged write survives kill -9 and power loss as with
 * synchronous=FULL, while the event loop never blocks on the disk and concurrent writers share one
 * fsync instead of paying one each.
 */
export function openSqlite(file: string, opts: OpenSqliteOptions = {}): Db {
  if (file !== ':memory:' && !file.startsWith('file:')) mkdirSync(dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }
  if (!db.memory) {
    const wal = new WalSync(`${db.name}-wal`, opts.onFsyncFailure);
    walSyncs.set(db, wal);
    // Whoever closes the connection also releases the WAL file it keeps open for fsyncs.
    const close = db.close.bind(db);
    db.close = () => {
      void wal.close();
      return close();
    };
  }
  return db;
}
