import type { Principal } from '../contracts/auth.ts';
import type { Case } from '../domain/case.ts';
import { AppError } from '../domain/errors.ts';
import { DEFAULT_SLA, slaTarget, type SlaPolicy } from '../domain/sla.ts';
import { SEGMENTS, percentile, segmentsOf, type Segment } from '../domain/turnaround.ts';
import { requireRole } from './authorize.ts';
import type { Deps } from './deps.ts';

export const GROUP_BY = ['modality', 'pool', 'clinic', 'priority', 'reader', 'none'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export interface SegmentFigures {
  n: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
}
export interface TurnaroundRow {
  group: string;
  cases: number;
  /** Cases signed within their SLA breach point (queued → signed), over cases signed. */
  slaCompliance: number | null;
  signed: number;
  segments: Record<Segment, SegmentFigures>;
}
export interface BacklogRow {
  pool: string;
  waiting: number;
  claimed: number;
  oldestWaitingSince: string | null;
  oldestWaitingMs: number | null;
}

function groupKey(c: Case, by: GroupBy): string {
  switch (by) {
    case 'modality':
      return c.modality ?? 'unknown';
    case 'pool':
      return c.pool ?? 'unrouted';
    case 'clinic':
      return c.clinicId;
    case 'priority':
      return c.slaPriority ?? c.requestedPriority;
    case 'reader':
      return [...c.events].reverse().find((e) => e.status === 'SIGNED')?.actor ?? 'unsigned';
    case 'none':
      return 'all';
  }
}

/** Every case created in [from, to), scanned page by page. */
async function casesBetween(deps: Deps, from: Date, to: Date): Promise<Case[]> {
  const out: Case[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.cases.list({ limit: 500, cursor });
    for (const c of page.items) {
      const t = Date.parse(c.createdAt);
      if (t >= from.getTime() && t < to.getTime()) out.push(c);
    }
    // Pages come newest first: once a page ends before `from`, older pages cannot match.
    const oldest = page.items.at(-1);
    cursor = oldest && Date.parse(oldest.createdAt) >= from.getTime() ? (page.nextCursor ?? undefined) : undefined;
  } while (cursor);
  return out;
}

/** Turnaround figures computed from the recorded case events only: nearest-rank percentiles per segment and SLA compliance. */
export function turnaroundOf(cases: readonly Case[], by: GroupBy, policy: SlaPolicy = DEFAULT_SLA): TurnaroundRow[] {
  const groups = new Map<string, Case[]>();
  for (const c of cases) {
    if (c.status === 'REJECTED' || c.status === 'AWAITING_FILES') continue;
    const k = groupKey(c, by);
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, cs]) => {
      const per = cs.map((c) => segmentsOf(c.events, c.uploadCompletedAt ?? null));
      const segments = Object.fromEntries(
        SEGMENTS.map((s) => {
          const v = per.map((x) => x[s]).filter((x): x is number => x !== null);
          return [s, { n: v.length, p50Ms: percentile(v, 50), p90Ms: percentile(v, 90), p99Ms: percentile(v, 99) }];
        }),
      ) as Record<Segment, SegmentFigures>;
      let signed = 0;
      let inTime = 0;
      for (const c of cs) {
        const q = c.events.find((e) => e.status === 'QUEUED')?.at;
        const s = c.events.find((e) => e.status === 'SIGNED')?.at;
        if (!q || !s || !c.pool) continue;
        signed++;
        if (Date.parse(s) - Date.parse(q) <= slaTarget(policy, c.pool, c.slaPriority ?? c.requestedPriority).breachMinutes * 60_000) inTime++;
      }
      return { group, cases: cs.length, signed, slaCompliance: signed ? inTime / signed : null, segments };
    });
}

/** Waiting and claimed cases per pool, with the oldest waiting one. */
export async function backlog(deps: Deps, p: Principal): Promise<BacklogRow[]> {
  requireRole(p, 'admin');
  const now = deps.clock.now().getTime();
  const rows = new Map<string, BacklogRow>(
    deps.directory.consortium().pools.map((x) => [x.id, { pool: x.id, waiting: 0, claimed: 0, oldestWaitingSince: null, oldestWaitingMs: null }]),
  );
  for (const status of ['QUEUED', 'CLAIMED'] as const) {
    let cursor: string | undefined;
    do {
      const page = await deps.cases.list({ status, limit: 500, cursor });
      for (const c of page.items) {
        if (!c.pool) continue;
        const r = rows.get(c.pool) ?? { pool: c.pool, waiting: 0, claimed: 0, oldestWaitingSince: null, oldestWaitingMs: null };
        rows.set(c.pool, r);
        if (status === 'CLAIMED') {
          r.claimed++;
          continue;
        }
        r.waiting++;
        const since = c.events.find((e) => e.status === 'QUEUED')?.at ?? c.createdAt;
        if (!r.oldestWaitingSince || since < r.oldestWaitingSince) {
          r.oldestWaitingSince = since;
          r.oldestWaitingMs = now - Date.parse(since);
        }
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  return [...rows.values()];
}

/** GET /api/metrics/turnaround: administrators only. */
export async function turnaround(deps: Deps, p: Principal, q: { from?: string | undefined; to?: string | undefined; groupBy: GroupBy }) {
  requireRole(p, 'admin');
  const to = q.to ? new Date(q.to) : deps.clock.now();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 24 * 3600_000);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) {
    throw new AppError('METRICS.BAD_RANGE', 'invalid', 'from and to are ISO timestamps with from before to.');
  }
  const cases = await casesBetween(deps, from, to);
  return { from: from.toISOString(), to: to.toISOString(), groupBy: q.groupBy, rows: turnaroundOf(cases, q.groupBy) };
}

/** The same figures as CSV, one line per group × segment (minutes, 1 decimal). */
export function turnaroundCsv(rows: TurnaroundRow[]): string {
  const min = (ms: number | null) => (ms === null ? '' : (ms / 60_000).toFixed(1));
  const lines = ['group,segment,n,p50_min,p90_min,p99_min,cases,signed,sla_compliance'];
  for (const r of rows) {
    for (const s of SEGMENTS) {
      const f = r.segments[s];
      lines.push(
        [JSON.stringify(r.group), s, f.n, min(f.p50Ms), min(f.p90Ms), min(f.p99Ms), r.cases, r.signed, r.slaCompliance === null ? '' : r.slaCompliance.toFixed(4)].join(','),
      );
    }
  }
  return lines.join('\n') + '\n';
}
