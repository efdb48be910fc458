import type { CaseEvent, CaseStatus } from './case.ts';

/**
 * Turnaround maths, from recorded case events only. A segment runs from the first entry of one
 * state to the first entry of the next (the first claim counts for "queued → claimed"; the claim that
 * led to signing counts for "claimed → signed").
 */
export const SEGMENTS = ['ingest', 'wait', 'read', 'deliver', 'endToEnd'] as const;
export type Segment = (typeof SEGMENTS)[number];

export const SEGMENT_LABELS: Record<Segment, string> = {
  ingest: 'upload complete → queued',
  wait: 'queued → claimed',
  read: 'claimed → signed',
  deliver: 'signed → acknowledged',
  endToEnd: 'upload complete → signed',
};

const first = (events: readonly CaseEvent[], s: CaseStatus) => events.find((e) => e.status === s)?.at;
const last = (events: readonly CaseEvent[], s: CaseStatus) => [...events].reverse().find((e) => e.status === s)?.at;
const ms = (a?: string, b?: string) => (a && b ? Date.parse(b) - Date.parse(a) : null);

/** Milliseconds of each segment that has both ends recorded. `uploadCompletedAt` is when the last declared file was stored. */
export function segmentsOf(events: readonly CaseEvent[], uploadCompletedAt: string | null): Record<Segment, number | null> {
  const queued = first(events, 'QUEUED');
  const signed = first(events, 'SIGNED');
  return {
    ingest: ms(uploadCompletedAt ?? undefined, queued),
    wait: ms(queued, first(events, 'CLAIMED')),
    read: ms(signed ? last(events.filter((e) => Date.parse(e.at) <= Date.parse(signed)), 'CLAIMED') : undefined, signed),
    deliver: ms(signed, first(events, 'ACKNOWLEDGED')),
    endToEnd: ms(uploadCompletedAt ?? queued, signed),
  };
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
