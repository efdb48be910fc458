/**
 * The pure analysis of a file's bytes (a prefix or all of it): what runs inside the parse worker,
 * and what the fuzz suite calls in-process. Never throws: every outcome is a plain object.
 */
import type { StudyMetadata } from '../contracts/study.ts';
import type { EcgSummary } from '../domain/case.ts';
import { DicomParseError, REEXPORT } from './codes.ts';
import {
  buildStudyMetadata,
  datasetCharset,
  displayValues,
  readGeometry,
  readWaveformLayout,
  type RawGeometry,
} from './metadata.ts';
import {
  PIXEL_DATA_TAG,
  SUPPORTED_TRANSFER_SYNTAXES,
  normaliseThrown,
  safeParse,
  type DataSet,
  type ParsedDicom,
} from './safe-parse.ts';
import { sopPolicy } from './sop-classes.ts';
import { walkEncapsulated, bufferReader } from './pixel-check.ts';
import { decodeDicomWaveform, isEcgDecodeError, measureEcg, type EcgRecording } from './ecg/index.ts';
import { analyzeEcgFile, decodeEcgFile, sniffEcgFile, type EcgFileFormat } from './ecg-file.ts';

export interface AnalyzeOptions {
  /** Cap on the inflated size of deflated datasets. */
  maxInflatedBytes?: number;
  /** Run the ECG module (decode + measure) on waveform objects when it is present. Default true. */
  ecg?: boolean;
}

/** Where the main thread must check encapsulated pixel data through the ByteSource. */
export interface EncapsulatedCheck {
  kind: 'encapsulated';
  /** File offset of the first item header (after the PixelData element header). */
  offset: number;
  frames: number;
}

export type AnalyzeResult =
  | { kind: 'refused'; code: string; message: string }
  | { kind: 'need-more'; atLeast: number; whole: boolean; deflated?: boolean }
  | { kind: 'ok'; metadata: StudyMetadata; ecg: EcgSummary | null; pixelCheck: EncapsulatedCheck | null };

const refused = (e: DicomParseError): AnalyzeResult => ({ kind: 'refused', code: e.code, message: e.message });

/** Largest single decoded frame accepted (bytes): the most a 32-bit native length can hold. */
const MAX_FRAME_BYTES = 0xfffffffe;
const MAX_FRAMES = 100_000;

function fail(code: DicomParseError['code'], message: string): never {
  throw new DicomParseError(code, message);
}

function checkGeometry(g: RawGeometry, hasPixelData: boolean): NonNullable<StudyMetadata['image']> | undefined {
  const present = g.Rows !== undefined || g.Columns !== undefined;
  if (!present && !hasPixelData) return undefined;
  if (g.Rows === undefined || g.Columns === undefined)
    fail('DICOM.MISSING_ATTRIBUTE', `The image lacks Rows (0028,0010) or Columns (0028,0011). ${REEXPORT}`);
  const rows = g.Rows!;
  const cols = g.Columns!;
  const spp = g.SamplesPerPixel ?? 1;
  const bits = g.BitsAllocated ?? 0;
  const frames = g.NumberOfFrames ?? 1;
  const bad = (what: string) =>
    fail('DICOM.INVALID_GEOMETRY', `The image header is impossible: ${what}. The file is corrupt; ${REEXPORT}`);
  if (rows === 0 || cols === 0) bad('it has zero rows or columns');
  if (spp !== 1 && spp !== 3 && spp !== 4) bad(`it declares ${spp} samples per pixel`);
  if (![1, 8, 16, 32, 64].includes(bits)) bad(`it declares ${bits} bits allocated per sample`);
  if (frames < 1 || frames > MAX_FRAMES) bad(`it declares ${frames} frames`);
  const frameBytes = bits === 1 ? Math.ceil((rows * cols * spp) / 8) : rows * cols * spp * (bits / 8);
  if (frameBytes > MAX_FRAME_BYTES)
    bad(`it claims ${rows} × ${cols} pixels (${Math.round(frameBytes / 2 ** 30)} GiB per frame), which no X-ray or ultrasound device produces`);
  return {
    Rows: rows,
    Columns: cols,
    SamplesPerPixel: spp,
    BitsAllocated: bits,
    BitsStored: g.BitsStored ?? bits,
    PixelRepresentation: g.PixelRepresentation ?? 0,
    PhotometricInterpretation: g.PhotometricInterpretation ?? '',
    NumberOfFrames: frames,
    ...(g.FrameTime !== undefined ? { FrameTime: g.FrameTime } : {}),
    ...(g.PixelSpacing ? { PixelSpacing: g.PixelSpacing } : {}),
    ...(g.ImagerPixelSpacing ? { ImagerPixelSpacing: g.ImagerPixelSpacing } : {}),
    encapsulated: false,
  };
}

function expectedNativeLength(img: NonNullable<StudyMetadata['image']>): number {
  const pixels = img.Rows * img.Columns * img.SamplesPerPixel * img.NumberOfFrames;
  return img.BitsAllocated === 1 ? Math.ceil(pixels / 8) : pixels * (img.BitsAllocated / 8);
}

/** ECG summary of a waveform object from the ECG module (decode + measure). */
function ecgSummary(ds: DataSet): EcgSummary | null {
  let rec: ReturnType<typeof decodeDicomWaveform>;
  try {
    rec = decodeDicomWaveform(ds);
  } catch (e) {
    // The ECG module's own refusals (ECG.NO_ECG_LEADS, ECG.WAVEFORM_TRUNCATED, …) are the file's fault.
    if (isEcgDecodeError(e)) throw new EcgRefusal(e.code, e.message);
    return null;
  }
  return summarise(rec);
}

/** Measurements, flags and the device's own measurements of a decoded recording (null when not measurable). */
function summarise(rec: EcgRecording): EcgSummary | null {
  try {
    const { measurements, flags } = measureEcg(rec);
    const m: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(measurements) as Array<[string, unknown]>) {
      if (typeof v === 'number') m[k] = Number.isFinite(v) ? v : null;
      else if (typeof v === 'boolean') m[k] = v ? 1 : 0;
      else if (v === null) m[k] = null;
    }
    return { measurements: m, flags: [...flags], deviceMeasurements: rec.deviceMeasurements };
  } catch {
    // A decodable signal the measurement code cannot handle is shown without measurements.
    return null;
  }
}

/** Files below this size are sniffed only once whole (the same first read the DICOM door asks for). */
const SNIFF_BYTES = 4096;

/** HL7 aECG / SCP-ECG: the whole file is decoded (size cap as for DICOM waveforms), then projected. */
function analyzeEcgFileBuffer(format: EcgFileFormat, bytes: Uint8Array, fileSize: number, options: AnalyzeOptions): AnalyzeResult {
  if (bytes.length < fileSize) return { kind: 'need-more', atLeast: fileSize, whole: true };
  try {
    const { recording, metadata } = analyzeEcgFile(format, bytes.length > fileSize ? bytes.subarray(0, fileSize) : bytes);
    const ecg = options.ecg !== false ? summarise(recording) : null;
    return { kind: 'ok', metadata, ecg, pixelCheck: null };
  } catch (e) {
    if (isEcgDecodeError(e)) return { kind: 'refused', code: e.code, message: e.message };
    const code = format === 'hl7-aecg' ? 'ECG.AECG_MALFORMED' : 'ECG.SCP_MALFORMED';
    return { kind: 'refused', code, message: 'The ECG file could not be read; it is damaged. Export the ECG again from the electrocardiograph and upload that file.' };
  }
}

/** A refusal raised by the ECG module, carried through with its own code. */
class EcgRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function analyzeParsed(p: ParsedDicom, fileSize: number): {
  metadata: StudyMetadata;
  wantEcg: boolean;
  pixelCheck: EncapsulatedCheck | null;
  inflatedCheck: { offset: number; frames: number } | null;
} {
  const ds = p.dataSet;
  const pixel = ds.elements[PIXEL_DATA_TAG];
  // 1. Values that must parse (IS/DS/US of the geometry).
  const geometry = readGeometry(ds);
  // 2. Lost sync on a wrong length: the pixel data (if any) can no longer be found.
  if (p.desync) {
    if (geometry.Rows !== undefined && !pixel)
      fail(
        'DICOM.PIXEL_DATA_MISSING',
        `The image data cannot be found: an element in the file (often a vendor-private one) has a wrong length, so the structure breaks before the pixels. ${REEXPORT}`,
      );
    fail('DICOM.MALFORMED', `The DICOM file's structure is damaged (an element has a wrong length). ${REEXPORT}`);
  }
  // 3. SOP class policy.
  const sopClass = ds.string('x00080016')?.trim() || p.meta?.mediaStorageSOPClassUID;
  const policy = sopClass ? sopPolicy(sopClass) : null;
  if (policy?.kind === 'refused')
    fail('DICOM.UNSUPPORTED_SOP_CLASS', `This file is ${policy.what}. ${policy.todo}`);
  // 4. Image geometry plausibility.
  const image = policy?.kind === 'ecg' ? undefined : checkGeometry(geometry, !!pixel);
  // 5. Identifiers.
  const base = {
    transferSyntaxUID: p.transferSyntaxUID,
    sniffed: p.sniffed,
    mediaStorageSOPClassUID: p.meta?.mediaStorageSOPClassUID,
    mediaStorageSOPInstanceUID: p.meta?.mediaStorageSOPInstanceUID,
  };
  buildStudyMetadata(ds, base);
  // 6. Payload: ECG waveform or pixel data.
  if (policy?.kind === 'ecg') {
    const waveform = readWaveformLayout(ds, datasetCharset(ds));
    return { metadata: buildStudyMetadata(ds, { ...base, waveform }), wantEcg: true, pixelCheck: null, inflatedCheck: null };
  }
  if (!image || !pixel)
    fail(
      'DICOM.PIXEL_DATA_MISSING',
      `The DICOM file contains no image data (Pixel Data is absent): it is a header-only or incomplete export. ${REEXPORT}`,
    );
  const tsInfo = SUPPORTED_TRANSFER_SYNTAXES[p.transferSyntaxUID]!;
  const undefinedLength = pixel!.length === 0xffffffff;
  if (tsInfo.encapsulated !== undefinedLength)
    fail(
      'DICOM.TRANSFER_SYNTAX_MISMATCH',
      tsInfo.encapsulated
        ? `The file header says the image is compressed (${tsInfo.name}) but the pixel data is stored uncompressed. ${REEXPORT}`
        : `The file header says the image is uncompressed but the pixel data is stored compressed. ${REEXPORT}`,
    );
  const limit = p.fileOffsets ? fileSize : ds.byteArray.length;
  const disp = displayValues(ds);
  const finalImage = {
    ...image!,
    ...Object.fromEntries(Object.entries(disp).filter(([, v]) => v !== undefined)),
    encapsulated: tsInfo.encapsulated,
  };
  let pixelCheck: EncapsulatedCheck | null = null;
  let inflatedCheck: { offset: number; frames: number } | null = null;
  if (!tsInfo.encapsulated) {
    const expected = expectedNativeLength(finalImage);
    const len = pixel!.length;
    if (len !== expected && !(expected % 2 === 1 && len === expected + 1))
      fail(
        'DICOM.PIXEL_DATA_LENGTH_MISMATCH',
        `The image data holds ${len} bytes but the header describes ${finalImage.Rows} × ${finalImage.Columns} pixels × ${finalImage.NumberOfFrames} frame(s) (${expected} bytes); the file is corrupt. ${REEXPORT}`,
      );
    if (pixel!.dataOffset + len > limit)
      fail(
        'DICOM.PIXEL_DATA_TRUNCATED',
        `The image data is cut short: the file ends ${pixel!.dataOffset + len - limit} bytes before the end of the pixels (incomplete copy or upload). Upload the complete file again, or ${REEXPORT.toLowerCase()}`,
      );
  } else if (p.fileOffsets) {
    pixelCheck = { kind: 'encapsulated', offset: pixel!.dataOffset, frames: finalImage.NumberOfFrames };
  } else {
    inflatedCheck = { offset: pixel!.dataOffset, frames: finalImage.NumberOfFrames };
  }
  return {
    metadata: buildStudyMetadata(ds, { ...base, image: finalImage }),
    wantEcg: false,
    pixelCheck,
    inflatedCheck,
  };
}

/**
 * Analyse `bytes` (a prefix of a `fileSize`-byte file, or all of it). Returns a refusal, a request
 * for more bytes, or the metadata (+ a pixel check the caller performs through the ByteSource).
 */
export async function analyzeBuffer(
  bytes: Uint8Array,
  fileSize: number,
  options: AnalyzeOptions = {},
): Promise<AnalyzeResult> {
  try {
    if (bytes.length > 0 && fileSize > 0 && (bytes.length >= fileSize || bytes.length >= SNIFF_BYTES)) {
      const format = sniffEcgFile(bytes);
      if (format) return analyzeEcgFileBuffer(format, bytes, fileSize, options);
    }
    const step = safeParse(bytes, fileSize, options);
    if (step.kind === 'need-more')
      return { kind: 'need-more', atLeast: step.atLeast, whole: step.whole, ...(step.deflated ? { deflated: true } : {}) };
    const r = analyzeParsed(step.parsed, fileSize);
    if (r.inflatedCheck) {
      const w = await walkEncapsulated(bufferReader(step.parsed.dataSet.byteArray), step.parsed.dataSet.byteArray.length, r.inflatedCheck.offset, r.inflatedCheck.frames);
      if (!w.ok) return { kind: 'refused', code: w.code, message: w.message };
    }
    const ecg = r.wantEcg && options.ecg !== false ? ecgSummary(step.parsed.dataSet) : null;
    return { kind: 'ok', metadata: r.metadata, ecg, pixelCheck: r.pixelCheck };
  } catch (e) {
    if (e instanceof EcgRefusal) return { kind: 'refused', code: e.code, message: e.message };
    return refused(normaliseThrown(e));
  }
}

/** Decoded leads for the viewer: the whole accepted ECG file in, calibrated millivolts out. */
export type WaveformResult =
  | { kind: 'refused'; code: string; message: string }
  | {
      kind: 'waveform';
      source: 'dicom' | 'hl7-aecg' | 'scp-ecg';
      groups: { label: string; samplingFrequency: number; leads: { name: string; mv: Float32Array }[] }[];
      measurements: Record<string, number | boolean | null> | null;
      flags: string[];
      deviceMeasurements: Record<string, number | null>;
    };

export function readWaveformBuffer(bytes: Uint8Array, options: AnalyzeOptions = {}): WaveformResult {
  try {
    const format = bytes.length > 0 ? sniffEcgFile(bytes) : null;
    let rec: EcgRecording;
    if (format) {
      rec = decodeEcgFile(format, bytes).recording;
    } else {
      const step = safeParse(bytes, bytes.length, options);
      if (step.kind !== 'parsed') return { kind: 'refused', code: 'DICOM.TRUNCATED', message: `The ECG file is incomplete. ${REEXPORT}` };
      rec = decodeDicomWaveform(step.parsed.dataSet);
    }
    let measurements: Record<string, number | boolean | null> | null = null;
    let flags: string[] = [];
    try {
      const a = measureEcg(rec);
      measurements = { ...a.measurements };
      flags = [...a.flags];
    } catch {
      // Measurements are advisory: a record they cannot analyse is still shown.
    }
    return {
      kind: 'waveform',
      source: rec.source === 'synthetic' ? 'dicom' : rec.source,
      groups: rec.groups.map((g) => ({ label: g.label, samplingFrequency: g.samplingFrequency, leads: g.leads.map((l) => ({ name: l.name, mv: l.mv })) })),
      measurements,
      flags,
      deviceMeasurements: { ...rec.deviceMeasurements },
    };
  } catch (e) {
    if (isEcgDecodeError(e)) return { kind: 'refused', code: e.code, message: e.message };
    const n = normaliseThrown(e);
    return { kind: 'refused', code: n.code, message: n.message };
  }
}
