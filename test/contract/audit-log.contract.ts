import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, AuditLog } from '../../shared/ports/audit-log.ts';

export interface AuditLogFixture {
  log: AuditLog;
  cleanup(): Promise<void>;
}

const at = (s: number) => new Date(Date.parse('2026-04-01T00:00:00.000Z') + s * 1000).toISOString();

/** The AuditLog port's contract: append-only, listed newest first, filterable by case. */
export function auditLogContract(name: string, make: () => Promise<AuditLogFixture>): void {
  describe(`AuditLog contract: ${name}`, () => {
    let f: AuditLogFixture;
    let log: AuditLog;
    beforeEach(async () => {
      f = await make();
      log = f.log;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    it('lists what was appended, newest first, exactly as appended', async () => {
      const entries: AuditEntry[] = [
        { at: at(1), actor: 'tech-a', action: 'submission.create', caseId: 'case-1' },
        { at: at(2), actor: 'ecg-reader', action: 'case.view', caseId: 'case-1', detail: { instance: 0, viewer: 'ecg', ok: true } },
        { at: at(3), actor: 'admin', action: 'user.login' },
        { at: at(4), actor: 'ecg-reader', action: 'report.sign', caseId: 'case-2', detail: { version: 1 } },
      ];
      for (const e of entries) await log.append(e);
      expect(await log.list({ limit: 10 })).toEqual([...entries].reverse());
      expect(await log.list({ limit: 2 })).toEqual([entries[3], entries[2]]);
      expect(await log.list({ caseId: 'case-1', limit: 10 })).toEqual([entries[1], entries[0]]);
      expect(await log.list({ caseId: 'case-9', limit: 10 })).toEqual([]);
    });

    it('keeps every entry of a burst of concurrent appends', async () => {
      await Promise.all(
        Array.from({ length: 60 }, (_, i) => log.append({ at: at(i), actor: `u${i % 4}`, action: 'case.view', caseId: 'case-1', detail: { i } })),
      );
      const got = await log.list({ caseId: 'case-1', limit: 100 });
      expect(got).toHaveLength(60);
      expect(new Set(got.map((e) => e.detail?.['i'])).size).toBe(60);
    });
  });
}
