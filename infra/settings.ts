import { Duration } from 'aws-cdk-lib';
import { PRIORITIES } from '../shared/domain/priority.ts';

/**
 * Figures shared by the two stacks: the stateful stack sizes each queue's visibility timeout from
 * the timeout of the function that consumes it (≥ 6×, as AWS advises for SQS event sources).
 */
export const FUNCTION_TIMEOUTS = {
  ingest: Duration.seconds(60),
  delivery: Duration.seconds(30),
  api: Duration.seconds(29),
  sweep: Duration.seconds(120),
} as const;

/** Visibility = this many times the consumer's timeout. */
export const VISIBILITY_FACTOR = 6;

/** Receives before a job message is dead-lettered (ingest, delivery). */
export const JOB_MAX_RECEIVES = 5;
/**
 * Read messages come back on every lease expiry (a reader closed the tab), so their DLQ threshold is
 * high: a case should reach the dead-letter queue only when something is really wrong.
 */
export const READ_MAX_RECEIVES = 50;

export const DEFAULT_POOLS = ['ecg', 'radiography', 'ultrasound'] as const;
export { PRIORITIES };

/** Logical read-queue names, as the application names them (`<pool>.<priority>`). */
export const readQueueNames = (pools: readonly string[]) => pools.flatMap((p) => PRIORITIES.map((q) => `${p}.${q}`));

/** CloudFormation-safe id fragment of a logical queue name: `ecg.stat` → `EcgStat`. */
export const idOf = (name: string) =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((s) => s[0]!.toUpperCase() + s.slice(1))
    .join('');
