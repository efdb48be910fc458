/**
 * Synthetic studies for benchmarks, the load simulation and the demo: CR/DX chest radiographs,
 * ultrasound (single frame, in-memory cine, streamed cine of hundreds of MB) and 12-lead ECG
 * waveforms. Everything is derived from the seed: same seed → byte-identical file; UIDs are
 * under 2.25 and depend on the seed (and kind). Patients are synthetic; nothing here is real data.
 */
import type { EcgRecording } from '../dicom/ecg/model.ts';
import {
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  formatDS,
  part10StreamSize,
  writePart10,
  writePart10Stream,
  type Item,
} from './dicom-writer.ts';
import { generateEcgSignal, type EcgSignalExtras } from './ecg-source.ts';
import { syntheticPatient, type SyntheticPatientOptions } from './patients.ts';
import { chestImage, UltrasoundFrames } from './pixels.ts';
import { Rng, uid225 } from './random.ts';

export const SOP_CLASS = {
  CR: '1.2.840.10008.5.1.4.1.1.1',
  DX_FOR_PRESENTATION: '1.2.840.10008.5.1.4.1.1.1.1',
  US: '1.2.840.10008.5.1.4.1.1.6.1',
  US_MULTIFRAME: '1.2.840.10008.5.1.4.1.1.3.1',
  ECG_12_LEAD: '1.2.840.10008.5.1.4.1.1.9.1.1',
  ECG_GENERAL: '1.2.840.10008.5.1.4.1.1.9.1.2',
} as const;

export type SyntheticKind = 'cr' | 'dx' | 'us' | 'us-cine' | 'ecg';

export interface CommonSynthOptions {
  seed: number;
  /**
   * Groups several instances into one study: same StudyInstanceUID, patient, date and accession
   * for every instance made with the same studySeed. Default: a study of its own per seed and kind.
   */
  studySeed?: number;
  patient?: SyntheticPatientOptions;
  /** Explicit VR Little Endian (default) or Implicit VR Little Endian. */
  transferSyntaxUID?: typeof EXPLICIT_VR_LITTLE_ENDIAN | typeof IMPLICIT_VR_LITTLE_ENDIAN;
  instanceNumber?: number;
  seriesNumber?: number;
  institutionName?: string;
}

export interface SyntheticMetadata {
  kind: SyntheticKind;
  seed: number;
  /** Suggested file name, e.g. "cr-1.dcm". */
  fileName: string;
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  SOPInstanceUID: string;
  SOPClassUID: string;
  Modality: string;
  TransferSyntaxUID: string;
  PatientID: string;
  /** PN as text, e.g. "Wang^Fang=王^芳". */
  PatientName: string;
  PatientSex: string;
  PatientBirthDate: string;
  SpecificCharacterSet?: string;
  StudyDate: string;
  StudyTime: string;
  AccessionNumber: string;
  StudyDescription: string;
  Rows?: number;
  Columns?: number;
  NumberOfFrames?: number;
  SamplesPerPixel?: number;
  BitsAllocated?: number;
  BitsStored?: number;
  PhotometricInterpretation?: string;
  FrameTimeMs?: number;
  /** Length of Pixel Data (7FE0,0010) or Waveform Data (5400,1010) in bytes. */
  pixelDataLength?: number;
  ecg?: {
    samplingFrequency: number;
    samplesPerChannel: number;
    channels: number;
    leads: string[];
    multiplexGroupLabel: string;
    /** Values written into WaveformAnnotationSequence (bpm / ms). */
    measurements: Record<string, number>;
  };
  /** Exact size of the Part 10 file. */
  sizeBytes: number;
}

export interface SyntheticStudy {
  bytes: Uint8Array;
  metadata: SyntheticMetadata;
}

export interface SyntheticStudyStream {
  /**
   * Part 10 bytes in order; iterate once. Frames are generated as the consumer pulls, each in a
   * fresh buffer (safe to keep). Memory does not grow with the file, but freed frames wait for the
   * garbage collector, so expect some tens of MB of slack.
   */
  stream: AsyncIterable<Uint8Array>;
  /**
   * The same bytes pushed to `write`, awaited chunk by chunk, frames rendered into one reused
   * buffer: a chunk is only valid until the returned promise settles (copy it to keep it).
   * Memory stays at about one frame. Can be used instead of `stream`, not as well.
   */
  writeTo(write: (chunk: Uint8Array) => Promise<void> | void): Promise<void>;
  metadata: SyntheticMetadata;
}

// ───────────────────────────── shared header ─────────────────────────────

interface Header {
  elements: Item[];
  meta: Omit<SyntheticMetadata, 'sizeBytes' | 'fileName' | 'kind' | 'seed' | 'SOPClassUID' | 'Modality' | 'StudyDescription'>;
  rng: Rng;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Study date/time from the study seed: a day in 2025–2026 during clinic hours. No clock. */
function studyMoment(studyKey: string): { date: string; time: string; contentTime: string } {
  const rng = new Rng(`moment:${studyKey}`);
  const day = new Date(Date.UTC(2025, 0, 1) + rng.int(0, 699) * 86_400_000);
  const date = `${day.getUTCFullYear()}${pad2(day.getUTCMonth() + 1)}${pad2(day.getUTCDate())}`;
  const secs = rng.int(8 * 3600, 17 * 3600);
  const hms = (s: number): string => `${pad2(Math.floor(s / 3600))}${pad2(Math.floor(s / 60) % 60)}${pad2(s % 60)}`;
  return { date, time: hms(secs), contentTime: hms(secs + rng.int(60, 900)) };
}

function header(
  kind: SyntheticKind,
  o: CommonSynthOptions,
  sopClassUID: string,
  modality: string,
  descriptions: { study: string; series: string },
): Header {
  if (!Number.isSafeInteger(o.seed)) throw new Error(`seed must be an integer, got ${o.seed}`);
  const studyKey = o.studySeed !== undefined ? `study:${o.studySeed}` : `study:${kind}:${o.seed}`;
  const patient = syntheticPatient(studyKey, o.patient);
  const moment = studyMoment(studyKey);
  const studyRng = new Rng(`accession:${studyKey}`);
  const accession = `SYN${String(studyRng.int(0, 999_999_999)).padStart(9, '0')}`;
  const studyId = String(studyRng.int(1, 99_999));
  const StudyInstanceUID = uid225(studyKey);
  const SeriesInstanceUID = uid225('series', kind, o.seed, o.studySeed ?? '');
  const SOPInstanceUID = uid225('instance', kind, o.seed, o.studySeed ?? '');
  const ts = o.transferSyntaxUID ?? EXPLICIT_VR_LITTLE_ENDIAN;
  const elements: Item[] = [
    { tag: '00080012', vr: 'DA', value: moment.date },
    { tag: '00080013', vr: 'TM', value: moment.contentTime },
    { tag: '00080016', vr: 'UI', value: sopClassUID },
    { tag: '00080018', vr: 'UI', value: SOPInstanceUID },
    { tag: '00080020', vr: 'DA', value: moment.date },
    { tag: '00080021', vr: 'DA', value: moment.date },
    { tag: '00080023', vr: 'DA', value: moment.date },
    { tag: '00080030', vr: 'TM', value: moment.time },
    { tag: '00080031', vr: 'TM', value: moment.time },
    { tag: '00080033', vr: 'TM', value: moment.contentTime },
    { tag: '00080050', vr: 'SH', value: accession },
    { tag: '00080060', vr: 'CS', value: modality },
    { tag: '00080070', vr: 'LO', value: 'TeleRead Synthetic' },
    { tag: '00080080', vr: 'LO', value: o.institutionName ?? 'Synthetic Township Health Centre' },
    { tag: '00080090', vr: 'PN', value: '' },
    { tag: '00081030', vr: 'LO', value: descriptions.study },
    { tag: '0008103E', vr: 'LO', value: descriptions.series },
    { tag: '00081090', vr: 'LO', value: `synth-${kind}` },
    { tag: '00100010', vr: 'PN', value: patient.nameValue },
    { tag: '00100020', vr: 'LO', value: patient.id },
    { tag: '00100030', vr: 'DA', value: patient.birthDate },
    { tag: '00100040', vr: 'CS', value: patient.sex },
    { tag: '00181020', vr: 'LO', value: 'teleread-synth 1' },
    { tag: '0020000D', vr: 'UI', value: StudyInstanceUID },
    { tag: '0020000E', vr: 'UI', value: SeriesInstanceUID },
    { tag: '00200010', vr: 'SH', value: studyId },
    { tag: '00200011', vr: 'IS', value: o.seriesNumber ?? 1 },
    { tag: '00200013', vr: 'IS', value: o.instanceNumber ?? 1 },
  ];
  if (patient.specificCharacterSet) elements.push({ tag: '00080005', vr: 'CS', value: patient.specificCharacterSet });
  return {
    elements,
    rng: new Rng(`${kind}:${o.seed}:${o.studySeed ?? ''}`),
    meta: {
      StudyInstanceUID,
      SeriesInstanceUID,
      SOPInstanceUID,
      TransferSyntaxUID: ts,
      PatientID: patient.id,
      PatientName: patient.name,
      PatientSex: patient.sex,
      PatientBirthDate: patient.birthDate,
      ...(patient.specificCharacterSet ? { SpecificCharacterSet: patient.specificCharacterSet } : {}),
      StudyDate: moment.date,
      StudyTime: moment.time,
      AccessionNumber: accession,
    },
  };
}

function code(value: string, scheme: string, meaning: string): Item[] {
  return [
    { tag: '00080100', vr: 'SH', value },
    { tag: '00080102', vr: 'SH', value: scheme },
    { tag: '00080104', vr: 'LO', value: meaning },
  ];
}

// ───────────────────────────── CR / DX ─────────────────────────────

export interface CrDxOptions extends CommonSynthOptions {
  modality: 'CR' | 'DX';
  rows?: number;
  columns?: number;
  bitsStored?: number;
  photometric?: 'MONOCHROME2' | 'MONOCHROME1';
  /** Detector pixel pitch in mm (default 0.175, a 35×43 cm plate at 2000×2500). */
  pixelSpacingMm?: number;
}

/**
 * A PA chest radiograph, 16-bit allocated, native little endian. CR Image Storage, or Digital
 * X-Ray Image Storage – For Presentation for DX (with the DX Image / Detector attributes).
 */
export function syntheticCrDx(o: CrDxOptions): SyntheticStudy {
  const rows = o.rows ?? 2500;
  const columns = o.columns ?? 2000;
  const bitsStored = o.bitsStored ?? 12;
  const photometric = o.photometric ?? 'MONOCHROME2';
  if (o.modality !== 'CR' && o.modality !== 'DX') throw new Error(`modality must be CR or DX, got ${String(o.modality)}`);
  if (!(rows > 0 && rows <= 0xffff && columns > 0 && columns <= 0xffff)) throw new Error('rows/columns out of range');
  if (!(bitsStored >= 8 && bitsStored <= 16)) throw new Error('bitsStored must be 8..16');
  const kind = o.modality === 'CR' ? 'cr' : 'dx';
  const sopClass = o.modality === 'CR' ? SOP_CLASS.CR : SOP_CLASS.DX_FOR_PRESENTATION;
  const study = 'XR CHEST PA (synthetic)';
  const h = header(kind, o, sopClass, o.modality, { study, series: `${o.modality} chest PA` });
  const spacing = formatDS(o.pixelSpacingMm ?? 0.175);
  const max = 2 ** bitsStored - 1;
  const pixels = chestImage(o.seed, { rows, columns, bitsStored, monochrome1: photometric === 'MONOCHROME1' });
  const elements: Item[] = [
    ...h.elements,
    { tag: '00080008', vr: 'CS', value: 'ORIGINAL\\PRIMARY' },
    { tag: '00180015', vr: 'CS', value: 'CHEST' },
    { tag: '00180060', vr: 'DS', value: h.rng.int(100, 125) },
    { tag: '00181164', vr: 'DS', value: [spacing, spacing] },
    { tag: '00185101', vr: 'CS', value: 'PA' },
    { tag: '00200020', vr: 'CS', value: 'L\\F' },
    { tag: '00280002', vr: 'US', value: 1 },
    { tag: '00280004', vr: 'CS', value: photometric },
    { tag: '00280010', vr: 'US', value: rows },
    { tag: '00280011', vr: 'US', value: columns },
    { tag: '00280100', vr: 'US', value: 16 },
    { tag: '00280101', vr: 'US', value: bitsStored },
    { tag: '00280102', vr: 'US', value: bitsStored - 1 },
    { tag: '00280103', vr: 'US', value: 0 },
    { tag: '00281050', vr: 'DS', value: Math.round(max * 0.45) },
    { tag: '00281051', vr: 'DS', value: Math.round(max * 0.8) },
    { tag: '00282110', vr: 'CS', value: '00' },
    { tag: '7FE00010', vr: 'OW', value: pixels },
  ];
  if (o.modality === 'DX') {
    elements.push(
      { tag: '00080068', vr: 'CS', value: 'FOR PRESENTATION' },
      { tag: '00082218', vr: 'SQ', value: [code('43799004', 'SCT', 'Chest')] },
      { tag: '00187004', vr: 'CS', value: 'SCINTILLATOR' },
      { tag: '00200062', vr: 'CS', value: 'U' },
      { tag: '00280030', vr: 'DS', value: [spacing, spacing] },
      { tag: '00280301', vr: 'CS', value: 'NO' },
      { tag: '00281040', vr: 'CS', value: 'LOG' },
      { tag: '00281041', vr: 'SS', value: photometric === 'MONOCHROME1' ? 1 : -1 },
      { tag: '00281052', vr: 'DS', value: 0 },
      { tag: '00281053', vr: 'DS', value: 1 },
      { tag: '00281054', vr: 'LO', value: 'US' },
      { tag: '00400555', vr: 'SQ', value: [] },
      { tag: '20500020', vr: 'CS', value: photometric === 'MONOCHROME1' ? 'INVERSE' : 'IDENTITY' },
    );
  }
  const bytes = writePart10({ transferSyntaxUID: h.meta.TransferSyntaxUID, elements });
  return {
    bytes,
    metadata: {
      kind,
      seed: o.seed,
      fileName: `${kind}-${o.seed}.dcm`,
      ...h.meta,
      SOPClassUID: sopClass,
      Modality: o.modality,
      StudyDescription: study,
      Rows: rows,
      Columns: columns,
      NumberOfFrames: 1,
      SamplesPerPixel: 1,
      BitsAllocated: 16,
      BitsStored: bitsStored,
      PhotometricInterpretation: photometric,
      pixelDataLength: pixels.length,
      sizeBytes: bytes.length,
    },
  };
}

// ───────────────────────────── ultrasound ─────────────────────────────

export interface UltrasoundOptions extends CommonSynthOptions {
  /** 1 → Ultrasound Image Storage; more → Ultrasound Multi-frame Image Storage. Default 1. */
  frames?: number;
  rows?: number;
  columns?: number;
  /** RGB (interleaved) instead of MONOCHROME2. */
  rgb?: boolean;
  frameTimeMs?: number;
}

interface UsPlan {
  h: Header;
  elements: Item[];
  gen: UltrasoundFrames;
  frames: number;
  rows: number;
  columns: number;
  samples: number;
  frameTime: number;
  sopClass: string;
  kind: SyntheticKind;
  study: string;
}

function planUltrasound(o: UltrasoundOptions, kind: SyntheticKind): UsPlan {
  const frames = o.frames ?? 1;
  const rows = o.rows ?? 480;
  const columns = o.columns ?? 640;
  const frameTime = o.frameTimeMs ?? 33.3;
  if (!Number.isInteger(frames) || frames < 1) throw new Error(`frames must be a positive integer, got ${frames}`);
  if (!(rows > 0 && rows <= 0xffff && columns > 0 && columns <= 0xffff)) throw new Error('rows/columns out of range');
  if (!(frameTime > 0)) throw new Error('frameTimeMs must be positive');
  const samples = o.rgb ? 3 : 1;
  const multi = frames > 1;
  const sopClass = multi ? SOP_CLASS.US_MULTIFRAME : SOP_CLASS.US;
  const study = multi ? 'US ECHO CINE (synthetic)' : 'US ABDOMEN (synthetic)';
  const h = header(kind, o, sopClass, 'US', { study, series: multi ? 'US cine' : 'US image' });
  const gen = new UltrasoundFrames(o.seed, { rows, columns, rgb: o.rgb, cycleFrames: Math.max(2, Math.round(800 / frameTime)) });
  const delta = 0.03 + h.rng.int(0, 2) * 0.005; // cm per pixel
  const region: Item[] = [
    { tag: '00186012', vr: 'US', value: 1 }, // RegionSpatialFormat: 2D
    { tag: '00186014', vr: 'US', value: 1 }, // RegionDataType: tissue
    { tag: '00186016', vr: 'UL', value: 0 }, // RegionFlags
    { tag: '00186018', vr: 'UL', value: 0 },
    { tag: '0018601A', vr: 'UL', value: 0 },
    { tag: '0018601C', vr: 'UL', value: columns - 1 },
    { tag: '0018601E', vr: 'UL', value: rows - 1 },
    { tag: '00186024', vr: 'US', value: 3 }, // cm
    { tag: '00186026', vr: 'US', value: 3 }, // cm
    { tag: '0018602C', vr: 'FD', value: delta },
    { tag: '0018602E', vr: 'FD', value: delta },
  ];
  const elements: Item[] = [
    ...h.elements,
    { tag: '00080008', vr: 'CS', value: 'ORIGINAL\\PRIMARY' },
    { tag: '00180015', vr: 'CS', value: multi ? 'HEART' : 'ABDOMEN' },
    { tag: '00186011', vr: 'SQ', value: [region] },
    { tag: '00200020', vr: 'CS', value: '' },
    { tag: '00280002', vr: 'US', value: samples },
    { tag: '00280004', vr: 'CS', value: o.rgb ? 'RGB' : 'MONOCHROME2' },
    { tag: '00280010', vr: 'US', value: rows },
    { tag: '00280011', vr: 'US', value: columns },
    { tag: '00280100', vr: 'US', value: 8 },
    { tag: '00280101', vr: 'US', value: 8 },
    { tag: '00280102', vr: 'US', value: 7 },
    { tag: '00280103', vr: 'US', value: 0 },
    { tag: '00282110', vr: 'CS', value: '00' },
  ];
  if (o.rgb) elements.push({ tag: '00280006', vr: 'US', value: 0 });
  if (multi) {
    const rate = Math.round(1000 / frameTime);
    elements.push(
      { tag: '00082144', vr: 'IS', value: rate },
      { tag: '00180040', vr: 'IS', value: rate },
      { tag: '00181063', vr: 'DS', value: frameTime },
      { tag: '00280008', vr: 'IS', value: frames },
      { tag: '00280009', vr: 'AT', value: '00181063' },
    );
  }
  return { h, elements, gen, frames, rows, columns, samples, frameTime, sopClass, kind, study };
}

function usMetadata(p: UsPlan, o: UltrasoundOptions, sizeBytes: number): SyntheticMetadata {
  return {
    kind: p.kind,
    seed: o.seed,
    fileName: `${p.kind}-${o.seed}.dcm`,
    ...p.h.meta,
    SOPClassUID: p.sopClass,
    Modality: 'US',
    StudyDescription: p.study,
    Rows: p.rows,
    Columns: p.columns,
    NumberOfFrames: p.frames,
    SamplesPerPixel: p.samples,
    BitsAllocated: 8,
    BitsStored: 8,
    PhotometricInterpretation: o.rgb ? 'RGB' : 'MONOCHROME2',
    ...(p.frames > 1 ? { FrameTimeMs: p.frameTime } : {}),
    pixelDataLength: p.gen.frameBytes * p.frames,
    sizeBytes,
  };
}

/** Ultrasound in memory: single frame (default) or a multi-frame cine (frames > 1). */
export function syntheticUltrasound(o: UltrasoundOptions): SyntheticStudy {
  const p = planUltrasound(o, (o.frames ?? 1) > 1 ? 'us-cine' : 'us');
  const total = p.gen.frameBytes * p.frames;
  if (total > 1024 * 1024 * 1024) throw new Error('over 1 GiB of pixel data: use syntheticUltrasoundStream');
  const pixels = new Uint8Array(total);
  for (let f = 0; f < p.frames; f++) pixels.set(p.gen.frame(f), f * p.gen.frameBytes);
  const bytes = writePart10({
    transferSyntaxUID: p.h.meta.TransferSyntaxUID,
    elements: [...p.elements, { tag: '7FE00010', vr: 'OB', value: pixels }],
  });
  return { bytes, metadata: usMetadata(p, o, bytes.length) };
}

/**
 * A multi-frame ultrasound cine streamed frame by frame (for files of hundreds of MB): memory
 * stays at about one frame plus the precomputed fan. Byte-identical to syntheticUltrasound with
 * the same options. `metadata.sizeBytes` is known before the stream is read.
 */
export function syntheticUltrasoundStream(o: UltrasoundOptions & { frames: number }): SyntheticStudyStream {
  const p = planUltrasound(o, o.frames > 1 ? 'us-cine' : 'us');
  const pixelLength = p.gen.frameBytes * p.frames;
  const opts = { transferSyntaxUID: p.h.meta.TransferSyntaxUID, elements: p.elements, pixelDataVR: 'OB' as const };
  const sizeBytes = part10StreamSize(opts, pixelLength);
  const gen = p.gen;
  const frames = p.frames;
  let used = false;
  const once = (): void => {
    if (used) throw new Error('a synthetic stream can be consumed once');
    used = true;
  };
  function* freshFrames(): Generator<Uint8Array> {
    for (let f = 0; f < frames; f++) yield gen.frame(f);
  }
  function* reusedFrames(): Generator<Uint8Array> {
    const buf = new Uint8Array(gen.frameBytes);
    for (let f = 0; f < frames; f++) yield gen.frameInto(f, buf);
  }
  async function* stream(): AsyncGenerator<Uint8Array> {
    once();
    yield* writePart10Stream(opts, freshFrames(), pixelLength);
  }
  return {
    stream: stream(),
    async writeTo(write) {
      once();
      for await (const chunk of writePart10Stream(opts, reusedFrames(), pixelLength)) await write(chunk);
    },
    metadata: usMetadata(p, o, sizeBytes),
  };
}

// ───────────────────────────── 12-lead ECG ─────────────────────────────

export interface EcgOptions extends CommonSynthOptions {
  /** Mean heart rate in bpm (default 75; ignored when rrMs is given). */
  heartRate?: number;
  /** RR intervals in ms, cycled (for irregular rhythms or pauses). */
  rrMs?: number[];
  /** PR interval, ms (default 160). */
  pr?: number;
  /** QRS duration, ms (default 90). */
  qrs?: number;
  /** QT interval, ms (default: the generator's rate-consistent value, 400·∛RR). */
  qt?: number;
  durationS?: number;
  /** Sampling frequency, Hz (200–1000 for the ECG SOP classes; default 500). */
  fs?: number;
  /** Further knobs of the signal generator (no P waves, T-wave scale, noise, mains hum, …). */
  signal?: EcgSignalExtras;
}

/** CID 3001 (ECG Leads), coding scheme MDC. */
export const ECG_LEAD_CODES: Record<string, { value: string; meaning: string }> = {
  I: { value: '2:1', meaning: 'Lead I' },
  II: { value: '2:2', meaning: 'Lead II' },
  III: { value: '2:61', meaning: 'Lead III' },
  aVR: { value: '2:62', meaning: 'aVR, augmented voltage, right' },
  aVL: { value: '2:63', meaning: 'aVL, augmented voltage, left' },
  aVF: { value: '2:64', meaning: 'aVF, augmented voltage, foot' },
  V1: { value: '2:3', meaning: 'Lead V1' },
  V2: { value: '2:4', meaning: 'Lead V2' },
  V3: { value: '2:5', meaning: 'Lead V3' },
  V4: { value: '2:6', meaning: 'Lead V4' },
  V5: { value: '2:7', meaning: 'Lead V5' },
  V6: { value: '2:8', meaning: 'Lead V6' },
};

/** Global measurements written as waveform annotations: CID 3689 durations (MDC) and heart rate. */
const ECG_MEASUREMENT_CODES: Array<{ key: string; value: string; meaning: string; unit: [string, string] }> = [
  { key: 'heartRate', value: '2:16770', meaning: 'ECG Heart Rate', unit: ['{beats}/min', 'beats per minute'] },
  { key: 'rrMs', value: '2:16000', meaning: 'RR time period, global', unit: ['ms', 'millisecond'] },
  { key: 'prMs', value: '2:15872', meaning: 'PR time period, global', unit: ['ms', 'millisecond'] },
  { key: 'qrsMs', value: '2:16156', meaning: 'QRS duration, global', unit: ['ms', 'millisecond'] },
  { key: 'qtMs', value: '2:16160', meaning: 'QT duration, global', unit: ['ms', 'millisecond'] },
];

const ECG_SENSITIVITY_UV = 1; // one sample unit = 1 µV
const MAX_12_LEAD_SAMPLES = 16384;

/**
 * A 12-lead resting ECG: 12-Lead ECG Waveform Storage (General ECG when longer than 16384 samples
 * per channel), one RHYTHM multiplex group, SS 16-bit samples in µV, leads coded by CID 3001 (MDC).
 */
export function syntheticEcg(o: EcgOptions): SyntheticStudy & { recording: EcgRecording } {
  const fs = o.fs ?? 500;
  const durationS = o.durationS ?? 10;
  if (!(fs >= 200 && fs <= 1000)) throw new Error(`fs ${fs} Hz outside 200–1000 Hz of the ECG waveform SOP classes`);
  if (!(durationS > 0 && durationS <= 600)) throw new Error('durationS must be in (0, 600]');
  const { recording, measurements: truth } = generateEcgSignal({
    seed: o.seed,
    heartRate: o.heartRate,
    rrMs: o.rrMs,
    prMs: o.pr,
    qrsMs: o.qrs,
    qtMs: o.qt,
    durationS,
    fs,
    extras: o.signal,
  });
  const group = recording.groups[0];
  if (!group) throw new Error('ECG signal generator returned no group');
  const leads = ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'].map((name) => {
    const lead = group.leads.find((l) => l.name === name);
    if (!lead) throw new Error(`ECG signal lacks lead ${name}`);
    return lead;
  });
  const ns = Math.min(...leads.map((l) => l.mv.length));
  const nch = leads.length;
  const sopClass = ns <= MAX_12_LEAD_SAMPLES ? SOP_CLASS.ECG_12_LEAD : SOP_CLASS.ECG_GENERAL;
  const study = 'ECG 12-lead resting (synthetic)';
  const h = header('ecg', o, sopClass, 'ECG', { study, series: '12-lead ECG' });

  // Interleaved samples: s0c0 s0c1 … s0c11 s1c0 …, int16 LE, µV / sensitivity.
  const data = new Uint8Array(ns * nch * 2);
  const dv = new DataView(data.buffer);
  for (let s = 0, pos = 0; s < ns; s++) {
    for (let c = 0; c < nch; c++, pos += 2) {
      let v = Math.round((leads[c]!.mv[s]! * 1000) / ECG_SENSITIVITY_UV);
      if (!Number.isFinite(v)) v = 0;
      if (v > 32767) v = 32767;
      else if (v < -32767) v = -32767;
      dv.setInt16(pos, v, true);
    }
  }

  const channels: Item[][] = leads.map((lead, i) => {
    const c = ECG_LEAD_CODES[lead.name]!;
    return [
      { tag: '003A0202', vr: 'IS', value: i + 1 },
      { tag: '003A0203', vr: 'SH', value: lead.name },
      { tag: '003A0208', vr: 'SQ', value: [code(c.value, 'MDC', c.meaning)] },
      { tag: '003A0210', vr: 'DS', value: ECG_SENSITIVITY_UV },
      { tag: '003A0211', vr: 'SQ', value: [code('uV', 'UCUM', 'microvolt')] },
      { tag: '003A0212', vr: 'DS', value: 1 },
      { tag: '003A0213', vr: 'DS', value: 0 },
      { tag: '003A0215', vr: 'DS', value: 0 },
      { tag: '003A021A', vr: 'US', value: 16 },
      { tag: '003A0220', vr: 'DS', value: 0.05 },
      { tag: '003A0221', vr: 'DS', value: 150 },
      { tag: '003A0222', vr: 'DS', value: 50 },
    ];
  });
  const waveformItem: Item[] = [
    { tag: '00181068', vr: 'DS', value: 0 },
    { tag: '003A0004', vr: 'CS', value: 'ORIGINAL' },
    { tag: '003A0005', vr: 'US', value: nch },
    { tag: '003A0010', vr: 'UL', value: ns },
    { tag: '003A001A', vr: 'DS', value: fs },
    { tag: '003A0020', vr: 'SH', value: 'RHYTHM' },
    { tag: '003A0200', vr: 'SQ', value: channels },
    { tag: '54001004', vr: 'US', value: 16 },
    { tag: '54001006', vr: 'CS', value: 'SS' },
    { tag: '54001010', vr: 'OW', value: data },
  ];

  const requested: Record<string, number | null> = {
    heartRate: truth.heartRate,
    rrMs: truth.rrMs,
    prMs: truth.prMs,
    qrsMs: truth.qrsMs,
    qtMs: truth.qtMs,
  };
  const measurements: Record<string, number> = {};
  const annotations: Item[][] = [];
  for (const m of ECG_MEASUREMENT_CODES) {
    const v = requested[m.key];
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    const value = Math.round(v);
    measurements[m.key] = value;
    annotations.push([
      { tag: '004008EA', vr: 'SQ', value: [code(m.unit[0], 'UCUM', m.unit[1])] },
      { tag: '0040A043', vr: 'SQ', value: [code(m.value, 'MDC', m.meaning)] },
      { tag: '0040A0B0', vr: 'US', value: [1, 0] },
      { tag: '0040A180', vr: 'US', value: 0 },
      { tag: '0040A30A', vr: 'DS', value: value },
    ]);
  }

  const dt = h.elements.find((e) => e.tag === '00080023')!.value as string;
  const tm = h.elements.find((e) => e.tag === '00080033')!.value as string;
  const elements: Item[] = [
    ...h.elements,
    { tag: '0008002A', vr: 'DT', value: `${dt}${tm}` },
    { tag: '00400555', vr: 'SQ', value: [] },
    { tag: '0040B020', vr: 'SQ', value: annotations },
    { tag: '54000100', vr: 'SQ', value: [waveformItem] },
  ];
  const bytes = writePart10({ transferSyntaxUID: h.meta.TransferSyntaxUID, elements });
  return {
    bytes,
    recording,
    metadata: {
      kind: 'ecg',
      seed: o.seed,
      fileName: `ecg-${o.seed}.dcm`,
      ...h.meta,
      SOPClassUID: sopClass,
      Modality: 'ECG',
      StudyDescription: study,
      pixelDataLength: data.length,
      ecg: {
        samplingFrequency: fs,
        samplesPerChannel: ns,
        channels: nch,
        leads: leads.map((l) => l.name),
        multiplexGroupLabel: 'RHYTHM',
        measurements,
      },
      sizeBytes: bytes.length,
    },
  };
}
