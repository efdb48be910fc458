/**
 * DICOMweb reading of stored instances: the header of an accepted file as the DICOM JSON model
 * (PS3.18 F.2) and where each frame's bytes lie, both from a header-only parse through a ByteSource.
 * The dataset is parsed by the same safe wrapper ingest uses (safe-parse.ts); implicit-VR elements
 * get their VR from the DICOM data dictionary (vr-table.ts, generated from dcmjs's).
 */
import type { ByteSource } from '../ports/study-inspector.ts';
import type { DicomJson, DicomJsonAttribute, DicomObjectReader, FrameLayout, FramesOutcome, MetadataOutcome } from '../ports/dicom-reader.ts';
import { decodeValues, resolveCharset, type Charset } from './charset.ts';
import { DicomParseError } from './codes.ts';
import { windowedReader, type Reader } from './pixel-check.ts';
import { VR_TABLE } from './vr-table.ts';
import { PIXEL_DATA_TAG, safeParse, SUPPORTED_TRANSFER_SYNTAXES, TS, type DataSet, type Element, type ParsedDicom } from './safe-parse.ts';

let vrByTag: Map<string, string> | null = null;
/** The dictionary VR of a standard element (group and element as 4 upper-case hex digits each). */
function dictionaryVr(g: string, e: string): string | undefined {
  if (!vrByTag) {
    vrByTag = new Map();
    for (let i = 0; i < VR_TABLE.length; i += 10) vrByTag.set(VR_TABLE.slice(i, i + 8), VR_TABLE.slice(i + 8, i + 10));
  }
  return vrByTag.get(g + e) ?? vrByTag.get(`${g.slice(0, 2)}xx${e}`);
}

const MiB = 1024 * 1024;
/** Largest header prefix read (same bound ingest uses for images). */
const MAX_HEADER_BYTES = 8 * MiB;
/** Waveform and deflated objects are parsed whole (ingest caps them at 32 MiB). */
const MAX_WHOLE_BYTES = 32 * MiB;
/** Bulk data: left out of metadata whatever its size (retrieve the instance, or its frames, for it). */
const WAVEFORM_DATA_TAG = 'x54001010';
/** Other binary values up to this size are inlined (base64); larger ones are bulk data and left out. */
const MAX_INLINE_BINARY = 64 * 1024;

const STRING_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DT', 'LO', 'LT', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);
const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

/** The VR of an element: explicit in the file, otherwise from the dictionary (UN when unknown or private). */
function vrOf(tag: string, el: Element): string {
  if (el.vr) return el.vr;
  if (el.items) return 'SQ';
  const g = tag.slice(1, 5).toUpperCase();
  const e = tag.slice(5, 9).toUpperCase();
  if (e === '0000') return 'UL';
  const vr = dictionaryVr(g, e);
  if (!vr) return 'UN';
  if (vr === 'OX') return 'OW';
  if (vr === 'XS') return 'US';
  if (vr.length !== 2) return 'UN';
  return vr;
}

function bytesOf(ds: DataSet, el: Element): Uint8Array {
  const len = el.length === 0xffffffff ? 0 : el.length;
  const end = Math.min(ds.byteArray.length, el.dataOffset + len);
  return ds.byteArray.subarray(Math.min(el.dataOffset, end), end);
}

const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

function numberValues(ds: DataSet, el: Element, vr: string, littleEndian: boolean): number[] | string[] {
  const b = bytesOf(ds, el);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const size = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, AT: 4, SV: 8, UV: 8 }[vr] ?? 1;
  const out: number[] = [];
  const tags: string[] = [];
  for (let p = 0; p + size <= b.length; p += size) {
    switch (vr) {
      case 'US': out.push(v.getUint16(p, littleEndian)); break;
      case 'SS': out.push(v.getInt16(p, littleEndian)); break;
      case 'UL': out.push(v.getUint32(p, littleEndian)); break;
      case 'SL': out.push(v.getInt32(p, littleEndian)); break;
      case 'FL': out.push(v.getFloat32(p, littleEndian)); break;
      case 'FD': out.push(v.getFloat64(p, littleEndian)); break;
      case 'SV': out.push(Number(v.getBigInt64(p, littleEndian))); break;
      case 'UV': out.push(Number(v.getBigUint64(p, littleEndian))); break;
      case 'AT': {
        const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
        tags.push(hex(v.getUint16(p, littleEndian)) + hex(v.getUint16(p + 2, littleEndian)));
        break;
      }
    }
  }
  return vr === 'AT' ? tags : out;
}

function personNames(values: string[]): Array<Record<string, string>> {
  return values.map((v) => {
    const [alphabetic, ideographic, phonetic] = v.split('=');
    const pn: Record<string, string> = {};
    if (alphabetic) pn.Alphabetic = alphabetic;
    if (ideographic) pn.Ideographic = ideographic;
    if (phonetic) pn.Phonetic = phonetic;
    return pn;
  });
}

/** IS / DS are JSON numbers (F.2.3.1); a value that is not a number stays a string rather than vanish. */
function numericStrings(values: string[], vr: 'IS' | 'DS'): Array<number | string | null> {
  return values.map((s) => {
    const t = s.trim();
    if (t === '') return null;
    const ok = vr === 'IS' ? /^[+-]?\d+$/.test(t) : /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t);
    return ok ? Number(t) : t;
  });
}

function attribute(ds: DataSet, tag: string, el: Element, charset: Charset, littleEndian: boolean, depth: number): DicomJsonAttribute | null {
  const vr = vrOf(tag, el);
  if (vr === 'SQ') {
    const items = (el.items ?? []).map((it) => (it.dataSet ? datasetToJson(it.dataSet, charset, littleEndian, depth + 1) : {}));
    return items.length ? { vr, Value: items } : { vr };
  }
  if (el.length === 0) return { vr };
  if (el.length === 0xffffffff) return null; // encapsulated data is bulk data
  if (BINARY_VRS.has(vr)) {
    if (el.length > MAX_INLINE_BINARY) return null;
    return { vr, InlineBinary: b64(bytesOf(ds, el)) };
  }
  if (vr === 'PN') return { vr, Value: personNames(decodeValues(bytesOf(ds, el), vr, charset)) };
  if (vr === 'IS' || vr === 'DS') return { vr, Value: numericStrings(decodeValues(bytesOf(ds, el), vr, charset), vr) };
  if (STRING_VRS.has(vr)) {
    const values = decodeValues(bytesOf(ds, el), vr, charset).map((s) => (vr === 'UI' ? s.replace(/\0/g, '') : s));
    return { vr, Value: values.map((s) => (s === '' ? null : s)) };
  }
  const nums = numberValues(ds, el, vr, littleEndian);
  return nums.length ? { vr, Value: nums } : { vr };
}

function datasetToJson(ds: DataSet, inherited: Charset, littleEndian: boolean, depth: number): DicomJson {
  // A nested dataset may declare its own character set (PS3.5 7.5.3).
  const own = ds.elements.x00080005;
  const charset = own && own.length > 0 ? resolveCharset(decodeValues(bytesOf(ds, own), 'CS', inherited).join('\\')) : inherited;
  const out: DicomJson = {};
  for (const tag of Object.keys(ds.elements).sort()) {
    if (tag === PIXEL_DATA_TAG || tag === WAVEFORM_DATA_TAG) continue;
    const el = ds.elements[tag]!;
    const a = attribute(ds, tag, el, charset, littleEndian, depth);
    if (a) out[tag.slice(1).toUpperCase()] = a;
  }
  return out;
}

/** Read a growing prefix until the header (everything before PixelData) parses. */
async function parseHeader(source: ByteSource): Promise<ParsedDicom> {
  let len = Math.min(source.size, 256 * 1024);
  for (let round = 0; round < 32; round++) {
    const bytes = await source.readRange(0, len);
    const step = safeParse(bytes, source.size);
    if (step.kind === 'parsed') return step.parsed;
    const cap = step.whole ? MAX_WHOLE_BYTES : MAX_HEADER_BYTES;
    const next = Math.min(source.size, Math.max(step.atLeast, len * 2));
    if (len >= source.size || next > cap) break;
    len = next;
  }
  throw new DicomParseError('DICOM.HEADER_TOO_LARGE', 'The stored object’s header could not be read within the limits.');
}

function failure(e: unknown): { ok: false; code: string; message: string } {
  if (e instanceof DicomParseError) return { ok: false, code: e.code, message: e.message };
  return { ok: false, code: 'DICOM.MALFORMED', message: 'The stored object could not be read as DICOM.' };
}

function headerJson(p: ParsedDicom): DicomJson {
  const ds = p.dataSet;
  const cs = ds.elements.x00080005;
  const charset = resolveCharset(cs && cs.length > 0 ? decodeValues(bytesOf(ds, cs), 'CS', resolveCharset(undefined)).join('\\') : undefined);
  const json = datasetToJson(ds, charset, p.transferSyntaxUID !== TS.EXPLICIT_BE, 0);
  // Clients pick a frame media type from these (the file meta group itself is not part of the dataset).
  json['00020010'] = { vr: 'UI', Value: [p.transferSyntaxUID] };
  json['00083002'] = { vr: 'UI', Value: [p.transferSyntaxUID] };
  return json;
}

const u16 = (b: Uint8Array, p: number) => b[p]! | (b[p + 1]! << 8);
const u32 = (b: Uint8Array, p: number) => (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;

/** Item headers of encapsulated pixel data: the Basic Offset Table, then the fragments (file offsets of their values). */
async function walkFragments(source: ByteSource, read: Reader, start: number): Promise<{ bot: Uint8Array; fragments: Array<{ offset: number; length: number }> }> {
  const fragments: Array<{ offset: number; length: number }> = [];
  let bot: Uint8Array | null = null;
  let pos = start;
  for (let i = 0; i < 1_000_000 && pos + 8 <= source.size; i++) {
    const h = await read(pos, 8);
    if (h.length < 8 || u16(h, 0) !== 0xfffe) break;
    const elem = u16(h, 2);
    const len = u32(h, 4);
    if (elem === 0xe0dd) break;
    if (elem !== 0xe000 || len === 0xffffffff) break;
    if (bot === null) bot = len > 0 ? await source.readRange(pos + 8, Math.min(len, 4 * MiB)) : new Uint8Array(0);
    else fragments.push({ offset: pos + 8, length: Math.min(len, source.size - pos - 8) });
    pos += 8 + len;
  }
  return { bot: bot ?? new Uint8Array(0), fragments };
}

const startsFrame = (b: Uint8Array, ts: string): boolean => {
  if (ts === '1.2.840.10008.1.2.5') return b.length >= 4 && u32(b, 0) >= 1 && u32(b, 0) <= 15; // RLE header: segment count
  if (ts.startsWith('1.2.840.10008.1.2.4.9')) return b[0] === 0xff && (b[1] === 0x4f || (b[1] === 0x00 && b[4] === 0x6a)); // J2K SOC or JP2 box
  return b[0] === 0xff && b[1] === 0xd8; // JPEG SOI (baseline, extended, lossless, LS)
};

/** Group fragments into frames (PS3.5 A.4): by the Basic Offset Table, one per frame, or by codestream start markers. */
async function framesOfFragments(read: Reader, bot: Uint8Array, fragments: Array<{ offset: number; length: number }>, count: number, ts: string) {
  if (count === 1) return [fragments];
  if (fragments.length === count) return fragments.map((f) => [f]);
  if (bot.length >= 4 * count) {
    // Offsets are from the first fragment's item header.
    const base = fragments[0]!.offset - 8;
    const starts = Array.from({ length: count }, (_, i) => base + u32(bot, i * 4));
    return starts.map((s, i) => fragments.filter((f) => f.offset - 8 >= s && (i + 1 >= count || f.offset - 8 < starts[i + 1]!)));
  }
  const frames: Array<Array<{ offset: number; length: number }>> = [];
  for (const f of fragments) {
    const head = await read(f.offset, Math.min(8, f.length));
    if (frames.length === 0 || (frames.length < count && startsFrame(head, ts))) frames.push([f]);
    else frames[frames.length - 1]!.push(f);
  }
  return frames;
}

function intValue(ds: DataSet, tag: string): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  if (el.length === 2 && (el.vr === undefined || el.vr === 'US' || el.vr === 'SS')) return ds.uint16(tag);
  const s = ds.string(tag)?.trim();
  return s && /^\d+$/.test(s) ? Number(s) : undefined;
}

async function frameLayout(source: ByteSource, p: ParsedDicom): Promise<FrameLayout> {
  const ds = p.dataSet;
  const pixel = ds.elements[PIXEL_DATA_TAG];
  const rows = intValue(ds, 'x00280010');
  const columns = intValue(ds, 'x00280011');
  if (!pixel || !rows || !columns) return { kind: 'none' };
  const count = Math.max(1, intValue(ds, 'x00280008') ?? 1);
  const samples = intValue(ds, 'x00280002') ?? 1;
  const bits = intValue(ds, 'x00280100') ?? 8;
  const ts = p.transferSyntaxUID;
  if (SUPPORTED_TRANSFER_SYNTAXES[ts]?.encapsulated) {
    const read = windowedReader(source);
    const { bot, fragments } = await walkFragments(source, read, pixel.dataOffset);
    const frames = await framesOfFragments(read, bot, fragments, count, ts);
    return { kind: 'encapsulated', transferSyntaxUID: ts, rows, columns, frames };
  }
  const frameBits = rows * columns * samples * bits;
  if (count > 1 && frameBits % 8 !== 0) return { kind: 'unsupported', reason: 'frames of 1-bit pixel data that do not end on a byte boundary' };
  const frameBytes = Math.ceil(frameBits / 8);
  if (!p.fileOffsets) return { kind: 'unsupported', reason: 'frames of a deflated object' };
  const frames = Array.from({ length: count }, (_, i) => [{ offset: pixel.dataOffset + i * frameBytes, length: frameBytes }]);
  // Frames travel in Explicit VR Little Endian byte order (PS3.18 8.7.3.5.2): big-endian words are swapped.
  return { kind: 'native', rows, columns, frames, swapBytes: ts === TS.EXPLICIT_BE && bits > 8 ? bits / 8 : 0 };
}

/** Reads stored instances for DICOMweb. Every failure comes back as `{ok:false, code, message}`. */
export const dicomObjectReader: DicomObjectReader = {
  async metadata(source: ByteSource): Promise<MetadataOutcome> {
    try {
      const p = await parseHeader(source);
      return { ok: true, json: headerJson(p) };
    } catch (e) {
      return failure(e);
    }
  },
  async frames(source: ByteSource): Promise<FramesOutcome> {
    try {
      const p = await parseHeader(source);
      return { ok: true, layout: await frameLayout(source, p) };
    } catch (e) {
      return failure(e);
    }
  },
};
