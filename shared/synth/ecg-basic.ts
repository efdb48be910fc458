/**
 * A small, deterministic 12-lead ECG signal stand-in, used by the synthetic ECG study until
 * `ecg-signal.ts` (the full generator) is wired in. Sum-of-Gaussians beats in leads I and II;
 * III, aVR, aVL, aVF derived by Einthoven/Goldberger so the limb leads are consistent; V1–V6 with
 * an R-wave progression. Millivolts at `fs` Hz.
 */
import type { EcgRecording } from '../dicom/ecg/model.ts';
import { Rng } from './random.ts';

export interface BasicEcgOptions {
  seed: number;
  /** Mean heart rate in bpm (ignored when rrMs is given). Default 72. */
  heartRate?: number;
  /** RR intervals in ms, used in turn (cycled) for successive beats. */
  rrMs?: number[];
  /** PR interval (P onset → QRS onset) in ms. Default 160. */
  prMs?: number;
  /** QRS duration in ms. Default 90. */
  qrsMs?: number;
  /** QT interval (QRS onset → T end) in ms. Default 380. */
  qtMs?: number;
  durationS?: number;
  fs?: number;
  /** Gaussian noise in mV (default 0.01). */
  noiseMv?: number;
}

interface Wave {
  /** Centre relative to QRS onset, ms. */
  at: number;
  /** Standard deviation, ms. */
  sd: number;
}

/** Amplitudes (mV) of P, Q, R, S, T for one lead. */
type Amps = [p: number, q: number, r: number, s: number, t: number];

const LEAD_I: Amps = [0.08, -0.05, 0.7, -0.12, 0.2];
const LEAD_II: Amps = [0.15, -0.08, 1.1, -0.2, 0.3];
const PRECORDIAL: Amps[] = [
  [0.08, 0, 0.2, -0.9, -0.05], // V1
  [0.1, 0, 0.45, -1.2, 0.3], // V2
  [0.1, -0.03, 0.8, -0.7, 0.4], // V3
  [0.1, -0.06, 1.3, -0.4, 0.4], // V4
  [0.1, -0.08, 1.2, -0.2, 0.3], // V5
  [0.1, -0.08, 0.9, -0.1, 0.25], // V6
];

export function generateBasicEcg(opts: BasicEcgOptions): EcgRecording {
  const fs = opts.fs ?? 500;
  const durationS = opts.durationS ?? 10;
  const pr = opts.prMs ?? 160;
  const qrs = opts.qrsMs ?? 90;
  const qt = opts.qtMs ?? 380;
  const noise = opts.noiseMv ?? 0.01;
  const n = Math.round(durationS * fs);
  const rng = new Rng(`ecg-basic:${opts.seed}`);

  const waves: Wave[] = [
    { at: -pr + 50, sd: 18 }, // P (about 100 ms wide, starting at -pr)
    { at: qrs * 0.15, sd: qrs * 0.06 }, // Q
    { at: qrs * 0.45, sd: qrs * 0.1 }, // R
    { at: qrs * 0.75, sd: qrs * 0.08 }, // S
    { at: qt - 100, sd: 40 }, // T (ends near qt)
  ];

  // Beat onsets (QRS onset times, ms).
  const onsets: number[] = [];
  const meanRr = 60000 / (opts.heartRate ?? 72);
  let t = pr + 80;
  let k = 0;
  while (t < durationS * 1000 + 500) {
    onsets.push(t);
    const rr = opts.rrMs && opts.rrMs.length > 0 ? opts.rrMs[k % opts.rrMs.length]! : meanRr * (1 + 0.015 * rng.normal());
    t += Math.max(150, rr);
    k++;
  }

  const render = (amps: Amps): Float32Array => {
    const x = new Float32Array(n);
    for (const onset of onsets) {
      for (let w = 0; w < 5; w++) {
        const a = amps[w]!;
        if (a === 0) continue;
        const { at, sd } = waves[w]!;
        const centre = onset + at;
        const from = Math.max(0, Math.floor(((centre - 4 * sd) * fs) / 1000));
        const to = Math.min(n - 1, Math.ceil(((centre + 4 * sd) * fs) / 1000));
        for (let i = from; i <= to; i++) {
          const d = ((i * 1000) / fs - centre) / sd;
          x[i]! += a * Math.exp(-0.5 * d * d);
        }
      }
    }
    return x;
  };

  const wanderPhase = rng.range(0, 2 * Math.PI);
  const addNoise = (x: Float32Array): Float32Array => {
    for (let i = 0; i < n; i++) x[i]! += noise * rng.normal() + 0.03 * Math.sin((2 * Math.PI * 0.25 * i) / fs + wanderPhase);
    return x;
  };

  const I = addNoise(render(LEAD_I));
  const II = addNoise(render(LEAD_II));
  const III = new Float32Array(n);
  const aVR = new Float32Array(n);
  const aVL = new Float32Array(n);
  const aVF = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = I[i]!;
    const b = II[i]!;
    III[i] = b - a;
    aVR[i] = -(a + b) / 2;
    aVL[i] = a - b / 2;
    aVF[i] = b - a / 2;
  }
  const precordial = PRECORDIAL.map((amps) => addNoise(render(amps)));
  const names = ['V1', 'V2', 'V3', 'V4', 'V5', 'V6'];
  const meanRrActual =
    onsets.length > 1 ? (onsets[onsets.length - 1]! - onsets[0]!) / (onsets.length - 1) : meanRr;

  return {
    source: 'dicom',
    groups: [
      {
        label: 'RHYTHM',
        samplingFrequency: fs,
        leads: [
          { name: 'I', mv: I },
          { name: 'II', mv: II },
          { name: 'III', mv: III },
          { name: 'aVR', mv: aVR },
          { name: 'aVL', mv: aVL },
          { name: 'aVF', mv: aVF },
          ...precordial.map((mv, i) => ({ name: names[i]!, mv })),
        ],
      },
    ],
    deviceMeasurements: {
      heartRate: Math.round(60000 / meanRrActual),
      rrMs: Math.round(meanRrActual),
      prMs: pr,
      qrsMs: qrs,
      qtMs: qt,
    },
  };
}
