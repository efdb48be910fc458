import type { Database, Statement } from 'better-sqlite3';
import { durable } from './sqlite.ts';
import type { Case } from '../../domain/case.ts';
import { AppError } from '../../domain/errors.ts';
import type {
  CaseFilter,
  CasePage,
  CaseRepository,
  FileOutcome,
  InstanceRecord,
  ReportDraft,
  SignedReportRecord,
} from '../../ports/case-repository.ts';

const MAX_PAGE = 1000;

/** ISO timestamps compare as text only in one canonical form; normalize what goes into indexed columns. */
const iso = (s: string): string => {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toISOString();
};

const isUniqueViolation = (e: unknown) =>
  typeof e === 'object' &&
  e !== null &&
  ['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE'].includes((e as { code?: string }).code ?? '');

interface CaseRow {
  doc: string;
  version: number;
  created_at: string;
  case_id: string;
}

const encodeCursor = (createdAt: string, caseId: string) =>
  Buffer.from(JSON.stringify([createdAt, caseId]), 'utf8').toString('base64url');

function decodeCursor(cursor: string): [string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new AppError('CASE.INVALID_CURSOR', 'invalid', 'The cursor is not one this service returned.');
}

/**
 * CaseRepository on SQLite: indexed fields as columns, the whole case as a JSON document, every
 * update conditional on `version`.
 */
export class SqliteCaseRepository implements CaseRepository {
  private readonly st: {
    insertCase: Statement<unknown[]>;
    getCase: Statement<[string], CaseRow>;
    updateCase: Statement<unknown[]>;
    expired: Statement<[string, number], CaseRow>;
    insertInstance: Statement<unknown[]>;
    getInstance: Statement<[string], { doc: string }>;
    moveInstance: Statement<[string, number, string, string, string]>;
    listInstances: Statement<[string], { doc: string }>;
    insertOutcome: Statement<unknown[]>;
    getOutcome: Statement<[string, number], { doc: string }>;
    listOutcomes: Statement<[string], { doc: string }>;
    saveDraft: Statement<unknown[]>;
    getDraft: Statement<[string, string], { doc: string }>;
    discardDraft: Statement<[string, string, string]>;
    markRepaired: Statement<[string, number, string]>;
    isRepaired: Statement<[string, number], { n: number }>;
    insertReport: Statement<unknown[]>;
    getReport: Statement<[string, number], { doc: string }>;
    latestReport: Statement<[string], { doc: string }>;
    listReports: Statement<[string], { doc: string }>;
  };

  constructor(private readonly db: Database) {
    this.st = {
      insertCase: db.prepare(
        `INSERT INTO cases (case_id, clinic_id, status, pool, priority, patient_id, created_at, updated_at,
                            lease_expires_at, version, doc)
         VALUES (@caseId, @clinicId, @status, @pool, @priority, @patientId, @createdAt, @updatedAt,
                 @leaseExpiresAt, @version, @doc)`,
      ),
      getCase: db.prepare('SELECT doc, version, created_at, case_id FROM cases WHERE case_id = ?'),
      updateCase: db.prepare(
        `UPDATE cases SET clinic_id = @clinicId, status = @status, pool = @pool, priority = @priority,
                          patient_id = @patientId, created_at = @createdAt, updated_at = @updatedAt,
                          lease_expires_at = @leaseExpiresAt, version = @version, doc = @doc
         WHERE case_id = @caseId AND version = @expectedVersion`,
      ),
      expired: db.prepare(
        `SELECT doc, version, created_at, case_id FROM cases
         WHERE status = 'CLAIMED' AND lease_expires_at IS NOT NULL AND lease_expires_at < ?
         ORDER BY lease_expires_at, case_id LIMIT ?`,
      ),
      insertInstance: db.prepare(
        `INSERT INTO instances (sop_instance_uid, case_id, file_index, doc) VALUES (?, ?, ?, ?)
         ON CONFLICT (sop_instance_uid) DO NOTHING`,
      ),
      getInstance: db.prepare('SELECT doc FROM instances WHERE sop_instance_uid = ?'),
      moveInstance: db.prepare('UPDATE instances SET case_id = ?, file_index = ?, doc = ? WHERE sop_instance_uid = ? AND case_id = ?'),
      listInstances: db.prepare('SELECT doc FROM instances WHERE case_id = ? ORDER BY file_index, sop_instance_uid'),
      insertOutcome: db.prepare(
        `INSERT INTO file_outcomes (case_id, file_index, doc) VALUES (?, ?, ?)
         ON CONFLICT (case_id, file_index) DO NOTHING`,
      ),
      getOutcome: db.prepare('SELECT doc FROM file_outcomes WHERE case_id = ? AND file_index = ?'),
      listOutcomes: db.prepare('SELECT doc FROM file_outcomes WHERE case_id = ? ORDER BY file_index'),
      saveDraft: db.prepare(
        `INSERT INTO report_drafts_by_author (case_id, author_id, updated_at, doc) VALUES (?, ?, ?, ?)
         ON CONFLICT (case_id, author_id) DO UPDATE SET updated_at = excluded.updated_at, doc = excluded.doc`,
      ),
      getDraft: db.prepare('SELECT doc FROM report_drafts_by_author WHERE case_id = ? AND author_id = ?'),
      discardDraft: db.prepare('DELETE FROM report_drafts_by_author WHERE case_id = ? AND author_id = ? AND doc = ?'),
      markRepaired: db.prepare('INSERT INTO upload_repairs (case_id, file_index, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      isRepaired: db.prepare('SELECT 1 AS n FROM upload_repairs WHERE case_id = ? AND file_index = ?'),
      insertReport: db.prepare('INSERT INTO signed_reports (case_id, version, signed_at, doc) VALUES (?, ?, ?, ?)'),
      getReport: db.prepare('SELECT doc FROM signed_reports WHERE case_id = ? AND version = ?'),
      latestReport: db.prepare('SELECT doc FROM signed_reports WHERE case_id = ? ORDER BY version DESC LIMIT 1'),
      listReports: db.prepare('SELECT doc FROM signed_reports WHERE case_id = ? ORDER BY version'),
    };
  }

  private row(c: Case, version: number) {
    return {
      caseId: c.caseId,
      clinicId: c.clinicId,
      status: c.status,
      pool: c.pool,
      priority: c.priority,
      patientId: c.patient.id,
      createdAt: iso(c.createdAt),
      updatedAt: iso(c.updatedAt),
      leaseExpiresAt: c.lease ? iso(c.lease.expiresAt) : null,
      version,
      doc: JSON.stringify({ ...c, version }),
    };
  }

  private static toCase(r: CaseRow): Case {
    const c = JSON.parse(r.doc) as Case;
    c.version = r.version;
    return c;
  }

  async create(c: Case): Promise<void> {
    if (!Number.isSafeInteger(c.version)) throw new AppError('CASE.INVALID', 'invalid', 'The case needs an integer version.');
    try {
      this.st.insertCase.run(this.row(c, c.version));
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new AppError('CASE.ALREADY_EXISTS', 'conflict', 'A case with this id already exists.', { caseId: c.caseId });
      }
      throw e;
    }
    await durable(this.db);
  }

  async get(caseId: string): Promise<Case | null> {
    const r = this.st.getCase.get(caseId);
    return r ? SqliteCaseRepository.toCase(r) : null;
  }

  async update(c: Case, expectedVersion: number): Promise<Case> {
    const next = expectedVersion + 1;
    const info = this.st.updateCase.run({ ...this.row(c, next), expectedVersion });
    if (info.changes === 0) {
      const current = this.st.getCase.get(c.caseId);
      if (!current) throw new AppError('CASE.NOT_FOUND', 'not_found', 'There is no such case.');
      throw new AppError('CASE.VERSION_CONFLICT', 'conflict', 'The case was changed by someone else; reload it and try again.', {
        caseId: c.caseId,
        expectedVersion,
        actualVersion: current.version,
      });
    }
    await durable(this.db);
    return { ...c, version: next };
  }

  async list(filter: CaseFilter): Promise<CasePage> {
    const limit = filter.limit;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new AppError('CASE.INVALID_LIMIT', 'invalid', 'limit must be a positive integer.');
    }
    const pageSize = Math.min(limit, MAX_PAGE);
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status !== undefined) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.pool !== undefined) {
      where.push('pool = ?');
      params.push(filter.pool);
    }
    if (filter.pools !== undefined) {
      if (filter.pools.length === 0) return { items: [], nextCursor: null };
      where.push(`pool IN (${filter.pools.map(() => '?').join(', ')})`);
      params.push(...filter.pools);
    }
    if (filter.clinicId !== undefined) {
      where.push('clinic_id = ?');
      params.push(filter.clinicId);
    }
    if (filter.patientId !== undefined) {
      where.push('patient_id = ?');
      params.push(filter.patientId);
    }
    if (filter.cursor) {
      const [createdAt, caseId] = decodeCursor(filter.cursor);
      where.push('(created_at, case_id) < (?, ?)');
      params.push(createdAt, caseId);
    }
    const sql =
      `SELECT doc, version, created_at, case_id FROM cases` +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY created_at DESC, case_id DESC LIMIT ?`;
    const rows = this.db.prepare<unknown[], CaseRow>(sql).all(...params, pageSize + 1);
    const more = rows.length > pageSize;
    const page = more ? rows.slice(0, pageSize) : rows;
    const last = page[page.length - 1];
    return {
      items: page.map(SqliteCaseRepository.toCase),
      nextCursor: more && last ? encodeCursor(last.created_at, last.case_id) : null,
    };
  }

  async listExpiredLeases(at: string, limit: number): Promise<Case[]> {
    return this.st.expired.all(iso(at), Math.max(0, Math.floor(limit))).map(SqliteCaseRepository.toCase);
  }

  async putInstance(i: InstanceRecord): Promise<{ created: boolean; instance: InstanceRecord }> {
    const info = this.st.insertInstance.run(i.sopInstanceUID, i.caseId, i.fileIndex, JSON.stringify(i));
    // Also when it was there already: the earlier writer's commit may not be on disk yet.
    await durable(this.db);
    if (info.changes === 1) return { created: true, instance: i };
    const stored = this.st.getInstance.get(i.sopInstanceUID);
    if (!stored) throw new AppError('CASE.STORE_ERROR', 'internal', 'The instance could not be stored.');
    return { created: false, instance: JSON.parse(stored.doc) as InstanceRecord };
  }

  async takeOverInstance(next: InstanceRecord, from: InstanceRecord): Promise<boolean> {
    if (next.sopInstanceUID !== from.sopInstanceUID) throw new AppError('CASE.INVALID', 'invalid', 'An instance can only be taken over under its own SOPInstanceUID.');
    const info = this.st.moveInstance.run(next.caseId, next.fileIndex, JSON.stringify(next), next.sopInstanceUID, from.caseId);
    await durable(this.db);
    return info.changes === 1;
  }

  async listInstances(caseId: string): Promise<InstanceRecord[]> {
    return this.st.listInstances.all(caseId).map((r) => JSON.parse(r.doc) as InstanceRecord);
  }

  async putFileOutcome(o: FileOutcome): Promise<{ created: boolean; outcome: FileOutcome }> {
    const info = this.st.insertOutcome.run(o.caseId, o.fileIndex, JSON.stringify(o));
    await durable(this.db);
    if (info.changes === 1) return { created: true, outcome: o };
    const stored = this.st.getOutcome.get(o.caseId, o.fileIndex);
    if (!stored) throw new AppError('CASE.STORE_ERROR', 'internal', 'The file outcome could not be stored.');
    return { created: false, outcome: JSON.parse(stored.doc) as FileOutcome };
  }

  async listFileOutcomes(caseId: string): Promise<FileOutcome[]> {
    return this.st.listOutcomes.all(caseId).map((r) => JSON.parse(r.doc) as FileOutcome);
  }

  async saveDraft(d: ReportDraft): Promise<void> {
    this.st.saveDraft.run(d.caseId, d.authorId, d.updatedAt, JSON.stringify(d));
    await durable(this.db);
  }

  async getDraft(caseId: string, authorId: string): Promise<ReportDraft | null> {
    const r = this.st.getDraft.get(caseId, authorId);
    return r ? (JSON.parse(r.doc) as ReportDraft) : null;
  }

  async discardDraft(d: ReportDraft): Promise<void> {
    // The stored row as it was read (saveDraft writes JSON.stringify of the draft): a save since,
    // even one stamped the same millisecond, differs and is kept.
    if (this.st.discardDraft.run(d.caseId, d.authorId, JSON.stringify(d)).changes) await durable(this.db);
  }

  async isUploadRepaired(caseId: string, fileIndex: number): Promise<boolean> {
    return this.st.isRepaired.get(caseId, fileIndex) !== undefined;
  }

  async markUploadRepaired(caseId: string, fileIndex: number, at: string): Promise<boolean> {
    const created = this.st.markRepaired.run(caseId, fileIndex, at).changes === 1;
    if (created) await durable(this.db);
    return created;
  }

  async putSignedReport(r: SignedReportRecord): Promise<void> {
    try {
      this.st.insertReport.run(r.caseId, r.version, r.signedAt, JSON.stringify(r));
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new AppError('REPORT.VERSION_EXISTS', 'conflict', 'This report version is already signed; amend it as a new version.', {
          caseId: r.caseId,
          version: r.version,
        });
      }
      throw e;
    }
    await durable(this.db);
  }

  async getSignedReport(caseId: string, version?: number): Promise<SignedReportRecord | null> {
    const r = version === undefined ? this.st.latestReport.get(caseId) : this.st.getReport.get(caseId, version);
    return r ? (JSON.parse(r.doc) as SignedReportRecord) : null;
  }

  async listSignedReports(caseId: string): Promise<SignedReportRecord[]> {
    return this.st.listReports.all(caseId).map((r) => JSON.parse(r.doc) as SignedReportRecord);
  }
}
