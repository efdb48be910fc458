import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Case } from '../../shared/domain/case.ts';
import type {
  CaseRepository,
  FileOutcome,
  InstanceRecord,
  SignedReportRecord,
} from '../../shared/ports/case-repository.ts';
import { makeCase, T0 } from './support/case-fixture.ts';
import { expectAppError } from './support/expect-error.ts';

export { makeCase };

export interface CaseRepositoryFixture {
  repo: CaseRepository;
  /** Another client on the same store (a second connection), to race writers; optional. */
  another?: () => Promise<CaseRepository>;
  cleanup(): Promise<void>;
}

const at = (s: number) => new Date(T0 + s * 1000).toISOString();

const instance = (over: Partial<InstanceRecord> & { sopInstanceUID: string }): InstanceRecord => ({
  caseId: 'case-1',
  fileIndex: 0,
  key: 'uploads/clinic-a/sub-1/0',
  size: 1234,
  sha256: 'a'.repeat(64),
  studyInstanceUID: '1.2.3',
  seriesInstanceUID: '1.2.3.4',
  sopClassUID: '1.2.840.10008.5.1.4.1.1.9.1.1',
  modality: 'ECG',
  receivedAt: at(5),
  ...over,
});

const report = (caseId: string, version: number): SignedReportRecord => ({
  caseId,
  version,
  canonical: JSON.stringify({ caseId, version }),
  jws: `eyJhbGciOiJFUzI1NiJ9..sig-${version}`,
  signerId: 'ecg-reader',
  signedAt: at(100 + version),
});

/** The CaseRepository port's contract; run on every adapter (SQLite, DynamoDB). */
export function caseRepositoryContract(name: string, make: () => Promise<CaseRepositoryFixture>): void {
  describe(`CaseRepository contract: ${name}`, () => {
    let f: CaseRepositoryFixture;
    let repo: CaseRepository;
    beforeEach(async () => {
      f = await make();
      repo = f.repo;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    describe('cases', () => {
      it('creates once and reads back the whole case', async () => {
        const c = makeCase({
          caseId: 'case-1',
          study: { StudyInstanceUID: '1.2.3', nested: { a: [1, 2] } },
          ecg: { measurements: { heartRate: 72, qtcMs: null }, flags: ['normal'] },
          clinicalNote: '胸痛 2 小时',
        });
        await repo.create(c);
        expect(await repo.get('case-1')).toEqual(c);
        expect(await repo.get('case-none')).toBeNull();
        await expectAppError(repo.create({ ...c, clinicId: 'clinic-b' }), 'CASE.ALREADY_EXISTS', 'conflict');
        expect((await repo.get('case-1'))?.clinicId).toBe('clinic-a');
      });

      it('updates conditionally on version and returns the case at version+1', async () => {
        const c = makeCase({ caseId: 'case-1' });
        await repo.create(c);
        const queued: Case = {
          ...c,
          status: 'QUEUED',
          updatedAt: at(10),
          events: [...c.events, { status: 'QUEUED', at: at(10), actor: 'system' }],
        };
        const saved = await repo.update(queued, 1);
        expect(saved.version).toBe(2);
        expect(saved.status).toBe('QUEUED');
        expect(await repo.get('case-1')).toEqual({ ...queued, version: 2 });
        // A writer still holding version 1 loses.
        const e = await expectAppError(repo.update({ ...c, status: 'REJECTED' }, 1), 'CASE.VERSION_CONFLICT', 'conflict');
        expect(e.message).not.toMatch(/SQL|sqlite|dynamo/i);
        expect((await repo.get('case-1'))?.status).toBe('QUEUED');
        const again = await repo.update({ ...saved, priority: 'stat' }, 2);
        expect(again.version).toBe(3);
        expect((await repo.get('case-1'))?.priority).toBe('stat');
      });

      it('updating a case that does not exist fails with CASE.NOT_FOUND', async () => {
        await expectAppError(repo.update(makeCase({ caseId: 'ghost' }), 1), 'CASE.NOT_FOUND', 'not_found');
      });

      it('two updates with the same expected version: exactly one wins', async () => {
        const c = makeCase({ caseId: 'case-1', status: 'QUEUED' });
        await repo.create(c);
        const other = f.another ? await f.another() : repo;
        const results = await Promise.allSettled([
          repo.update({ ...c, status: 'CLAIMED', lease: lease('reader-1', at(300)) }, 1),
          other.update({ ...c, status: 'CLAIMED', lease: lease('reader-2', at(300)) }, 1),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect((lost[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'CASE.VERSION_CONFLICT' });
        const stored = await repo.get('case-1');
        expect(stored?.version).toBe(2);
        const winner = (won[0] as PromiseFulfilledResult<Case>).value;
        expect(stored?.lease?.readerId).toBe(winner.lease?.readerId);
      });

      it('twenty racing claims of one version: exactly one wins', async () => {
        await repo.create(makeCase({ caseId: 'case-1', status: 'QUEUED' }));
        const base = (await repo.get('case-1'))!;
        const clients = await Promise.all(
          Array.from({ length: 20 }, async (_, i) => (f.another && i % 2 ? await f.another() : repo)),
        );
        const results = await Promise.allSettled(
          clients.map((r, i) => r.update({ ...base, status: 'CLAIMED', lease: lease(`reader-${i}`, at(300)) }, base.version)),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect((await repo.get('case-1'))?.version).toBe(base.version + 1);
      });
    });

    describe('list', () => {
      it('filters by status, pool, pools, clinic and patient; newest first', async () => {
        await repo.create(makeCase({ caseId: 'c1', createdAt: at(1), pool: 'ecg', status: 'QUEUED' }));
        await repo.create(makeCase({ caseId: 'c2', createdAt: at(2), pool: 'radiography', status: 'QUEUED', clinicId: 'clinic-b' }));
        await repo.create(makeCase({ caseId: 'c3', createdAt: at(3), pool: 'ultrasound', status: 'CLAIMED' }));
        await repo.create(makeCase({ caseId: 'c4', createdAt: at(4), pool: null, status: 'AWAITING_FILES' }));
        await repo.create(
          makeCase({ caseId: 'c5', createdAt: at(5), pool: 'ecg', status: 'SIGNED', patient: { id: 'p-c1', name: 'Same Patient' } }),
        );
        const ids = async (filter: Parameters<CaseRepository['list']>[0]) => (await repo.list(filter)).items.map((c) => c.caseId);
        expect(await ids({ limit: 10 })).toEqual(['c5', 'c4', 'c3', 'c2', 'c1']);
        expect(await ids({ limit: 10, status: 'QUEUED' })).toEqual(['c2', 'c1']);
        expect(await ids({ limit: 10, pool: 'ecg' })).toEqual(['c5', 'c1']);
        expect(await ids({ limit: 10, pools: ['radiography', 'ultrasound'] })).toEqual(['c3', 'c2']);
        expect(await ids({ limit: 10, pools: [] })).toEqual([]);
        expect(await ids({ limit: 10, pools: ['ecg', 'radiography'], status: 'QUEUED' })).toEqual(['c2', 'c1']);
        expect(await ids({ limit: 10, clinicId: 'clinic-b' })).toEqual(['c2']);
        expect(await ids({ limit: 10, clinicId: 'clinic-a', status: 'QUEUED' })).toEqual(['c1']);
        expect(await ids({ limit: 10, patientId: 'p-c1' })).toEqual(['c5', 'c1']);
        expect(await ids({ limit: 10, status: 'ACKNOWLEDGED' })).toEqual([]);
      });

      it('list reflects updates of indexed fields', async () => {
        const c = makeCase({ caseId: 'c1', status: 'AWAITING_FILES', pool: null });
        await repo.create(c);
        await repo.update({ ...c, status: 'QUEUED', pool: 'ecg' }, 1);
        expect((await repo.list({ limit: 5, status: 'QUEUED', pool: 'ecg' })).items.map((x) => x.caseId)).toEqual(['c1']);
        expect((await repo.list({ limit: 5, status: 'AWAITING_FILES' })).items).toEqual([]);
      });

      it('pages through 250 cases without gaps or duplicates, newest first', async () => {
        const all: Case[] = [];
        for (let i = 0; i < 250; i++) {
          // Groups of five share a creation time, so the tie-break on caseId is exercised.
          const c = makeCase({
            caseId: `case-${String((i * 7919) % 1000).padStart(4, '0')}`,
            createdAt: at(Math.floor(i / 5)),
            status: i % 3 === 0 ? 'QUEUED' : 'AWAITING_FILES',
            clinicId: i % 2 === 0 ? 'clinic-a' : 'clinic-b',
          });
          all.push(c);
        }
        for (const c of [...all].reverse()) await repo.create(c);
        const expected = [...all]
          .sort((a, b) => (a.createdAt === b.createdAt ? (a.caseId < b.caseId ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1))
          .map((c) => c.caseId);

        for (const limit of [1, 7, 50, 250, 1000]) {
          const seen: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          for (;;) {
            const page = await repo.list({ limit, cursor });
            pages++;
            expect(page.items.length).toBeLessThanOrEqual(limit);
            seen.push(...page.items.map((c) => c.caseId));
            if (!page.nextCursor) break;
            expect(typeof page.nextCursor).toBe('string');
            cursor = page.nextCursor;
            expect(pages).toBeLessThan(300);
          }
          expect(seen).toEqual(expected);
        }

        // Filtered pagination, and a case created while paging does not disturb older pages.
        const seen: string[] = [];
        let cursor: string | undefined;
        let first = true;
        for (;;) {
          const page = await repo.list({ limit: 11, cursor, clinicId: 'clinic-a', status: 'QUEUED' });
          seen.push(...page.items.map((c) => c.caseId));
          if (first) {
            await repo.create(makeCase({ caseId: 'late', createdAt: at(10_000), status: 'QUEUED' }));
            first = false;
          }
          if (!page.nextCursor) break;
          cursor = page.nextCursor;
        }
        const expectedFiltered = expected.filter((id) => {
          const c = all.find((x) => x.caseId === id)!;
          return c.clinicId === 'clinic-a' && c.status === 'QUEUED';
        });
        expect(seen).toEqual(expectedFiltered);
        expect(new Set(seen).size).toBe(seen.length);
      });

      it('refuses a cursor it did not issue', async () => {
        await expectAppError(repo.list({ limit: 5, cursor: 'not-a-cursor' }), 'CASE.INVALID_CURSOR', 'invalid');
      });
    });

    it('lists CLAIMED cases whose lease expired before a time', async () => {
      await repo.create(makeCase({ caseId: 'expired-1', status: 'CLAIMED', lease: lease('r1', at(100)) }));
      await repo.create(makeCase({ caseId: 'expired-2', status: 'CLAIMED', lease: lease('r2', at(50)) }));
      await repo.create(makeCase({ caseId: 'live', status: 'CLAIMED', lease: lease('r3', at(500)) }));
      await repo.create(makeCase({ caseId: 'signed', status: 'SIGNED', lease: lease('r4', at(10)) }));
      await repo.create(makeCase({ caseId: 'queued', status: 'QUEUED' }));
      const ids = (cs: Case[]) => cs.map((c) => c.caseId).sort();
      expect(ids(await repo.listExpiredLeases(at(200), 10))).toEqual(['expired-1', 'expired-2']);
      expect(await repo.listExpiredLeases(at(200), 1)).toHaveLength(1);
      expect(ids(await repo.listExpiredLeases(at(60), 10))).toEqual(['expired-2']);
      expect(await repo.listExpiredLeases(at(50), 10)).toEqual([]);
      // Once the case is put back in the queue it is no longer listed.
      const c = (await repo.get('expired-1'))!;
      await repo.update({ ...c, status: 'QUEUED', lease: null }, c.version);
      expect(ids(await repo.listExpiredLeases(at(200), 10))).toEqual(['expired-2']);
    });

    describe('instances', () => {
      it('putInstance is idempotent on SOPInstanceUID: the first record stays', async () => {
        const first = instance({ sopInstanceUID: '1.2.3.4.5.1', fileIndex: 0 });
        expect(await repo.putInstance(first)).toEqual({ created: true, instance: first });
        const dup = instance({ sopInstanceUID: '1.2.3.4.5.1', fileIndex: 3, key: 'uploads/other' });
        expect(await repo.putInstance(dup)).toEqual({ created: false, instance: first });
        const second = instance({ sopInstanceUID: '1.2.3.4.5.2', fileIndex: 1 });
        await repo.putInstance(second);
        await repo.putInstance(instance({ sopInstanceUID: '9.9', caseId: 'case-2' }));
        expect(await repo.listInstances('case-1')).toEqual([first, second]);
        expect(await repo.listInstances('case-none')).toEqual([]);
      });

      it('takeOverInstance moves an instance to another case only from the case named, once', async () => {
        const held = instance({ sopInstanceUID: '1.2.3.7', caseId: 'case-1', fileIndex: 2, key: 'uploads/a' });
        await repo.putInstance(held);
        const next = instance({ sopInstanceUID: '1.2.3.7', caseId: 'case-2', fileIndex: 0, key: 'uploads/b' });
        // Not from a case that does not hold it.
        expect(await repo.takeOverInstance(next, { ...held, caseId: 'case-9' })).toBe(false);
        expect(await repo.takeOverInstance(next, held)).toBe(true);
        expect(await repo.listInstances('case-1')).toEqual([]);
        expect(await repo.listInstances('case-2')).toEqual([next]);
        expect(await repo.putInstance(instance({ sopInstanceUID: '1.2.3.7', caseId: 'case-3' }))).toEqual({ created: false, instance: next });
        // A second taker with the old owner loses.
        expect(await repo.takeOverInstance(instance({ sopInstanceUID: '1.2.3.7', caseId: 'case-3' }), held)).toBe(false);
        expect(await repo.listInstances('case-2')).toEqual([next]);
      });

      it('concurrent putInstance of one SOPInstanceUID: exactly one created, all see the same record', async () => {
        const clients = await Promise.all(
          Array.from({ length: 25 }, async (_, i) => (f.another && i % 2 ? await f.another() : repo)),
        );
        const results = await Promise.all(
          clients.map((r, i) => r.putInstance(instance({ sopInstanceUID: '1.2.840.99', fileIndex: i, key: `k/${i}` }))),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const winner = results.find((r) => r.created)!.instance;
        for (const r of results) expect(r.instance).toEqual(winner);
        expect(await repo.listInstances('case-1')).toEqual([winner]);
      });
    });

    it('file outcomes: first outcome per (caseId, fileIndex) wins', async () => {
      const rejected: FileOutcome = {
        caseId: 'case-1',
        fileIndex: 1,
        key: 'uploads/c/s/1',
        outcome: 'rejected',
        code: 'DICOM.NOT_DICOM',
        message: 'not a DICOM file',
        quarantineKey: 'quarantine/c/s/1',
        at: at(7),
      };
      const accepted: FileOutcome = {
        caseId: 'case-1',
        fileIndex: 0,
        key: 'uploads/c/s/0',
        outcome: 'accepted',
        sopInstanceUID: '1.2.3',
        at: at(6),
      };
      expect(await repo.putFileOutcome(rejected)).toEqual({ created: true, outcome: rejected });
      expect(await repo.putFileOutcome({ ...rejected, outcome: 'accepted', code: undefined })).toEqual({
        created: false,
        outcome: rejected,
      });
      await repo.putFileOutcome(accepted);
      expect(await repo.listFileOutcomes('case-1')).toEqual([accepted, rejected]);
      expect(await repo.listFileOutcomes('case-2')).toEqual([]);
    });

    it('drafts are saved and replaced, each reader\'s own', async () => {
      expect(await repo.getDraft('case-1', 'ecg-reader')).toBeNull();
      const d1 = { caseId: 'case-1', authorId: 'ecg-reader', body: { findings: 'sinus rhythm' }, updatedAt: at(1) };
      await repo.saveDraft(d1);
      expect(await repo.getDraft('case-1', 'ecg-reader')).toEqual(d1);
      const d2 = { ...d1, body: { findings: 'sinus rhythm', impression: 'normal ECG', critical: false }, updatedAt: at(2) };
      await repo.saveDraft(d2);
      expect(await repo.getDraft('case-1', 'ecg-reader')).toEqual(d2);
      // The case passed on: the next reader's draft leaves the first one's as it was.
      const other = { caseId: 'case-1', authorId: 'ecg-reader-2', body: { findings: 'atrial fibrillation' }, updatedAt: at(3) };
      await repo.saveDraft(other);
      expect(await repo.getDraft('case-1', 'ecg-reader-2')).toEqual(other);
      expect(await repo.getDraft('case-1', 'ecg-reader')).toEqual(d2);
      expect(await repo.getDraft('case-2', 'ecg-reader')).toBeNull();
    });

    it("discarding a reader's draft leaves other readers', other cases' and a newer save of theirs", async () => {
      const mine = { caseId: 'case-1', authorId: 'ecg-reader', body: { findings: 'sinus rhythm' }, updatedAt: at(1) };
      const theirs = { ...mine, authorId: 'ecg-reader-2', body: { findings: 'atrial fibrillation' } };
      const elsewhere = { ...mine, caseId: 'case-2' };
      for (const d of [mine, theirs, elsewhere]) await repo.saveDraft(d);
      await repo.discardDraft(mine);
      expect(await repo.getDraft('case-1', 'ecg-reader')).toBeNull();
      expect(await repo.getDraft('case-1', 'ecg-reader-2')).toEqual(theirs);
      expect(await repo.getDraft('case-2', 'ecg-reader')).toEqual(elsewhere);
      // Nothing to discard is no error.
      await repo.discardDraft(mine);
      await repo.discardDraft({ ...mine, caseId: 'case-404' });
      // A draft saved after the one read (another window, while signing) is kept, and read again —
      // even one stamped the same millisecond.
      const newer = { ...mine, body: { findings: 'sinus rhythm, edited' }, updatedAt: at(5) };
      await repo.saveDraft(newer);
      await repo.discardDraft(mine);
      expect(await repo.getDraft('case-1', 'ecg-reader')).toEqual(newer);
      const sameInstant = { ...newer, body: { findings: 'sinus rhythm, edited again' } };
      await repo.saveDraft(sameInstant);
      await repo.discardDraft(newer);
      expect(await repo.getDraft('case-1', 'ecg-reader')).toEqual(sameInstant);
    });

    it('an upload is marked repaired once', async () => {
      expect(await repo.isUploadRepaired('case-1', 0)).toBe(false);
      expect(await repo.markUploadRepaired('case-1', 0, at(1))).toBe(true);
      expect(await repo.isUploadRepaired('case-1', 0)).toBe(true);
      expect(await repo.isUploadRepaired('case-1', 1)).toBe(false);
      expect(await repo.markUploadRepaired('case-1', 0, at(2))).toBe(false);
      expect(await repo.markUploadRepaired('case-1', 1, at(2))).toBe(true);
      expect(await repo.markUploadRepaired('case-2', 0, at(2))).toBe(true);
      // Concurrent marks of one upload: exactly one wins.
      const wins = await Promise.all([1, 2, 3].map(() => repo.markUploadRepaired('case-3', 0, at(3))));
      expect(wins.filter(Boolean)).toHaveLength(1);
    });

    it('signed reports are create-once per (caseId, version)', async () => {
      expect(await repo.getSignedReport('case-1')).toBeNull();
      const v1 = report('case-1', 1);
      await repo.putSignedReport(v1);
      await expectAppError(repo.putSignedReport({ ...v1, jws: 'forged' }), 'REPORT.VERSION_EXISTS', 'conflict');
      expect(await repo.getSignedReport('case-1', 1)).toEqual(v1);
      const v2 = { ...report('case-1', 2), pdfKey: 'reports/clinic-a/case-1/2.pdf' };
      await repo.putSignedReport(v2);
      await repo.putSignedReport(report('case-2', 1));
      expect(await repo.getSignedReport('case-1')).toEqual(v2);
      expect(await repo.getSignedReport('case-1', 1)).toEqual(v1);
      expect(await repo.getSignedReport('case-1', 3)).toBeNull();
      expect(await repo.listSignedReports('case-1')).toEqual([v1, v2]);
      expect(await repo.listSignedReports('case-3')).toEqual([]);
    });

    it('concurrent signing of one version: exactly one stored', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => repo.putSignedReport({ ...report('case-1', 1), jws: `jws-${i}` })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(await repo.listSignedReports('case-1')).toHaveLength(1);
    });
  });
}

function lease(readerId: string, expiresAt: string) {
  return { id: `lease-${readerId}`, readerId, expiresAt, queue: 'ecg.routine', receipt: `rcpt-${readerId}` };
}
