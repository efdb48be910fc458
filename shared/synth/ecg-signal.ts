/**
 * Deterministic synthetic 12-lead ECG with known fiducials, for tests, demos and benchmarks.
 * Pure: the same options (seed included) always give the same samples.
 *
 * Each beat is a sum of compact-support waves, so every fiducial is exact:
 *   P   [qrsOnset − PR, qrsOnset − PR + pDuration]        raised cosine
 *   Q   [qrsOnset, qrsOnset + 0.3·QRS]                      raised cosine (negative)
 *   R   [qrsOnset + 0.15·QRS, qrsOnset + 0.75·QRS]          raised cosine
 *   S   [qrsOnset + 0.55·QRS, qrsOnset + QRS]               raised cosine (negative)
 *   T   [qrsOnset + QT − tDuration, qrsOnset + QT]          asymmetric (60 % rise, 40 % fall)
 * Limb leads follow Einthoven/Goldberger from leads I and II (III = II − I, aVR = −(I + II)/2,
 * aVL = I − II/2, aVF = II − I/2); V1–V6 have their own amplitudes (R-wave progression).
 * Noise is white Gaussian per lead; baseline wander a sinusoid per lead with a seeded phase.
 */
import type { EcgRecording } from '../dicom/ecg/model.ts';
import { mulberry32 } from './random.ts';

export interface SyntheticEcgOptions {
  seed?: number;
  /** Sampling frequency, Hz (default 500). */
  samplingFrequency?: number;
  /** Record length, s (default 10). */
  durationS?: number;
  /** Constant rate, bpm (default 75). Ignored when rrMs is given. */
  heartRate?: number;
  /** Explicit RR intervals in ms, used in order and repeated when they run out (pauses, irregular rhythms). */
  rrMs?: number[];
  /** PR interval, ms (default 160). */
  prMs?: number;
  /** QRS duration, ms (default 90). */
  qrsMs?: number;
  /** QT interval, ms (default Fridericia-consistent 400·∛(mean RR in s), at most 0.9·shortest RR). */
  qtMs?: number;
  /** Draw P waves (default true; false for AF-like rhythms). */
  pWaves?: boolean;
  /** Time of the first QRS onset, s (default max(0.4, PR + 0.1)). */
  firstQrsOnsetS?: number;
  /** White noise standard deviation, mV (default 0.01). */
  noiseMv?: number;
  /** Baseline wander amplitude, mV (default 0.05) and frequency, Hz (default 0.3). */
  baselineWanderMv?: number;
  baselineWanderHz?: number;
  /** Multiply every wave amplitude (default 1). */
  amplitude?: number;
  /** Multiply the T wave only (default 1; e.g. 3 for hyperacute T waves). */
  tWaveScale?: number;
  /** Optional power-line interference amplitude (mV) and frequency (Hz, default 50). */
  mainsMv?: number;
  mainsHz?: number;
}

export interface SyntheticEcgTruth {
  /** Per beat, seconds from the start of the record (beats whose QRS onset lies inside the record). */
  qrsOnsetsS: number[];
  qrsOffsetsS: number[];
  /** Apex of the R wave. */
  rPeaksS: number[];
  /** null entries when pWaves is false. */
  pOnsetsS: Array<number | null>;
  tEndsS: number[];
  /** RR intervals between consecutive beats in the record, ms. */
  rrMs: number[];
  heartRate: number;
  prMs: number | null;
  qrsMs: number;
  qtMs: number;
}

export interface SyntheticEcg {
  recording: EcgRecording;
  truth: SyntheticEcgTruth;
}

const LEAD_NAMES = ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'] as const;

type Wave = 'P' | 'Q' | 'R' | 'S' | 'T';
/** Amplitudes (mV) in leads I and II, and V1–V6. */
const LIMB: Record<Wave, [number, number]> = {
  P: [0.08, 0.15],
  Q: [-0.08, -0.12],
  R: [0.8, 1.2],
  S: [-0.15, -0.25],
  T: [0.25, 0.35],
};
const CHEST: Record<Wave, [number, number, number, number, number, number]> = {
  P: [0.05, 0.08, 0.1, 0.1, 0.1, 0.08],
  Q: [0, 0, 0, -0.05, -0.1, -0.1],
  R: [0.2, 0.5, 0.9, 1.4, 1.5, 1.2],
  S: [-1.0, -1.5, -0.9, -0.5, -0.25, -0.1],
  T: [0.1, 0.35, 0.45, 0.45, 0.35, 0.25],
};

function leadAmplitudes(w: Wave): number[] {
  const [i, ii] = LIMB[w];
  return [i, ii, ii - i, -(i + ii) / 2, i - ii / 2, ii - i / 2, ...CHEST[w]];
}

const prng = mulberry32;

function gaussian(rand: () => number): () => number {
  return () => {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/** Raised cosine on [a, b], 1 at the centre. */
function bump(t: number, a: number, b: number): number {
  if (t <= a || t >= b) return 0;
  return 0.5 * (1 - Math.cos((2 * Math.PI * (t - a)) / (b - a)));
}

/** Asymmetric bump: half-cosine rise over `rise` of [a, b], half-cosine fall over the rest. */
function asymBump(t: number, a: number, b: number, rise: number): number {
  if (t <= a || t >= b) return 0;
  const peak = a + rise * (b - a);
  if (t <= peak) return 0.5 * (1 - Math.cos((Math.PI * (t - a)) / (peak - a)));
  return 0.5 * (1 + Math.cos((Math.PI * (t - peak)) / (b - peak)));
}

export function syntheticEcg(options: SyntheticEcgOptions = {}): SyntheticEcg {
  const fs = options.samplingFrequency ?? 500;
  const durationS = options.durationS ?? 10;
  const n = Math.round(fs * durationS);
  const pWaves = options.pWaves ?? true;
  const pr = (options.prMs ?? 160) / 1000;
  const qrs = (options.qrsMs ?? 90) / 1000;
  const amp = options.amplitude ?? 1;
  const tScale = options.tWaveScale ?? 1;
  const rrList = options.rrMs?.length ? options.rrMs.map((v) => v / 1000) : [60 / (options.heartRate ?? 75)];
  if (rrList.some((v) => !(v > 0))) throw new RangeError('RR intervals and heart rate must be positive');
  const meanRr = rrList.reduce((a, b) => a + b, 0) / rrList.length;
  const qt = (options.qtMs ?? Math.min(400 * Math.cbrt(meanRr), 900 * Math.min(...rrList))) / 1000;
  const tDur = Math.min(0.45 * qt, qt - qrs - 0.02);
  const pDur = Math.min(0.1, pr - 0.04);
  if (tDur <= 0.04) throw new RangeError('QT too short for the QRS duration');
  if (pWaves && pDur <= 0.02) throw new RangeError('PR too short');

  // Beat QRS onsets: include one beat before the record and one after so edge waves are drawn.
  const start = options.firstQrsOnsetS ?? Math.max(0.4, (pWaves ? pr : 0) + 0.1);
  const onsets: number[] = [];
  let t = start;
  let k = 0;
  const before = start - rrList[rrList.length - 1]!;
  if (before + qt > 0) onsets.push(before);
  while (t < durationS + pr + 0.1) {
    onsets.push(t);
    t += rrList[k % rrList.length]!;
    k++;
  }

  const waves: Record<Wave, number[]> = { P: leadAmplitudes('P'), Q: leadAmplitudes('Q'), R: leadAmplitudes('R'), S: leadAmplitudes('S'), T: leadAmplitudes('T') };
  const rand = prng(options.seed ?? 1);
  const gauss = gaussian(rand);
  const noise = options.noiseMv ?? 0.01;
  const wander = options.baselineWanderMv ?? 0.05;
  const wanderHz = options.baselineWanderHz ?? 0.3;
  const mains = options.mainsMv ?? 0;
  const mainsHz = options.mainsHz ?? 50;

  const leads = LEAD_NAMES.map((name, li) => {
    const mv = new Float32Array(n);
    const phase = rand() * 2 * Math.PI;
    const mainsPhase = rand() * 2 * Math.PI;
    for (const q0 of onsets) {
      const from = Math.max(0, Math.floor((q0 - pr - 0.01) * fs));
      const to = Math.min(n, Math.ceil((q0 + qt + 0.01) * fs));
      for (let i = from; i < to; i++) {
        const ti = i / fs;
        let v = 0;
        if (pWaves) v += waves.P[li]! * bump(ti, q0 - pr, q0 - pr + pDur);
        v += waves.Q[li]! * bump(ti, q0, q0 + 0.3 * qrs);
        v += waves.R[li]! * bump(ti, q0 + 0.15 * qrs, q0 + 0.75 * qrs);
        v += waves.S[li]! * bump(ti, q0 + 0.55 * qrs, q0 + qrs);
        v += tScale * waves.T[li]! * asymBump(ti, q0 + qt - tDur, q0 + qt, 0.6);
        mv[i] = mv[i]! + amp * v;
      }
    }
    for (let i = 0; i < n; i++) {
      const ti = i / fs;
      mv[i] = mv[i]! + wander * Math.sin(2 * Math.PI * wanderHz * ti + phase) + (noise > 0 ? noise * gauss() : 0) +
        (mains > 0 ? mains * Math.sin(2 * Math.PI * mainsHz * ti + mainsPhase) : 0);
    }
    return { name, mv };
  });

  const inRecord = onsets.filter((q0) => q0 >= 0 && q0 + qrs <= durationS);
  const rr: number[] = [];
  for (let i = 1; i < inRecord.length; i++) rr.push(Math.round((inRecord[i]! - inRecord[i - 1]!) * 1e6) / 1e3);
  const truth: SyntheticEcgTruth = {
    qrsOnsetsS: inRecord,
    qrsOffsetsS: inRecord.map((q0) => q0 + qrs),
    rPeaksS: inRecord.map((q0) => q0 + 0.45 * qrs),
    pOnsetsS: inRecord.map((q0) => (pWaves ? q0 - pr : null)),
    tEndsS: inRecord.map((q0) => q0 + qt),
    rrMs: rr,
    heartRate: 60 / meanRr,
    prMs: pWaves ? Math.round(pr * 1000) : null,
    qrsMs: Math.round(qrs * 1000),
    qtMs: Math.round(qt * 1000),
  };
  return {
    recording: {
      source: 'synthetic',
      groups: [{ label: 'RHYTHM', samplingFrequency: fs, leads }],
      deviceMeasurements: {},
    },
    truth,
  };
}
