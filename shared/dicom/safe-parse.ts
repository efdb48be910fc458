/**
 * The only wrapper around dicom-parser. It decides what kind of file it was given (Part 10, a raw
 * dataset from an old device, or something else entirely), reads the File Meta Information itself,
 * checks the transfer syntax, and parses the dataset header-only (untilTag = PixelData).
 * Everything dicom-parser throws (strings, Errors, plain `{exception, dataSet}` objects, RangeError
 * from its recursion) is normalised into a `DicomParseError` with a stable code.
 */
import { inflateRawSync } from 'node:zlib';
import type * as DP from 'dicom-parser';
// A static import (CommonJS default export) so esbuild bundles it into the Lambda functions and the
// compiled parse-worker core; a runtime require() would look for node_modules where there is none.
import dicomParserModule from 'dicom-parser';
import { DicomParseError, REEXPORT, refuse } from './codes.ts';

export { DicomParseError, DICOM_CODES, type DicomCode } from './codes.ts';

const dicomParser = dicomParserModule as unknown as typeof DP;
export type DataSet = DP.DataSet;
export type Element = DP.Element;

export const PIXEL_DATA_TAG = 'x7fe00010';

export const TS = {
  IMPLICIT_LE: '1.2.840.10008.1.2',
  EXPLICIT_LE: '1.2.840.10008.1.2.1',
  DEFLATED_LE: '1.2.840.10008.1.2.1.99',
  EXPLICIT_BE: '1.2.840.10008.1.2.2',
} as const;

/** Transfer syntaxes the pipeline accepts, with a short human name. */
export const SUPPORTED_TRANSFER_SYNTAXES: Record<string, { name: string; encapsulated: boolean }> = {
  [TS.IMPLICIT_LE]: { name: 'Implicit VR Little Endian', encapsulated: false },
  [TS.EXPLICIT_LE]: { name: 'Explicit VR Little Endian', encapsulated: false },
  [TS.DEFLATED_LE]: { name: 'Deflated Explicit VR Little Endian', encapsulated: false },
  // Retired, but dicom-parser reads it and the header projection does not care about byte order.
  [TS.EXPLICIT_BE]: { name: 'Explicit VR Big Endian', encapsulated: false },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline', encapsulated: true },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended', encapsulated: true },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless', encapsulated: true },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG Lossless SV1', encapsulated: true },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless', encapsulated: true },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Near-Lossless', encapsulated: true },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 Lossless', encapsulated: true },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', encapsulated: true },
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', encapsulated: true },
};

const KNOWN_UNSUPPORTED_TS: Record<string, string> = {
  '1.2.840.10008.1.2.4.100': 'MPEG-2 video',
  '1.2.840.10008.1.2.4.101': 'MPEG-2 video',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 video',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 video',
  '1.2.840.10008.1.2.4.104': 'MPEG-4 video',
  '1.2.840.10008.1.2.4.105': 'MPEG-4 video',
  '1.2.840.10008.1.2.4.106': 'MPEG-4 video',
  '1.2.840.10008.1.2.4.107': 'HEVC video',
  '1.2.840.10008.1.2.4.108': 'HEVC video',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.4.94': 'JPIP (referenced pixel data)',
  '1.2.840.10008.1.2.4.95': 'JPIP (referenced pixel data)',
};

/** Every VR of PS3.5 (plus the two-letter forms dicom-parser can meet). */
export const VALID_VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW',
  'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);
const LONG_LENGTH_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);

/** Deepest sequence nesting accepted (real objects stay far below; SR trees ~10). */
export const MAX_NESTING_DEPTH = 64;
const MAX_META_BYTES = 64 * 1024;

export interface FileMeta {
  transferSyntaxUID: string;
  mediaStorageSOPClassUID?: string | undefined;
  mediaStorageSOPInstanceUID?: string | undefined;
}

export interface ParsedDicom {
  /** Body elements (file meta not merged). Offsets are into `dataSet.byteArray`. */
  dataSet: DataSet;
  meta: FileMeta | null;
  transferSyntaxUID: string;
  /** True when the file had no Part 10 header and the transfer syntax was guessed. */
  sniffed: boolean;
  deflated: boolean;
  /** The parse stopped at PixelData (7FE0,0010). */
  pixelDataReached: boolean;
  /**
   * Offsets in `dataSet.byteArray` equal offsets in the file (false for deflated bodies, whose
   * byteArray is the inflated dataset).
   */
  fileOffsets: boolean;
  /** Top-level tag order broke (the parser lost sync on a wrong length); elements from there on were dropped. */
  desync: boolean;
}

export type ParseStep =
  | { kind: 'parsed'; parsed: ParsedDicom }
  | { kind: 'need-more'; atLeast: number; whole: boolean; deflated?: boolean; sopClassUID?: string | undefined };

export interface SafeParseOptions {
  /** Cap on the inflated size of a deflated dataset (bytes). */
  maxInflatedBytes?: number;
}

// ---------------------------------------------------------------------------------------------
// Normalisation of whatever dicom-parser throws.

/** The message text of anything thrown: strings, Errors, `{exception}` wrappers, other objects. */
export function thrownText(e: unknown, depth = 0): string {
  if (depth > 3) return 'unknown error';
  if (typeof e === 'string') return e;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    if ('exception' in o) return thrownText(o.exception, depth + 1);
    if (typeof o.message === 'string') return o.message;
    try {
      return JSON.stringify(o).slice(0, 200);
    } catch {
      return 'unknown error';
    }
  }
  return String(e);
}

const isStackOverflow = (e: unknown): boolean => {
  const inner = e && typeof e === 'object' && 'exception' in e ? (e as { exception: unknown }).exception : e;
  return inner instanceof RangeError && /call stack/i.test(inner.message);
};

/** Turn any thrown value into a DicomParseError (for a parse of the whole file). */
export function normaliseThrown(e: unknown): DicomParseError {
  if (e instanceof DicomParseError) return e;
  if (isStackOverflow(e)) return tooDeep();
  const text = thrownText(e);
  if (/overrun|past end|end of buffer|maxP ?osition|eof|cannot be greater than or equal/i.test(text)) {
    return new DicomParseError(
      'DICOM.TRUNCATED',
      `The DICOM file ends before its header is complete (it was cut short, probably during copying or upload). ${REEXPORT}`,
    );
  }
  return new DicomParseError(
    'DICOM.MALFORMED',
    `The DICOM file's structure is damaged and cannot be read safely. ${REEXPORT}`,
  );
}

const tooDeep = () =>
  new DicomParseError(
    'DICOM.TOO_DEEP',
    'The DICOM file nests sequences far deeper than any real device writes; it is damaged or hostile and was not read. ' +
      REEXPORT,
  );

// ---------------------------------------------------------------------------------------------
// Sniffing.

const ascii = (b: Uint8Array, start: number, len: number) => {
  let s = '';
  for (let i = start; i < Math.min(b.length, start + len); i++) s += String.fromCharCode(b[i]!);
  return s;
};
const u16le = (b: Uint8Array, p: number) => b[p]! | (b[p + 1]! << 8);
const u32le = (b: Uint8Array, p: number) => (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
const startsWith = (b: Uint8Array, sig: number[], at = 0) =>
  b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);

const isUpper = (c: number | undefined) => c !== undefined && c >= 0x41 && c <= 0x5a;
const vrAt = (b: Uint8Array, p: number) =>
  isUpper(b[p]) && isUpper(b[p + 1]) ? String.fromCharCode(b[p]!, b[p + 1]!) : null;

const EXECUTABLE_SIGNATURES: Array<{ sig: number[]; what: string }> = [
  { sig: [0x4d, 0x5a], what: 'a Windows program (MZ/PE)' },
  { sig: [0x7f, 0x45, 0x4c, 0x46], what: 'a Linux program (ELF)' },
  { sig: [0xfe, 0xed, 0xfa, 0xce], what: 'a macOS program (Mach-O)' },
  { sig: [0xfe, 0xed, 0xfa, 0xcf], what: 'a macOS program (Mach-O)' },
  { sig: [0xce, 0xfa, 0xed, 0xfe], what: 'a macOS program (Mach-O)' },
  { sig: [0xcf, 0xfa, 0xed, 0xfe], what: 'a macOS program (Mach-O)' },
  { sig: [0xca, 0xfe, 0xba, 0xbe], what: 'a macOS universal program (Mach-O)' },
  { sig: [0x23, 0x21], what: 'a script (#!)' },
];

function executableKind(b: Uint8Array, at = 0): string | null {
  for (const { sig, what } of EXECUTABLE_SIGNATURES) if (startsWith(b, sig, at)) return what;
  return null;
}

/** Recognise well-known non-DICOM files and refuse them with a message that says what they are. */
function refuseKnownNonDicom(b: Uint8Array, fileSize: number): void {
  const notDicom = (what: string, todo: string) =>
    refuse('FILE.NOT_DICOM', `This is ${what}, not a DICOM file. ${todo}`);
  if (ascii(b, 0, 5) === '%PDF-')
    notDicom('a PDF document', 'Export the ECG or image from the device as DICOM (not as a PDF printout) and upload that.');
  if (startsWith(b, [0xff, 0xd8, 0xff]))
    notDicom('a JPEG photo', 'Do not photograph or screenshot the study: export it from the device as DICOM and upload that.');
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47]))
    notDicom('a PNG picture', 'Export the study from the device as DICOM instead of a picture and upload that.');
  if (ascii(b, 0, 4) === 'GIF8') notDicom('a GIF picture', 'Export the study from the device as DICOM and upload that.');
  if (ascii(b, 0, 2) === 'BM' && fileSize > 26 && u32le(b, 2) === fileSize)
    notDicom('a BMP picture', 'Export the study from the device as DICOM and upload that.');
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a]))
    notDicom('a TIFF picture', 'Export the study from the device as DICOM and upload that.');
  if (startsWith(b, [0x1f, 0x8b]))
    notDicom('a gzip-compressed file', 'Decompress it first, or better, upload the original DICOM file from the device.');
  if (ascii(b, 0, 4) === 'PK\x03\x04' || ascii(b, 0, 4) === 'PK\x05\x06')
    notDicom('a ZIP archive', 'Unzip it and upload the DICOM files inside one by one.');
  if (ascii(b, 0, 6) === 'Rar!\x1a\x07') notDicom('a RAR archive', 'Extract it and upload the DICOM files inside.');
  if (startsWith(b, [0x37, 0x7a, 0xbc, 0xaf])) notDicom('a 7-Zip archive', 'Extract it and upload the DICOM files inside.');
  // SCP-ECG and HL7 aECG never reach the DICOM parser through analyzeBuffer / readWaveformBuffer
  // (ecg-file.ts sniffs them first); a direct caller of safeParse gets these refusals.
  // SCP-ECG: CRC (2), total length (4), then section 0 whose header carries 'SCPECG'.
  if (ascii(b, 16, 6) === 'SCPECG')
    refuse(
      'FILE.SCP_ECG',
      'This is an SCP-ECG file (EN 1064), not DICOM. Upload it as it is (TeleRead reads SCP-ECG ECGs), or export the ECG from the device as DICOM (12-lead ECG waveform).',
    );
  // XML: HL7 aECG or anything else.
  let p = 0;
  if (startsWith(b, [0xef, 0xbb, 0xbf])) p = 3;
  while (p < b.length && (b[p] === 0x20 || b[p] === 0x0a || b[p] === 0x0d || b[p] === 0x09)) p++;
  if (b[p] === 0x3c /* '<' */) {
    const head = ascii(b, p, 8192);
    if (/<\?xml|<[A-Za-z!]/.test(head.slice(0, 16))) {
      if (/AnnotatedECG/.test(head))
        refuse(
          'FILE.HL7_AECG',
          'This is an HL7 aECG (XML) ECG file, not DICOM. Upload it as it is (TeleRead reads HL7 aECG ECGs), or export the ECG from the device as DICOM (12-lead ECG waveform).',
        );
      notDicom('an XML or HTML document', 'Export the study from the device as DICOM and upload that.');
    }
  }
  const exe = executableKind(b);
  if (exe) notDicom(exe, 'Never upload programs. Export the study from the device as DICOM and upload that.');
}

/** A plausible first element of a raw (no Part 10 header) dataset: group 0008 in explicit or implicit LE. */
function sniffRawDataset(b: Uint8Array, fileSize: number): string | null {
  if (b.length < 16 || u16le(b, 0) !== 0x0008) return null;
  const elem = u16le(b, 2);
  const vr = vrAt(b, 4);
  if (vr && VALID_VRS.has(vr)) {
    const long = LONG_LENGTH_VRS.has(vr);
    const len = long ? u32le(b, 8) : u16le(b, 6);
    const next = (long ? 12 : 8) + len;
    if (long && (b[6] !== 0 || b[7] !== 0)) return null;
    if (len !== 0xffffffff && next > fileSize) return null;
    if (len !== 0xffffffff && next + 4 <= b.length) {
      const g = u16le(b, next);
      if (g < 0x0008 || (g === 0x0008 && u16le(b, next + 2) <= elem)) return null;
    }
    return TS.EXPLICIT_LE;
  }
  const len = u32le(b, 4);
  if (len === 0xffffffff || 8 + len > fileSize || len > 0x10000) return null;
  if (8 + len + 4 <= b.length) {
    const g = u16le(b, 8 + len);
    if (g < 0x0008 || (g === 0x0008 && u16le(b, 8 + len + 2) <= elem)) return null;
  }
  return TS.IMPLICIT_LE;
}

// ---------------------------------------------------------------------------------------------
// File Meta Information (group 0002, always Explicit VR Little Endian).

type MetaStep = { kind: 'meta'; meta: FileMeta; bodyOffset: number } | { kind: 'need-more'; atLeast: number };

const cleanUid = (b: Uint8Array, off: number, len: number) => ascii(b, off, len).replace(/[\0 ]+$/g, '').trim();

function readFileMeta(b: Uint8Array, fileSize: number): MetaStep {
  let pos = 132;
  const complete = b.length >= fileSize;
  const values: Record<string, string> = {};
  const invalid = (what: string) =>
    refuse('DICOM.FILE_META_INVALID', `The DICOM file header (File Meta Information) is damaged: ${what}. ${REEXPORT}`);
  while (pos + 8 <= b.length && u16le(b, pos) === 0x0002) {
    if (pos - 132 > MAX_META_BYTES) invalid('it is far longer than any device writes');
    const elem = u16le(b, pos + 2);
    const vr = vrAt(b, pos + 4);
    if (!vr || !VALID_VRS.has(vr)) invalid('an element has no valid value representation');
    const long = LONG_LENGTH_VRS.has(vr!);
    if (long && pos + 12 > b.length) break;
    const len = long ? u32le(b, pos + 8) : u16le(b, pos + 6);
    const off = pos + (long ? 12 : 8);
    if (len === 0xffffffff) invalid('an element has an undefined length');
    if (off + len > fileSize) invalid('it runs past the end of the file');
    if (off + len > b.length) return { kind: 'need-more', atLeast: off + len + 16 };
    if (elem === 0x0002 || elem === 0x0003 || elem === 0x0010) values[elem] = cleanUid(b, off, len);
    pos = off + len;
  }
  if (pos + 8 > b.length && !complete) return { kind: 'need-more', atLeast: Math.min(fileSize, pos + 1024) };
  const ts = values[0x0010];
  if (!ts)
    refuse(
      'DICOM.FILE_META_INVALID',
      `The DICOM file header does not say how the file is encoded (Transfer Syntax UID is missing). ${REEXPORT}`,
    );
  return {
    kind: 'meta',
    meta: {
      transferSyntaxUID: ts!,
      mediaStorageSOPClassUID: values[0x0002] || undefined,
      mediaStorageSOPInstanceUID: values[0x0003] || undefined,
    },
    bodyOffset: pos,
  };
}

// ---------------------------------------------------------------------------------------------

function checkTransferSyntax(ts: string): void {
  if (SUPPORTED_TRANSFER_SYNTAXES[ts]) return;
  const known = KNOWN_UNSUPPORTED_TS[ts];
  refuse(
    'DICOM.UNSUPPORTED_TRANSFER_SYNTAX',
    `The file is encoded as ${known ? known : /^[0-9.]{1,64}$/.test(ts) ? `transfer syntax ${ts}` : 'an unknown transfer syntax'}, which TeleRead cannot read. ` +
      'Re-export from the device as uncompressed, JPEG, JPEG 2000 or RLE.',
  );
}

/** Does the first body element contradict the declared VR encoding? */
function checkEncodingMatches(b: Uint8Array, bodyOffset: number, ts: string, fileSize: number): void {
  if (ts === TS.DEFLATED_LE || bodyOffset + 12 > b.length) return;
  const vr = vrAt(b, bodyOffset + 4);
  const explicitOk = !!vr && VALID_VRS.has(vr);
  const implicitLen = u32le(b, bodyOffset + 4);
  const implicitOk = implicitLen !== 0xffffffff && bodyOffset + 8 + implicitLen <= fileSize;
  const mismatch = (declared: string, actual: string) =>
    refuse(
      'DICOM.TRANSFER_SYNTAX_MISMATCH',
      `The file header says the data is ${declared}, but it is actually ${actual}; the exporting software wrote an inconsistent file. ${REEXPORT}`,
    );
  if (ts === TS.IMPLICIT_LE) {
    if (explicitOk && !implicitOk) mismatch('Implicit VR', 'Explicit VR');
  } else if (!explicitOk && implicitOk && ts !== TS.EXPLICIT_BE) {
    mismatch(`Explicit VR (${SUPPORTED_TRANSFER_SYNTAXES[ts]?.name ?? ts})`, 'Implicit VR Little Endian');
  }
}

function inflateCapped(b: Uint8Array, cap: number): Uint8Array {
  try {
    const out = inflateRawSync(b, { maxOutputLength: cap });
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch (e) {
    const text = thrownText(e);
    if (/maxOutputLength|Cannot create a Buffer larger|buffer.*too large|RangeError/i.test(text))
      refuse(
        'FILE.TOO_LARGE',
        `The compressed (deflated) DICOM file expands to more than ${Math.round(cap / 1048576)} MiB, which is not plausible for a study. ${REEXPORT}`,
      );
    return refuse(
      'DICOM.MALFORMED',
      `The compressed (deflated) DICOM data is damaged and cannot be decompressed. ${REEXPORT}`,
    );
  }
}

/** Top-level tags must ascend; a repeat or a step backwards means the parser lost sync on a wrong length. */
function dropAfterDesync(ds: DataSet): boolean {
  const els = Object.values(ds.elements).sort((a, b) => a.dataOffset - b.dataOffset);
  let prev = '';
  for (let i = 0; i < els.length; i++) {
    const el = els[i]!;
    if (el.tag <= prev) {
      for (const rest of els.slice(i)) {
        if (ds.elements[rest.tag] === rest) delete ds.elements[rest.tag];
      }
      return true;
    }
    prev = el.tag;
  }
  return false;
}

type BoundsProblem = { end: number } | null;

/**
 * Walk every element (bounded depth): explicit VRs must be real VRs; every value must lie inside the
 * parsed bytes. Returns the first element running past the end of `limit`, if any.
 */
function checkElements(ds: DataSet, explicit: boolean, limit: number, depth: number): BoundsProblem {
  if (depth > MAX_NESTING_DEPTH) throw tooDeep();
  let worst: BoundsProblem = null;
  for (const el of Object.values(ds.elements)) {
    if (explicit && el.vr !== undefined && !el.tag.startsWith('xfffe') && !VALID_VRS.has(el.vr))
      refuse(
        'DICOM.INVALID_VR',
        `The DICOM file contains an element with an invalid value representation ('${el.vr.replace(/[^ -~]/g, '?')}'); the exporting software wrote a non-conformant file. ${REEXPORT}`,
      );
    if (el.tag === PIXEL_DATA_TAG && depth === 0) continue;
    if (el.length !== 0xffffffff) {
      const end = el.dataOffset + el.length;
      if (!Number.isFinite(end) || end > limit) {
        if (!worst || end > worst.end) worst = { end: Number.isFinite(end) ? end : Infinity };
      }
    }
    for (const item of el.items ?? []) {
      if (item.dataSet) {
        const p = checkElements(item.dataSet, explicit, limit, depth + 1);
        if (p && (!worst || p.end > worst.end)) worst = p;
      }
    }
  }
  return worst;
}

/** SOP Class UID as far as known from a (possibly partial) parse. */
function peekSopClass(meta: FileMeta | null, ds: DataSet | null): string | undefined {
  try {
    const v = ds?.string('x00080016');
    if (v) return v;
  } catch {
    /* ignore */
  }
  return meta?.mediaStorageSOPClassUID;
}

export const isWaveformSopClass = (uid: string | undefined) => !!uid && uid.startsWith('1.2.840.10008.5.1.4.1.1.9.');

/**
 * Parse `bytes` (a prefix of a file of `fileSize` bytes, or all of it) header-only.
 * Returns the parsed dataset, or asks for more bytes; throws DicomParseError for refusals.
 */
export function safeParse(bytes: Uint8Array, fileSize: number, options: SafeParseOptions = {}): ParseStep {
  const maxInflated = options.maxInflatedBytes ?? 64 * 1024 * 1024;
  const complete = bytes.length >= fileSize;
  if (fileSize === 0 || bytes.length === 0)
    refuse('FILE.EMPTY', 'The file is empty (0 bytes). The export or the copy failed: export the study from the device again.');
  const more = (atLeast: number, whole = false, sop?: string): Extract<ParseStep, { kind: 'need-more' }> => ({
    kind: 'need-more',
    atLeast: Math.min(fileSize, Math.max(atLeast, bytes.length * 2)),
    whole,
    sopClassUID: sop,
  });
  if (!complete && bytes.length < Math.min(fileSize, 4096)) return more(4096);

  let meta: FileMeta | null = null;
  let bodyOffset = 0;
  let ts: string;
  let sniffed = false;
  const dicmAt128 = ascii(bytes, 128, 4) === 'DICM';
  if (dicmAt128 && u16le(bytes, 132) === 0x0002) {
    const exe = executableKind(bytes, 0);
    if (exe)
      refuse(
        'DICOM.EXECUTABLE_PREAMBLE',
        `The DICOM file's 128-byte preamble is ${exe}: this is a DICOM/program polyglot (CVE-2019-11687) and was refused for safety. Re-export the study from the device; do not upload files received from unknown sources.`,
      );
    const m = readFileMeta(bytes, fileSize);
    if (m.kind === 'need-more') return more(m.atLeast);
    meta = m.meta;
    bodyOffset = m.bodyOffset;
    ts = meta.transferSyntaxUID;
  } else if (dicmAt128) {
    refuse(
      'DICOM.NO_PART10_HEADER',
      `The file has no valid DICOM file header: the bytes 'DICM' appear at offset 128 but no File Meta Information follows (they are part of the data). ${REEXPORT}`,
    );
    ts = '';
  } else {
    refuseKnownNonDicom(bytes, fileSize);
    const guessed = sniffRawDataset(bytes, fileSize);
    if (!guessed) {
      if (ascii(bytes, 0, 4) === 'DICM' || u16le(bytes, 0) === 0x0002)
        refuse(
          'DICOM.NO_PART10_HEADER',
          `The DICOM file lacks its 128-byte preamble, so its header cannot be read reliably. ${REEXPORT}`,
        );
      refuse(
        'FILE.NOT_DICOM',
        'This file is not a DICOM file (no DICOM header was found). Export the study from the device as DICOM and upload that.',
      );
    }
    ts = guessed!;
    sniffed = true;
  }

  checkTransferSyntax(ts);
  checkEncodingMatches(bytes, bodyOffset, ts, fileSize);

  const deflated = ts === TS.DEFLATED_LE;
  let body = bytes;
  let start = bodyOffset;
  if (deflated) {
    if (!complete) return { ...more(fileSize, true, meta?.mediaStorageSOPClassUID), deflated: true };
    body = inflateCapped(bytes.subarray(bodyOffset), maxInflated);
    start = 0;
  }
  const explicit = ts !== TS.IMPLICIT_LE;
  const parser = ts === TS.EXPLICIT_BE ? dicomParser.bigEndianByteArrayParser : dicomParser.littleEndianByteArrayParser;
  const DataSetCtor = (dicomParser as unknown as { DataSet: new (p: unknown, b: Uint8Array, e: object) => DataSet })
    .DataSet;
  const dataSet = new DataSetCtor(parser, body, {});
  dataSet.warnings = [];
  let parseError: unknown = null;
  if (start < body.length) {
    const stream = new dicomParser.ByteStream(parser, body, start);
    dataSet.warnings = stream.warnings;
    try {
      if (explicit) dicomParser.parseDicomDataSetExplicit(dataSet, stream, body.length, { untilTag: PIXEL_DATA_TAG });
      else dicomParser.parseDicomDataSetImplicit(dataSet, stream, body.length, { untilTag: PIXEL_DATA_TAG });
    } catch (e) {
      parseError = e;
    }
  }
  if (parseError !== null) {
    if (isStackOverflow(parseError)) throw tooDeep();
    if (!complete) return more(bytes.length * 2, isWaveformSopClass(peekSopClass(meta, dataSet)), peekSopClass(meta, dataSet));
    throw normaliseThrown(parseError);
  }

  // A sequence or item of undefined length still open at the end of the bytes: cut short.
  if (dataSet.warnings.some((w) => /eof encountered before finding (sequence|item)/.test(w) && !/peeking/.test(w))) {
    if (!complete) return more(bytes.length * 2, isWaveformSopClass(peekSopClass(meta, dataSet)), peekSopClass(meta, dataSet));
    throw new DicomParseError(
      'DICOM.TRUNCATED',
      `The DICOM file ends inside a sequence (its end markers are missing): it was cut short, probably during copying or upload. ${REEXPORT}`,
    );
  }
  const pixelDataReached = !!dataSet.elements[PIXEL_DATA_TAG];
  const desync = dropAfterDesync(dataSet);
  const limit = deflated ? body.length : fileSize;
  const problem = checkElements(dataSet, explicit, body.length, 0);
  if (problem) {
    if (!deflated && !complete && problem.end <= limit) return more(problem.end, isWaveformSopClass(peekSopClass(meta, dataSet)));
    if (!desync) throw normaliseThrown('element runs past end of buffer');
  }
  const sop = peekSopClass(meta, dataSet);
  if (!complete && !pixelDataReached && !desync) return more(bytes.length * 2, isWaveformSopClass(sop), sop);
  if (!complete && isWaveformSopClass(sop)) return more(fileSize, true, sop);

  return {
    kind: 'parsed',
    parsed: {
      dataSet,
      meta,
      transferSyntaxUID: ts,
      sniffed,
      deflated,
      pixelDataReached,
      fileOffsets: !deflated,
      desync,
    },
  };
}

export { dicomParser };
