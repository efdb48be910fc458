import type { Case, CriticalResult, Escalation } from '../domain/case.ts';
import { PRIORITIES, type Priority } from '../domain/priority.ts';
import { readQueueName } from '../domain/routing.ts';
import { DEFAULT_SLA, slaTarget, type SlaPolicy } from '../domain/sla.ts';
import type { CaseStatus } from '../domain/case.ts';
import type { Deps } from './deps.ts';
import { updateWithRetry } from './update.ts';

/** Critical results: escalate when unacknowledged this long after delivery, and again every interval. */
export interface CriticalPolicy {
  firstEscalationMinutes: number;
  repeatMinutes: number;
  /** The acknowledgement window the clinic is held to (reported, not enforced by refusal). */
  windowMinutes: number;
}
export const DEFAULT_CRITICAL: CriticalPolicy = { firstEscalationMinutes: 5, repeatMinutes: 5, windowMinutes: 10 };

const MINUTE = 60_000;

const oneStepUp = (p: Priority): Priority => PRIORITIES[Math.max(0, PRIORITIES.indexOf(p) - 1)]!;
const firstAt = (c: Case, s: CaseStatus) => c.events.find((e) => e.status === s)?.at;

async function* casesIn(deps: Deps, status: CaseStatus): AsyncGenerator<Case> {
  let cursor: string | undefined;
  do {
    const page = await deps.cases.list({ status, limit: 200, cursor });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

function userIds(deps: Deps, pred: (u: { role: string; pools?: string[] | undefined }) => boolean): string[] {
  return deps.directory.consortium().users.filter(pred).map((u) => u.id);
}

/**
 * The SLA clock: a waiting case at its warning point is raised one priority step (its read message moves
 * to the higher queue) and the pool's readers and the administrators are alerted; at its breach point the
 * breach is recorded and alerted. Unacknowledged critical results are escalated to the clinic's duty
 * contact and the administrators, again and again until acknowledged. Every step is recorded on the case.
 * Driven only by stored state, so a restart loses nothing.
 */
export async function sweepSla(
  deps: Deps,
  policy: SlaPolicy = DEFAULT_SLA,
  critical: CriticalPolicy = DEFAULT_CRITICAL,
): Promise<{ warnings: number; breaches: number; criticalEscalations: number }> {
  const now = deps.clock.now();
  const iso = now.toISOString();
  let warnings = 0;
  let breaches = 0;
  let criticalEscalations = 0;
  const admins = userIds(deps, (u) => u.role === 'admin');

  for (const status of ['QUEUED', 'CLAIMED'] as const) {
    for await (const c of casesIn(deps, status)) {
      if (!c.pool) continue;
      const queuedAt = firstAt(c, 'QUEUED');
      if (!queuedAt) continue;
      const age = now.getTime() - Date.parse(queuedAt);
      const target = slaTarget(policy, c.pool, c.slaPriority ?? c.requestedPriority);
      const has = (k: Escalation['kind']) => (c.escalations ?? []).some((e) => e.kind === k);
      const readers = userIds(deps, (u) => u.role === 'reader' && (u.pools ?? []).includes(c.pool!));
      if (age >= target.warnMinutes * MINUTE && !has('sla-warning')) {
        const to = oneStepUp(c.priority);
        const done = await updateWithRetry(deps, c.caseId, (cur) =>
          (cur.escalations ?? []).some((e) => e.kind === 'sla-warning')
            ? null
            : {
                ...cur,
                priority: to,
                updatedAt: iso,
                escalations: [...(cur.escalations ?? []), { kind: 'sla-warning', at: iso, fromPriority: cur.priority, toPriority: to, notified: [...readers, ...admins] }],
              },
        );
        if (done) {
          warnings++;
          // A second message on the higher queue; whichever is received first claims, the other is discarded.
          if (done.status === 'QUEUED' && to !== c.priority) await deps.readQueue.send(readQueueName(c.pool, to), { caseId: c.caseId });
          for (const userId of [...readers, ...admins]) await deps.notifier.notify({ to: { userId }, kind: 'case.sla-warning', caseId: c.caseId, at: iso });
          deps.log.info('sla warning', { caseId: c.caseId, pool: c.pool, from: c.priority, to, ageMs: age });
        }
      }
      if (age >= target.breachMinutes * MINUTE && !has('sla-breach')) {
        const done = await updateWithRetry(deps, c.caseId, (cur) =>
          (cur.escalations ?? []).some((e) => e.kind === 'sla-breach')
            ? null
            : { ...cur, updatedAt: iso, escalations: [...(cur.escalations ?? []), { kind: 'sla-breach', at: iso, notified: [...readers, ...admins] }] },
        );
        if (done) {
          breaches++;
          for (const userId of [...readers, ...admins]) await deps.notifier.notify({ to: { userId }, kind: 'case.sla-breach', caseId: c.caseId, at: iso });
          deps.log.info('sla breach', { caseId: c.caseId, pool: c.pool, ageMs: age });
        }
      }
    }
  }

  for await (const c of casesIn(deps, 'DELIVERED')) {
    const cr = c.criticalResult ?? (await criticalResultOf(deps, c));
    if (!cr) continue;
    const sinceNotified = now.getTime() - Date.parse(cr.notifiedAt);
    const sent = (c.escalations ?? []).filter((e) => e.kind === 'critical-unacknowledged').length;
    const due = sinceNotified >= (critical.firstEscalationMinutes + sent * critical.repeatMinutes) * MINUTE;
    if (!due && c.criticalResult) continue;
    const notified = [`clinic:${c.clinicId}`, ...admins];
    const done = await updateWithRetry(deps, c.caseId, (cur) => {
      if (cur.status !== 'DELIVERED') return null;
      const n = (cur.escalations ?? []).filter((e) => e.kind === 'critical-unacknowledged').length;
      const stillDue = sinceNotified >= (critical.firstEscalationMinutes + n * critical.repeatMinutes) * MINUTE;
      if (!stillDue && cur.criticalResult) return null;
      return {
        ...cur,
        updatedAt: iso,
        criticalResult: cur.criticalResult ?? cr,
        escalations: stillDue ? [...(cur.escalations ?? []), { kind: 'critical-unacknowledged' as const, at: iso, notified }] : cur.escalations ?? [],
      };
    });
    if (done && due) {
      criticalEscalations++;
      await deps.notifier.notify({ to: { clinicId: c.clinicId }, kind: 'critical.unacknowledged', caseId: c.caseId, at: iso });
      for (const userId of admins) await deps.notifier.notify({ to: { userId }, kind: 'critical.unacknowledged', caseId: c.caseId, at: iso });
      deps.log.warn('critical result unacknowledged', { caseId: c.caseId, minutes: Math.round(sinceNotified / MINUTE) });
    }
  }
  return { warnings, breaches, criticalEscalations };
}

/** The critical-result record of a delivered case, from its latest signed report (null when not critical). */
export async function criticalResultOf(deps: Deps, c: Case): Promise<CriticalResult | null> {
  const r = await deps.cases.getSignedReport(c.caseId);
  if (!r) return null;
  const doc = JSON.parse(r.canonical) as { critical?: boolean; impression?: string; signedAt?: string };
  if (doc.critical !== true) return null;
  return {
    finding: doc.impression ?? '',
    identifiedAt: doc.signedAt ?? r.signedAt,
    readerId: r.signerId,
    reportVersion: r.version,
    notifiedAt: c.events.find((e) => e.status === 'DELIVERED')?.at ?? r.signedAt,
    method: 'in-app',
  };
}
