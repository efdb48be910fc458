import type { ByteSource } from './study-inspector.ts';

/** One attribute of the DICOM JSON model (PS3.18 F.2): a VR and Value, InlineBinary or BulkDataURI. */
export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}
/** A dataset in the DICOM JSON model, keyed by 8 upper-case hex digits ("0020000D"). */
export type DicomJson = Record<string, DicomJsonAttribute>;

/** A run of bytes in the stored object. */
export interface ByteRun {
  offset: number;
  length: number;
}

/**
 * Where the frames of an instance lie. Native frames are one run each; encapsulated frames are the
 * fragments of their compressed bitstream, in order.
 */
export type FrameLayout =
  | { kind: 'native'; rows: number; columns: number; frames: ByteRun[][]; /** Word size to byte-swap (big-endian files), 0 for none. */ swapBytes: number }
  | { kind: 'encapsulated'; transferSyntaxUID: string; rows: number; columns: number; frames: ByteRun[][] }
  | { kind: 'none' }
  | { kind: 'unsupported'; reason: string };

export type MetadataOutcome = { ok: true; json: DicomJson } | { ok: false; code: string; message: string };
export type FramesOutcome = { ok: true; layout: FrameLayout } | { ok: false; code: string; message: string };

/** Reads stored (already accepted) DICOM objects for DICOMweb, header-only through a ByteSource. Never throws for bad input. */
export interface DicomObjectReader {
  /** The dataset as DICOM JSON without bulk data (PixelData and large binary values are left out). */
  metadata(source: ByteSource): Promise<MetadataOutcome>;
  /** The byte runs of every frame. */
  frames(source: ByteSource): Promise<FramesOutcome>;
}
