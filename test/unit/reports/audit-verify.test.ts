/**
 * Acceptance 4 of issue 7: `teleread audit verify` reports the first broken link of the hash-chained
 * audit log at the right position when any one record is edited, deleted or reordered.
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../../shared/adapters/local/sqlite.ts';
import { SqliteAuditLog } from '../../../shared/adapters/local/sqlite-audit-log.ts';
import { main } from '../../../local/cli.ts';

const N = 12;

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), fetch });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('teleread audit verify', () => {
  let dir: string;
  const tamper = (sql: (db: BetterSqlite3.Database) => void) => {
    // Someone with the database file: triggers are no obstacle to them.
    const db = new BetterSqlite3(join(dir, 'teleread.db'));
    db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
    sql(db);
    db.close();
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'teleread-audit-'));
    const db = openSqlite(join(dir, 'teleread.db'));
    const log = new SqliteAuditLog(db);
    for (let i = 1; i <= N; i++) {
      await log.append({ at: `2026-11-23T00:00:${String(i).padStart(2, '0')}.000Z`, actor: i % 2 ? 'tech-a' : 'ecg-reader', action: 'report.view', caseId: `case-0000000${i % 3}`, detail: { version: i } });
    }
    db.close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('an untouched log verifies', async () => {
    const r = await cli(['audit', 'verify', '--data-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`OK audit log: ${N} records`);
  });

  for (let k = 1; k <= N; k++) {
    it(`editing record ${k} is reported at record ${k}`, async () => {
      tamper((db) => db.prepare("UPDATE audit_log SET actor = 'someone-else' WHERE seq = ?").run(k));
      const r = await cli(['audit', 'verify', '--data-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`at record #${k} (seq ${k}): its content does not match`);
    });
  }

  for (let k = 1; k < N; k++) {
    it(`deleting record ${k} is reported at the link after it (record ${k + 1})`, async () => {
      tamper((db) => db.prepare('DELETE FROM audit_log WHERE seq = ?').run(k));
      const r = await cli(['audit', 'verify', '--data-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`(seq ${k + 1}): it does not link to the record before it`);
      expect(r.err).toContain(`the ${k - 1} records before it verify`);
    });
  }

  for (let k = 1; k < N; k++) {
    it(`swapping records ${k} and ${k + 1} (with their hashes) is reported at record ${k}`, async () => {
      tamper((db) => {
        const rows = db.prepare('SELECT * FROM audit_log WHERE seq IN (?, ?) ORDER BY seq').all(k, k + 1) as Record<string, unknown>[];
        const put = db.prepare('UPDATE audit_log SET at=@at, actor=@actor, action=@action, case_id=@case_id, detail=@detail, prev_hash=@prev_hash, hash=@hash WHERE seq=@seq');
        put.run({ ...rows[1], seq: k });
        put.run({ ...rows[0], seq: k + 1 });
      });
      const r = await cli(['audit', 'verify', '--data-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`at record #${k} (seq ${k})`);
    });
  }

  it('a missing data directory is a usage error', async () => {
    const r = await cli(['audit', 'verify', '--data-dir', join(dir, 'nope')]);
    expect(r.code).toBe(2);
  });
});
