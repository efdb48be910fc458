import type { Priority } from './priority.ts';

/** When a waiting case should warn (escalate) and when it is in breach, in minutes from QUEUED. */
export interface SlaTarget {
  warnMinutes: number;
  breachMinutes: number;
}
export type SlaPolicy = Record<string, Record<Priority, SlaTarget>>;

/**
 * Defaults from the consortium figures: chest-pain centres want ECG-to-diagnosis within 10 minutes
 * (STAT ECG); township promises are ECG 30 min (15 urgent), X-ray 1 h (30 min urgent), ultrasound
 * 15–30 min. Warnings fall at about two thirds of the breach point.
 */
export const DEFAULT_SLA: SlaPolicy = {
  ecg: { stat: { warnMinutes: 7, breachMinutes: 10 }, urgent: { warnMinutes: 10, breachMinutes: 15 }, routine: { warnMinutes: 20, breachMinutes: 30 } },
  radiography: {
    stat: { warnMinutes: 10, breachMinutes: 15 },
    urgent: { warnMinutes: 20, breachMinutes: 30 },
    routine: { warnMinutes: 40, breachMinutes: 60 },
  },
  ultrasound: {
    stat: { warnMinutes: 7, breachMinutes: 10 },
    urgent: { warnMinutes: 10, breachMinutes: 15 },
    routine: { warnMinutes: 20, breachMinutes: 30 },
  },
};

/** Fallback for a pool the policy does not name: the strictest radiography-like promise. */
const FALLBACK: Record<Priority, SlaTarget> = DEFAULT_SLA.radiography!;

export function slaTarget(policy: SlaPolicy, pool: string, priority: Priority): SlaTarget {
  return (policy[pool] ?? FALLBACK)[priority];
}
