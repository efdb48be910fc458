import { describe, expect, it } from 'vitest';
import { turnaroundCsv, turnaroundOf } from '../../shared/application/metrics.ts';
import type { Case, CaseEvent, CaseStatus } from '../../shared/domain/case.ts';
import { percentile, segmentsOf } from '../../shared/domain/turnaround.ts';

const T0 = Date.parse('2026-03-02T08:00:00.000Z');
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();

/** A case whose events happen at the given minutes after T0. */
function caseWith(id: string, pool: string, priority: 'stat' | 'urgent' | 'routine', steps: Array<[CaseStatus, number, string?]>, uploadAt = 0): Case {
  const events: CaseEvent[] = steps.map(([status, m, actor]) => ({ status, at: at(m), actor: actor ?? 'x' }));
  const last = steps.at(-1)!;
  return {
    caseId: `case-${id}`,
    submissionId: `sub-${id}`,
    clinicId: id.startsWith('a') ? 'clinic-a' : 'clinic-b',
    status: last[0],
    priority,
    requestedPriority: priority,
    slaPriority: priority,
    pool,
    modality: pool === 'ecg' ? 'ECG' : 'CR',
    declaredFiles: 1,
    patient: { id: 'p', name: 'n' },
    consent: { obtained: true, recordedBy: 'x', recordedAt: at(0) },
    clinicalNote: null,
    createdBy: 'x',
    createdAt: at(0),
    updatedAt: at(last[1]),
    events,
    study: null,
    ecg: null,
    rejection: null,
    lease: null,
    reportVersion: 0,
    readEnqueuedAt: at(0),
    acknowledgement: null,
    uploadCompletedAt: at(uploadAt),
    version: 1,
  };
}

describe('turnaround maths from recorded timelines', () => {
  it('nearest-rank percentiles, checked by hand', () => {
    const v = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(percentile(v, 50)).toBe(50); // rank ceil(5) = 5
    expect(percentile(v, 90)).toBe(90); // rank 9
    expect(percentile(v, 99)).toBe(100); // rank ceil(9.9) = 10
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
    expect(percentile([3, 1, 2], 50)).toBe(2);
  });

  it('segments: first QUEUED, first CLAIMED, the claim that led to signing, first ACKNOWLEDGED', () => {
    const c = caseWith('a1', 'ecg', 'stat', [
      ['AWAITING_FILES', 0],
      ['QUEUED', 1],
      ['CLAIMED', 3],
      ['QUEUED', 8], // released
      ['CLAIMED', 9],
      ['SIGNED', 12],
      ['DELIVERED', 12.5],
      ['ACKNOWLEDGED', 20],
    ], 0.5);
    const s = segmentsOf(c.events, c.uploadCompletedAt!);
    expect(s.ingest).toBe(0.5 * 60_000);
    expect(s.wait).toBe(2 * 60_000);
    expect(s.read).toBe(3 * 60_000);
    expect(s.deliver).toBe(8 * 60_000);
    expect(s.endToEnd).toBe(11.5 * 60_000);
  });

  const fixed = [
    // ECG stat (breach 10 min): signed 6, 9, 14 min after QUEUED at 1 → 2 of 3 in time.
    caseWith('a1', 'ecg', 'stat', [['AWAITING_FILES', 0], ['QUEUED', 1], ['CLAIMED', 2, 'r1'], ['SIGNED', 7, 'r1']]),
    caseWith('a2', 'ecg', 'stat', [['AWAITING_FILES', 0], ['QUEUED', 1], ['CLAIMED', 5, 'r1'], ['SIGNED', 10, 'r1']]),
    caseWith('b3', 'ecg', 'stat', [['AWAITING_FILES', 0], ['QUEUED', 1], ['CLAIMED', 11, 'r2'], ['SIGNED', 15, 'r2']]),
    // Radiography routine (breach 60 min): signed 30 and 70 min after QUEUED → 1 of 2.
    caseWith('a4', 'radiography', 'routine', [['AWAITING_FILES', 0], ['QUEUED', 2], ['CLAIMED', 20, 'r3'], ['SIGNED', 32, 'r3']]),
    caseWith('b5', 'radiography', 'routine', [['AWAITING_FILES', 0], ['QUEUED', 2], ['CLAIMED', 50, 'r3'], ['SIGNED', 72, 'r3']]),
    // Still waiting, and a rejection: neither counts as signed; the rejection is not a case to turn around.
    caseWith('a6', 'radiography', 'routine', [['AWAITING_FILES', 0], ['QUEUED', 2]]),
    caseWith('b7', 'ecg', 'routine', [['AWAITING_FILES', 0], ['REJECTED', 1]]),
  ];

  it('groups by pool: percentiles and SLA compliance match the hand-computed values', () => {
    const rows = turnaroundOf(fixed, 'pool');
    const ecg = rows.find((r) => r.group === 'ecg')!;
    expect(ecg.cases).toBe(3);
    expect(ecg.signed).toBe(3);
    expect(ecg.slaCompliance).toBeCloseTo(2 / 3, 10);
    // queued → claimed: 1, 4, 10 min → p50 = 4 (rank 2), p90 = 10 (rank 3), p99 = 10.
    expect(ecg.segments.wait).toEqual({ n: 3, p50Ms: 4 * 60_000, p90Ms: 10 * 60_000, p99Ms: 10 * 60_000 });
    // claimed → signed: 5, 5, 4 → p50 = 5.
    expect(ecg.segments.read.p50Ms).toBe(5 * 60_000);
    const rad = rows.find((r) => r.group === 'radiography')!;
    expect(rad.cases).toBe(3);
    expect(rad.signed).toBe(2);
    expect(rad.slaCompliance).toBe(0.5);
    // end to end (upload complete at 0 → signed): 32, 72 → p50 = 32, p99 = 72.
    expect(rad.segments.endToEnd).toEqual({ n: 2, p50Ms: 32 * 60_000, p90Ms: 72 * 60_000, p99Ms: 72 * 60_000 });
    expect(rows.map((r) => r.group)).toEqual(['ecg', 'radiography']);
  });

  it('groups by clinic, priority and reader', () => {
    expect(turnaroundOf(fixed, 'clinic').map((r) => [r.group, r.cases])).toEqual([['clinic-a', 4], ['clinic-b', 2]]);
    expect(turnaroundOf(fixed, 'priority').map((r) => [r.group, r.signed])).toEqual([['routine', 2], ['stat', 3]]);
    const byReader = turnaroundOf(fixed, 'reader');
    expect(byReader.find((r) => r.group === 'r1')!.signed).toBe(2);
    expect(byReader.find((r) => r.group === 'unsigned')!.cases).toBe(1);
  });

  it('the CSV carries the same figures as the JSON', () => {
    const rows = turnaroundOf(fixed, 'pool');
    const csv = turnaroundCsv(rows).trim().split('\n');
    expect(csv[0]).toBe('group,segment,n,p50_min,p90_min,p99_min,cases,signed,sla_compliance');
    expect(csv).toContain('"ecg",wait,3,4.0,10.0,10.0,3,3,0.6667');
    expect(csv).toContain('"radiography",endToEnd,2,32.0,72.0,72.0,3,2,0.5000');
    expect(csv.length).toBe(1 + rows.length * 5);
  });
});
