import type { UnitOfWork, UnitOptions } from '../../ports/unit-of-work.ts';
import { durablyTogether, type Database } from './sqlite.ts';

/**
 * A use case's SQLite writes share one WAL fsync, run when the unit ends and awaited before `run`
 * settles (with fn's result, its error, or the fsync's error if the disk failed). The scope follows
 * the async context of the call, so concurrent requests outside it still wait for their own fsync.
 * Files written through FsBlobStore are not covered: they are fsynced when written, as before.
 */
export class SqliteUnitOfWork implements UnitOfWork {
  constructor(private readonly db: Database) {}

  run<T>(fn: () => Promise<T>, opts: UnitOptions = {}): Promise<T> {
    return durablyTogether(this.db, fn, opts);
  }
}
