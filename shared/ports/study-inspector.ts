import type { StudyMetadata } from '../contracts/study.ts';
import type { EcgSummary } from '../domain/case.ts';

/** Random access to an object's bytes without holding it whole. */
export interface ByteSource {
  size: number;
  readRange(offset: number, length: number): Promise<Uint8Array>;
}

export type InspectOutcome =
  | { ok: true; metadata: StudyMetadata; ecg: EcgSummary | null }
  | { ok: false; code: string; message: string };

/**
 * Reads an uploaded file far enough to validate and route it: header-only for images, the waveform
 * for ECGs. Never throws for bad input: refusals come back as `{ok:false, code, message}`.
 */
export interface StudyInspector extends WaveformReader {
  inspect(source: ByteSource): Promise<InspectOutcome>;
  close(): Promise<void>;
}

/** An accepted ECG's leads in calibrated millivolts, for the viewer; measurements are advisory. */
export interface DecodedWaveform {
  source: 'dicom' | 'hl7-aecg' | 'scp-ecg';
  groups: { label: string; samplingFrequency: number; leads: { name: string; mv: Float32Array }[] }[];
  measurements: Record<string, number | boolean | null> | null;
  flags: string[];
  deviceMeasurements: Record<string, number | null>;
}
export type WaveformOutcome = { ok: true; waveform: DecodedWaveform } | { ok: false; code: string; message: string };

/** Decodes the leads of an accepted ECG file (whole file in, never throws for bad input). */
export interface WaveformReader {
  readWaveform(source: ByteSource): Promise<WaveformOutcome>;
}
