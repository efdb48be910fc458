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
export interface StudyInspector {
  inspect(source: ByteSource): Promise<InspectOutcome>;
  close(): Promise<void>;
}
