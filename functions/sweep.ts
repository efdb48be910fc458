import type { Deps } from '../shared/application/deps.ts';
import { sweepLeases } from '../shared/application/reads.ts';
import { sweepSla } from '../shared/application/sla.ts';
import { expireIncompleteSubmissions, reconcileUploads } from '../shared/application/ingest.ts';
import { repairUnappliedSignatures } from '../shared/application/reports.ts';

/** How long after it was stored an upload without an outcome gets its repair job (a lost S3 event). */
const RECONCILE_AFTER_SECONDS = 300;

/**
 * Scheduled sweep, as the one machine's sweeper: expired leases back to QUEUED, unconfirmed read
 * messages re-sent, SLA escalations, stale incomplete submissions closed, then the repairs: a stored
 * upload whose S3 event never reached the queue gets one ingest job 5 minutes after it was stored (an
 * event arrives within seconds; a backlog of minutes sets off the depth alarm), and a signature a
 * failed sign left unapplied is applied (and delivered). Each step runs even if one before failed
 * (leases, the SLA clock and incomplete submissions before the repairs); a failed step is logged and
 * fails the invocation, which is retried.
 */
export function makeSweepHandler(deps: Deps) {
  return async () => {
    const failed: string[] = [];
    const step = async <T>(name: string, run: () => Promise<T>, none: T): Promise<T> => {
      try {
        return await run();
      } catch (e) {
        failed.push(name);
        deps.log.error('sweep step failed', { step: name, code: (e as { code?: string })?.code, error: (e as Error)?.name });
        return none;
      }
    };
    const leases = await step('leases', () => sweepLeases(deps), { expired: 0, reenqueued: 0 });
    const sla = await step('sla', () => sweepSla(deps), { warnings: 0, breaches: 0, criticalEscalations: 0 });
    const expiredSubmissions = await step('incomplete submissions', () => expireIncompleteSubmissions(deps), 0);
    const uploadsRepaired = await step('uploads', () => reconcileUploads(deps, RECONCILE_AFTER_SECONDS), 0);
    const signaturesApplied = await step('signatures', () => repairUnappliedSignatures(deps), 0);
    const r = { ...leases, ...sla, expiredSubmissions, uploadsRepaired, signaturesApplied };
    deps.log.info('sweep', r);
    if (failed.length) throw new Error(`sweep steps failed: ${failed.join(', ')}`);
    return r;
  };
}
