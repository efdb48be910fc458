import type { Deps } from '../shared/application/deps.ts';
import { sweepLeases } from '../shared/application/reads.ts';
import { sweepSla } from '../shared/application/sla.ts';
import { expireIncompleteSubmissions, reconcileUploads } from '../shared/application/ingest.ts';
import { repairUnappliedSignatures } from '../shared/application/reports.ts';

/**
 * Scheduled sweep, as the one machine's sweeper: expired leases back to QUEUED, unconfirmed read
 * messages re-sent, stored uploads whose S3 event was lost ingested, signatures a failed sign left
 * unapplied applied (and delivered), SLA escalations, stale incomplete submissions closed.
 */
/**
 * Which stored uploads without an outcome get an ingest job: those stored 5 to 8 minutes ago. An S3
 * event reaches the ingest queue within seconds (a backlog of minutes sets off the depth alarm), and
 * the schedule runs every minute, so a lost event is met about three times; SQS standard queues do not
 * deduplicate, so an upload whose ingest keeps failing is not sent again after that (its messages go
 * to the DLQ, which alarms).
 */
export const RECONCILE_WINDOW_SECONDS = { from: 300, to: 480 } as const;

export function makeSweepHandler(deps: Deps) {
  return async () => {
    const leases = await sweepLeases(deps);
    const uploadsReconciled = await reconcileUploads(deps, RECONCILE_WINDOW_SECONDS.from, RECONCILE_WINDOW_SECONDS.to);
    const signaturesApplied = await repairUnappliedSignatures(deps);
    const sla = await sweepSla(deps);
    const expiredSubmissions = await expireIncompleteSubmissions(deps);
    const r = { ...leases, uploadsReconciled, signaturesApplied, ...sla, expiredSubmissions };
    deps.log.info('sweep', r);
    return r;
  };
}
