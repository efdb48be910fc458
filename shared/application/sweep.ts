import { expireIncompleteSubmissions, reconcileUploads } from './ingest.ts';
import type { Deps } from './deps.ts';
import { sweepLeases } from './reads.ts';
import { repairUnappliedSignatures } from './reports.ts';
import { sweepSla } from './sla.ts';

/**
 * One pass of the scheduled sweep (the one machine's sweeper, the AWS sweep function): expired leases
 * back to QUEUED, unconfirmed read messages re-sent, SLA escalations, stale incomplete submissions
 * closed, then the repairs: a stored upload without an outcome gets one ingest job once it is
 * `reconcileAfterSeconds` old (its notice was lost), and a signature a failed sign left unapplied is
 * applied. Each step runs even if one before it failed (a store error in one must not stop the SLA
 * clock); a failed step is logged with its name and listed in `failed`.
 */
export async function runSweep(deps: Deps, reconcileAfterSeconds: number) {
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
  const uploadsRepaired = await step('uploads', () => reconcileUploads(deps, reconcileAfterSeconds), 0);
  const signaturesApplied = await step('signatures', () => repairUnappliedSignatures(deps), 0);
  return { counts: { ...leases, ...sla, expiredSubmissions, uploadsRepaired, signaturesApplied }, failed };
}
