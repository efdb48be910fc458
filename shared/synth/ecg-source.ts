/**
 * The one place the synthetic ECG study gets its signal from: `ecg-signal.ts` (the deterministic
 * 12-lead generator with known fiducials), reduced to what the DICOM writer needs.
 */
import type { EcgRecording } from '../dicom/ecg/model.ts';
import { syntheticEcg as generateSyntheticEcg, type SyntheticEcgOptions } from './ecg-signal.ts';

/** Knobs of the signal generator beyond rate, intervals, duration and fs. */
export type EcgSignalExtras = Omit<
  SyntheticEcgOptions,
  'seed' | 'samplingFrequency' | 'durationS' | 'heartRate' | 'rrMs' | 'prMs' | 'qrsMs' | 'qtMs'
>;

export interface EcgSignalRequest {
  seed: number;
  heartRate?: number;
  rrMs?: number[];
  prMs?: number;
  qrsMs?: number;
  qtMs?: number;
  durationS: number;
  fs: number;
  extras?: EcgSignalExtras;
}

export interface EcgSignal {
  recording: EcgRecording;
  /** The true values of the generated signal: bpm and ms (prMs null without P waves). */
  measurements: { heartRate: number; rrMs: number; prMs: number | null; qrsMs: number; qtMs: number };
}

export function generateEcgSignal(req: EcgSignalRequest): EcgSignal {
  const { recording, truth } = generateSyntheticEcg({
    ...req.extras,
    seed: req.seed,
    samplingFrequency: req.fs,
    durationS: req.durationS,
    heartRate: req.heartRate,
    rrMs: req.rrMs,
    prMs: req.prMs,
    qrsMs: req.qrsMs,
    qtMs: req.qtMs,
  });
  return {
    recording,
    measurements: {
      heartRate: truth.heartRate,
      rrMs: 60000 / truth.heartRate,
      prMs: truth.prMs,
      qrsMs: truth.qrsMs,
      qtMs: truth.qtMs,
    },
  };
}
