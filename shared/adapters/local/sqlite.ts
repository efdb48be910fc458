import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
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
}

/**
 * Open (creating if needed) the local database: WAL, synchronous=FULL (a commit is on disk before
 * it returns, so acceptance survives kill -9 and power loss), busy_timeout, foreign keys, migrations.
 */
export function openSqlite(file: string, opts: OpenSqliteOptions = {}): Db {
  if (file !== ':memory:' && !file.startsWith('file:')) mkdirSync(dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}
