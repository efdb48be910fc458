import type { Deps } from '../shared/application/deps.ts';
import { runSweep } from '../shared/application/sweep.ts';

/** How long after it was stored an upload without an outcome gets its repair job (a lost S3 event). */
const RECONCILE_AFTER_SECONDS = 300;

/**
 * Scheduled sweep (`runSweep`): a stored upload whose S3 event never reached the queue gets its one
 * ingest job 5 minutes after it was stored (an event arrives within seconds; a backlog of minutes
 * sets off the depth alarm). A failed step fails the invocation, which is retried.
 */
export function makeSweepHandler(deps: Deps) {
  return async () => {
    const { counts, failed } = await runSweep(deps, RECONCILE_AFTER_SECONDS);
    deps.log.info('sweep', counts);
    if (failed.length) throw new Error(`sweep steps failed: ${failed.join(', ')}`);
    return counts;
  };
}
