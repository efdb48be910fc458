/**
 * The one place the synthetic ECG study gets its signal from. `ecg-signal.ts` (the full
 * generator, written separately) replaces the stand-in here once it exists.
 */
import type { EcgRecording } from '../dicom/ecg/model.ts';
import { generateBasicEcg } from './ecg-basic.ts';

export interface EcgSignalRequest {
  seed: number;
  heartRate?: number;
  rrMs?: number[];
  prMs: number;
  qrsMs: number;
  qtMs: number;
  durationS: number;
  fs: number;
}

export function generateEcgSignal(req: EcgSignalRequest): EcgRecording {
  return generateBasicEcg(req);
}
