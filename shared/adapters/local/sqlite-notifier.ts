import type { Database, Statement } from 'better-sqlite3';
import { AppError } from '../../domain/errors.ts';
import type { Notification, Notifier } from '../../ports/notifier.ts';
import { durable } from './sqlite.ts';

const MAX_LIST = 500;

/**
 * In-app inbox. `list({clinicId, userId})` returns, newest first, what was addressed to that clinic or
 * to that user (either matches when both are given).
 */
export class SqliteNotifier implements Notifier {
  private readonly st: {
    insert: Statement<unknown[]>;
    list: Statement<[{ clinicId: string | null; userId: string | null; limit: number }], { doc: string }>;
  };

  constructor(private readonly db: Database) {
    this.st = {
      insert: db.prepare(
        `INSERT INTO notifications (to_clinic_id, to_user_id, to_role, kind, case_id, at, doc)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      list: db.prepare(
        `SELECT doc FROM notifications
         WHERE (@clinicId IS NOT NULL AND to_clinic_id = @clinicId) OR (@userId IS NOT NULL AND to_user_id = @userId)
         ORDER BY seq DESC LIMIT @limit`,
      ),
    };
  }

  async notify(n: Notification): Promise<void> {
    const to = n.to ?? {};
    if (to.clinicId === undefined && to.userId === undefined && to.role === undefined) {
      throw new AppError('NOTIFY.NO_RECIPIENT', 'invalid', 'A notification needs a clinic, a user or a role to go to.');
    }
    this.st.insert.run(to.clinicId ?? null, to.userId ?? null, to.role ?? null, n.kind, n.caseId, n.at, JSON.stringify(n));
    await durable(this.db);
  }

  async list(to: { clinicId?: string; userId?: string }, limit: number): Promise<Notification[]> {
    if (to.clinicId === undefined && to.userId === undefined) return [];
    const n = Math.min(MAX_LIST, Math.max(0, Math.floor(limit)));
    return this.st.list
      .all({ clinicId: to.clinicId ?? null, userId: to.userId ?? null, limit: n })
      .map((r) => JSON.parse(r.doc) as Notification);
  }
}
