import { createHash } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { AppError } from '../../domain/errors.ts';
import type { AuditEntry, AuditLog } from '../../ports/audit-log.ts';
import { durable } from './sqlite.ts';

/** prev_hash of the first row. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted and undefined members dropped: the same entry always gives the same bytes. */
export function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new TypeError('non-finite number');
    return JSON.stringify(v) ?? 'null';
  }
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : stableJson(x))).join(',')}]`;
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(obj[k])}`).join(',')}}`;
}

/** The entry as stored and hashed: only the port's fields, absent ones omitted. */
function normalize(e: AuditEntry): AuditEntry {
  const out: AuditEntry = { at: e.at, actor: e.actor, action: e.action };
  if (e.caseId !== undefined) out.caseId = e.caseId;
  if (e.detail !== undefined) out.detail = e.detail;
  return out;
}

/** sha256 (hex) over the canonical JSON of the entry plus the previous row's hash. */
export function auditHash(e: AuditEntry, prevHash: string): string {
  return createHash('sha256').update(stableJson({ entry: normalize(e), prevHash }), 'utf8').digest('hex');
}

interface Row {
  seq: number;
  at: string;
  actor: string;
  action: string;
  case_id: string | null;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

const toEntry = (r: Row): AuditEntry => {
  const e: AuditEntry = { at: r.at, actor: r.actor, action: r.action };
  if (r.case_id !== null) e.caseId = r.case_id;
  if (r.detail !== null) e.detail = JSON.parse(r.detail) as AuditEntry['detail'];
  return e;
};

export interface AuditVerification {
  ok: boolean;
  /** Rows checked. */
  checked: number;
  /** The first row (seq) whose link or hash does not hold, when one does not. */
  firstBroken?: { seq: number; reason: 'prev_hash' | 'hash' };
}

/**
 * Append-only, hash-chained audit log. Triggers refuse UPDATE and DELETE; each row carries the hash of
 * the previous row, so `verify()` finds the first row that was altered or removed behind its back.
 */
export class SqliteAuditLog implements AuditLog {
  private readonly st: {
    last: Statement<[], { hash: string }>;
    insert: Statement<unknown[]>;
    listAll: Statement<[number], Row>;
    listCase: Statement<[string, number], Row>;
    scan: Statement<[], Row>;
  };
  private readonly appendTx: (entries: AuditEntry[]) => void;

  constructor(private readonly db: Database) {
    this.st = {
      last: db.prepare('SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1'),
      insert: db.prepare(
        'INSERT INTO audit_log (at, actor, action, case_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      listAll: db.prepare('SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?'),
      listCase: db.prepare('SELECT * FROM audit_log WHERE case_id = ? ORDER BY seq DESC LIMIT ?'),
      scan: db.prepare('SELECT * FROM audit_log ORDER BY seq'),
    };
    const tx = db.transaction((entries: AuditEntry[]) => {
      let prev = this.st.last.get()?.hash ?? AUDIT_GENESIS_HASH;
      for (const e of entries) {
        const n = normalize(e);
        const hash = auditHash(n, prev);
        this.st.insert.run(n.at, n.actor, n.action, n.caseId ?? null, n.detail === undefined ? null : stableJson(n.detail), prev, hash);
        prev = hash;
      }
    });
    this.appendTx = (entries) => tx.immediate(entries);
  }

  private pending: { e: AuditEntry; done: () => void; fail: (err: unknown) => void }[] = [];

  /**
   * Group commit: appends made in the same turn of the event loop share one transaction (one fsync),
   * so a screen polling case views does not pay a synced write per request. Each append resolves only
   * once its record is committed and durable.
   */
  append(e: AuditEntry): Promise<void> {
    if (!e || typeof e.at !== 'string' || typeof e.actor !== 'string' || typeof e.action !== 'string') {
      return Promise.reject(new AppError('AUDIT.INVALID_ENTRY', 'invalid', 'An audit entry needs at, actor and action.'));
    }
    const committed = new Promise<void>((done, fail) => {
      if (this.pending.push({ e, done, fail }) === 1) setImmediate(() => this.flush());
    });
    // Awaited in the appender's own async context, not the flush's (the first appender's): an append
    // inside a unit of work defers to its fsync, one outside it waits for its own. The waits of one
    // batch still share an fsync.
    return committed.then(() => durable(this.db));
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    try {
      this.appendTx(batch.map((b) => b.e));
    } catch (err) {
      for (const b of batch) b.fail(err);
      return;
    }
    for (const b of batch) b.done();
  }

  /** Newest first. */
  async list(filter: { caseId?: string; limit: number }): Promise<AuditEntry[]> {
    const limit = Math.max(0, Math.floor(filter.limit));
    const rows = filter.caseId !== undefined ? this.st.listCase.all(filter.caseId, limit) : this.st.listAll.all(limit);
    return rows.map(toEntry);
  }

  /** Walk the whole chain; report the first row whose prev_hash or own hash does not hold. */
  verify(): AuditVerification {
    let prev = AUDIT_GENESIS_HASH;
    let checked = 0;
    for (const r of this.st.scan.iterate()) {
      if (r.prev_hash !== prev) return { ok: false, checked, firstBroken: { seq: r.seq, reason: 'prev_hash' } };
      if (auditHash(toEntry(r), r.prev_hash) !== r.hash) return { ok: false, checked, firstBroken: { seq: r.seq, reason: 'hash' } };
      prev = r.hash;
      checked++;
    }
    return { ok: true, checked };
  }
}
