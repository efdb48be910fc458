import type { Database, Statement } from 'better-sqlite3';
import { giveBackAttempt, lockedUntil, takeAttempt, type AttemptDecision, type AttemptPolicy, type AttemptState } from '../../domain/attempts.ts';
import type { AttemptLimiter } from '../../ports/attempt-limiter.ts';
import { durable } from './sqlite.ts';

interface Row {
  failures: number;
  locked_until: string | null;
}

/** AttemptLimiter on SQLite: one row per subject, read and written in one immediate transaction. */
export class SqliteAttemptLimiter implements AttemptLimiter {
  private readonly st: {
    get: Statement<[string], Row>;
    put: Statement<[string, number, string | null]>;
    remove: Statement<[string]>;
  };

  constructor(private readonly db: Database) {
    this.st = {
      get: db.prepare('SELECT failures, locked_until FROM attempts WHERE subject = ?'),
      put: db.prepare(
        `INSERT INTO attempts (subject, failures, locked_until) VALUES (?, ?, ?)
         ON CONFLICT (subject) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until`,
      ),
      remove: db.prepare('DELETE FROM attempts WHERE subject = ?'),
    };
  }

  private state(subject: string): AttemptState | null {
    const r = this.st.get.get(subject);
    return r ? { failures: r.failures, lockedUntil: r.locked_until } : null;
  }

  async take(subject: string, now: Date, policy: AttemptPolicy): Promise<AttemptDecision> {
    const decision = this.db
      .transaction(() => {
        const d = takeAttempt(this.state(subject), now, policy);
        if (d.allowed) this.st.put.run(subject, d.next.failures, d.next.lockedUntil);
        return d;
      })
      .immediate();
    // Counted in the database before the secret is tried, so a crash cannot give an attempt back (SQLite
    // keeps a commit through a killed process; inside a unit of work the fsync comes at the unit's end,
    // before its answer).
    if (decision.allowed) await durable(this.db);
    return decision;
  }

  async lockedUntil(subject: string, now: Date): Promise<string | null> {
    return lockedUntil(this.state(subject), now);
  }

  async giveBack(subject: string, policy: AttemptPolicy): Promise<void> {
    this.db
      .transaction(() => {
        const next = giveBackAttempt(this.state(subject), policy);
        if (next) this.st.put.run(subject, next.failures, next.lockedUntil);
      })
      .immediate();
    await durable(this.db);
  }

  async clear(subject: string): Promise<void> {
    if (this.st.remove.run(subject).changes > 0) await durable(this.db);
  }
}
