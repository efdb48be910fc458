import type { Deps } from '../shared/application/deps.ts';
import { sweepLeases } from '../shared/application/reads.ts';
import { sweepSla } from '../shared/application/sla.ts';
import { expireIncompleteSubmissions } from '../shared/application/ingest.ts';

/** Scheduled sweep: expired leases back to QUEUED, unconfirmed read messages re-sent, SLA escalations, stale incomplete submissions closed. */
export function makeSweepHandler(deps: Deps) {
  return async () => {
    const leases = await sweepLeases(deps);
    const sla = await sweepSla(deps);
    const expiredSubmissions = await expireIncompleteSubmissions(deps);
    deps.log.info('sweep', { ...leases, ...sla, expiredSubmissions });
    return { ...leases, ...sla, expiredSubmissions };
  };
}
