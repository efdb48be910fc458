/**
 * The synthetic county day, derived entirely from the seed: when each study arrives, from which
 * clinic, what it is, how urgent, whether it carries a critical result, how long its reader takes
 * and how long the clinic takes to acknowledge. Pure: no clock, no I/O.
 */
import { Rng } from '../shared/synth/random.ts';
import type { Priority } from '../shared/domain/priority.ts';
import type { Pool } from './provision.ts';

export type StudyKind = 'ecg' | 'xray' | 'us';
export const POOL_OF: Record<StudyKind, Pool> = { ecg: 'ecg', xray: 'radiography', us: 'ultrasound' };

/** Arrival intensity by local hour of the clinic day (relative): morning peak 8–11, afternoon peak 14–16. */
export const ARRIVAL_PROFILE: ReadonlyArray<{ from: number; to: number; weight: number }> = [
  { from: 8, to: 9, weight: 13 },
  { from: 9, to: 10, weight: 18 },
  { from: 10, to: 11, weight: 16 },
  { from: 11, to: 12, weight: 9 },
  { from: 12, to: 13, weight: 3 },
  { from: 13, to: 14, weight: 5 },
  { from: 14, to: 15, weight: 11 },
  { from: 15, to: 16, weight: 11 },
  { from: 16, to: 17, weight: 6 },
  { from: 17, to: 17.5, weight: 3 },
];

/** Reading time per kind: lognormal with this median (minutes) and log-sd, capped at 4× the median. */
export const READING_TIME: Record<StudyKind, { medianMin: number; sigma: number }> = {
  ecg: { medianMin: 3, sigma: 0.45 },
  xray: { medianMin: 6, sigma: 0.5 },
  us: { medianMin: 10, sigma: 0.4 },
};

/** Modality mix and priorities: STAT mostly ECG (chest pain); overall ≈ 10 % STAT, 20 % urgent, 70 % routine. */
const KIND_MIX: ReadonlyArray<[StudyKind, number]> = [
  ['ecg', 0.5],
  ['xray', 0.3],
  ['us', 0.2],
];
const STAT_SHARE: Record<StudyKind, number> = { ecg: 0.16, xray: 0.04, us: 0.04 };
const URGENT_SHARE = 0.2;

export interface PlannedStudy {
  index: number;
  /** Seed of the synthetic file (distinct UIDs per seed). */
  fileSeed: number;
  /** Simulated minutes after the day start (07:30 local). */
  arrivalMin: number;
  clinic: number;
  kind: StudyKind;
  priority: Priority;
  critical: boolean;
  /** Simulated reading time, minutes. */
  readMin: number;
  /** Simulated delay from delivery to the clinic's acknowledgement, minutes. */
  ackDelayMin: number;
  /** ECG heart rate in bpm; US frame count; X-ray CR or DX. */
  heartRate?: number;
  frames?: number;
  xrayModality?: 'CR' | 'DX';
}

export interface PlanOptions {
  studies: number;
  seed: number;
  clinics: number;
  criticalRate: number;
  /** At least this many critical ECGs (so the closed loop is exercised every run). */
  minCritical: number;
  /** Local hour of the simulated day start (07:30 → 7.5). */
  dayStartHour: number;
  /** No arrivals after this local hour (the profile is cut there); default 17.5. */
  arrivalEndHour?: number;
}

function lognormal(rng: Rng, median: number, sigma: number, cap: number): number {
  return Math.min(cap, median * Math.exp(sigma * rng.normal()));
}

/** One arrival time (local hours) drawn from the intensity profile: N of these form the day's inhomogeneous Poisson process given N. */
function arrivalHour(rng: Rng, endHour: number): number {
  const profile = ARRIVAL_PROFILE.filter((b) => b.from < endHour).map((b) => {
    const to = Math.min(b.to, endHour);
    return { from: b.from, to, weight: (b.weight * (to - b.from)) / (b.to - b.from) };
  });
  if (!profile.length) throw new Error(`no arrivals before ${endHour}:00`);
  const total = profile.reduce((s, b) => s + b.weight, 0);
  let x = rng.float() * total;
  for (const b of profile) {
    if (x < b.weight) return b.from + rng.float() * (b.to - b.from);
    x -= b.weight;
  }
  return profile.at(-1)!.to - 0.01;
}

export function planDay(o: PlanOptions): PlannedStudy[] {
  const rng = new Rng(`teleread-sim-day:${o.seed}`);
  const hours = Array.from({ length: o.studies }, () => arrivalHour(rng, o.arrivalEndHour ?? 17.5)).sort((a, b) => a - b);
  const studies: PlannedStudy[] = hours.map((h, index) => {
    const u = rng.float();
    let acc = 0;
    let kind: StudyKind = 'ecg';
    for (const [k, share] of KIND_MIX) {
      acc += share;
      if (u < acc) {
        kind = k;
        break;
      }
    }
    const p = rng.float();
    const priority: Priority = p < STAT_SHARE[kind] ? 'stat' : p < STAT_SHARE[kind] + URGENT_SHARE ? 'urgent' : 'routine';
    const rt = READING_TIME[kind];
    const s: PlannedStudy = {
      index,
      fileSeed: o.seed * 100_000 + index + 1,
      arrivalMin: (h - o.dayStartHour) * 60,
      clinic: rng.int(0, o.clinics - 1),
      kind,
      priority,
      critical: false,
      readMin: lognormal(rng, rt.medianMin, rt.sigma, rt.medianMin * 4),
      // Ordinary reports: the technician looks in now and then (median 12 min).
      ackDelayMin: lognormal(rng, 12, 0.6, 60),
    };
    if (kind === 'ecg') s.heartRate = rng.int(58, 96);
    if (kind === 'us') s.frames = rng.int(1, 10);
    if (kind === 'xray') s.xrayModality = rng.float() < 0.5 ? 'CR' : 'DX';
    return s;
  });
  // Critical ECGs: criticalRate of the ECGs, at least minCritical. They are profoundly bradycardic
  // (so the automatic flag can fire too); the clinic mostly reads back within 5 minutes, the last
  // one late (so the escalation path runs).
  const ecgs = studies.filter((s) => s.kind === 'ecg');
  const k = Math.min(ecgs.length, Math.max(o.minCritical, Math.round(o.criticalRate * ecgs.length)));
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(rng.int(0, ecgs.length - 1));
  const crit = [...chosen].sort((a, b) => a - b).map((i) => ecgs[i]!);
  crit.forEach((s, j) => {
    s.critical = true;
    s.heartRate = 30 + rng.int(0, 3);
    const late = crit.length >= 2 ? j === crit.length - 1 || rng.float() < 0.15 : false;
    s.ackDelayMin = late ? rng.range(8, 15) : rng.range(1, 4.5);
  });
  return studies;
}
