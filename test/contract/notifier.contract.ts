import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification, Notifier } from '../../shared/ports/notifier.ts';

export interface NotifierFixture {
  notifier: Notifier;
  cleanup(): Promise<void>;
}

const at = (s: number) => new Date(Date.parse('2026-06-01T00:00:00.000Z') + s * 1000).toISOString();

/** The Notifier port's contract: an inbox per clinic and per user, newest first. */
export function notifierContract(name: string, make: () => Promise<NotifierFixture>): void {
  describe(`Notifier contract: ${name}`, () => {
    let f: NotifierFixture;
    let n: Notifier;
    beforeEach(async () => {
      f = await make();
      n = f.notifier;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    it('keeps an inbox per clinic and per user, newest first', async () => {
      const a1: Notification = { to: { clinicId: 'clinic-a' }, kind: 'report.delivered', caseId: 'case-1', at: at(1) };
      const b1: Notification = { to: { clinicId: 'clinic-b' }, kind: 'case.rejected', caseId: 'case-2', at: at(2) };
      const a2: Notification = { to: { clinicId: 'clinic-a' }, kind: 'report.critical', caseId: 'case-3', at: at(3) };
      const u1: Notification = { to: { userId: 'tech-a' }, kind: 'case.rejected', caseId: 'case-4', at: at(4) };
      for (const x of [a1, b1, a2, u1]) await n.notify(x);
      expect(await n.list({ clinicId: 'clinic-a' }, 10)).toEqual([a2, a1]);
      expect(await n.list({ clinicId: 'clinic-a' }, 1)).toEqual([a2]);
      expect(await n.list({ clinicId: 'clinic-b' }, 10)).toEqual([b1]);
      expect(await n.list({ userId: 'tech-a' }, 10)).toEqual([u1]);
      expect(await n.list({ clinicId: 'clinic-c' }, 10)).toEqual([]);
      expect(await n.list({ userId: 'nobody' }, 10)).toEqual([]);
    });

    it('a user with a clinic sees both inboxes', async () => {
      const a1: Notification = { to: { clinicId: 'clinic-a' }, kind: 'report.delivered', caseId: 'case-1', at: at(1) };
      const u1: Notification = { to: { userId: 'tech-a' }, kind: 'case.rejected', caseId: 'case-2', at: at(2) };
      const b1: Notification = { to: { clinicId: 'clinic-b' }, kind: 'report.delivered', caseId: 'case-3', at: at(3) };
      for (const x of [a1, u1, b1]) await n.notify(x);
      expect(await n.list({ clinicId: 'clinic-a', userId: 'tech-a' }, 10)).toEqual([u1, a1]);
    });
  });
}
