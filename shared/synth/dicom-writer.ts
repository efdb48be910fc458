/**
 * A small DICOM Part 10 writer for the synthetic studies this project generates (benchmarks,
 * load simulation, demo). It writes what PS3.10 §7 and PS3.5 §7 ask for:
 *
 *  - a 128-byte preamble (zeros unless given), 'DICM', then the File Meta Information (group 0002),
 *    always Explicit VR Little Endian, starting with its group length (0002,0000) UL;
 *  - the data set in the transfer syntax chosen (Explicit VR LE by default, or Implicit VR LE),
 *    elements in ascending tag order (items too), every value of even length
 *    (UI padded with NUL, OB/UN with 0x00, other strings with a space);
 *  - explicit VR: a 2-byte length, except OB OD OF OL OV OW SQ SV UC UN UR UT UV, which have
 *    2 reserved bytes and a 4-byte length; implicit VR: a 4-byte length always;
 *  - sequences and items with defined lengths.
 *
 * Native pixel data only: this writer never encapsulates (no compressed transfer syntaxes).
 * Strings given as JS strings must be ASCII; anything else is passed already encoded as bytes
 * (see `encodeText`) with SpecificCharacterSet set by the caller.
 */

export { encodeText, encodeGb18030, type TextCharset } from './text-encoding.ts';

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';

/**
 * ImplementationClassUID of this writer: the 2.25 form (ITU-T X.667) of the fixed UUID
 * 6f1c2a4e-9b3d-4c57-8e21-5a7d0c3b9f64, i.e. its 128 bits written as one decimal integer.
 */
export const IMPLEMENTATION_CLASS_UID = `2.25.${BigInt('0x6f1c2a4e9b3d4c578e215a7d0c3b9f64').toString(10)}`;
export const IMPLEMENTATION_VERSION_NAME = 'TELEREAD_SYN_1';

export type DicomValue = string | string[] | number | number[] | bigint[] | Uint8Array | Item[][];

/** One data element. SQ values are a list of items, each item a list of elements. */
export interface Item {
  /** 'ggggeeee' in hex (an optional leading 'x' is accepted). */
  tag: string;
  vr: string;
  value: DicomValue;
}
export type DicomElement = Item;

export interface WritePart10Options {
  /** Explicit VR Little Endian (default) or Implicit VR Little Endian. */
  transferSyntaxUID?: string;
  elements: Item[];
  /** 128 bytes; zeros by default. */
  preamble?: Uint8Array;
  /**
   * Streaming only: VR of Pixel Data (7FE0,0010) when explicit. Default OB when BitsAllocated
   * (0028,0100) is 8 or less, OW otherwise.
   */
  pixelDataVR?: 'OB' | 'OW';
}

const LONG_LENGTH_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const STRING_VRS = new Set([
  'AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT',
]);
/** Bytes per value of the binary VRs. */
const BINARY_VR_SIZE: Record<string, number> = {
  US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, SV: 8, UV: 8, AT: 4,
  OB: 1, OW: 2, OF: 4, OD: 8, OL: 4, OV: 8, UN: 1,
};

const PIXEL_DATA_TAG = 0x7fe00010;
const ITEM_TAG = 0xfffee000;

/** Parses 'ggggeeee' (or 'xggggeeee') to a 32-bit number. */
export function parseTag(tag: string): number {
  const t = tag.startsWith('x') || tag.startsWith('X') ? tag.slice(1) : tag;
  if (!/^[0-9a-fA-F]{8}$/.test(t)) throw new Error(`bad tag '${tag}': expected 8 hex digits ggggeeee`);
  return Number.parseInt(t, 16) >>> 0;
}

function tagName(tag: number): string {
  const h = tag.toString(16).toUpperCase().padStart(8, '0');
  return `(${h.slice(0, 4)},${h.slice(4)})`;
}

/** Collects byte chunks; concatenated once at the end. */
class Sink {
  readonly parts: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.length += b.length;
  }
  concat(): Uint8Array {
    return concatBytes(this.parts, this.length);
  }
}

function concatBytes(parts: Uint8Array[], total?: number): Uint8Array {
  const n = total ?? parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function asciiBytes(s: string, tag: number): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7e || (c < 0x20 && c !== 0x0a && c !== 0x0c && c !== 0x0d && c !== 0x1b && c !== 0x09)) {
      throw new Error(
        `${tagName(tag)}: non-ASCII text must be passed as encoded bytes (encodeText) with SpecificCharacterSet set`,
      );
    }
    out[i] = c;
  }
  return out;
}

/** DS: at most 16 bytes per value. */
export function formatDS(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`DS value ${n} is not finite`);
  let s = String(n);
  for (let p = 15; s.length > 16 && p > 0; p--) {
    s = n.toPrecision(p);
    if (s.includes('.')) s = s.replace(/\.?0+(?=e|$)/, '');
  }
  if (s.length > 16) throw new Error(`DS value ${n} does not fit 16 characters`);
  return s;
}

function formatIS(n: number, tag: number): string {
  if (!Number.isInteger(n) || n < -(2 ** 31) || n > 2 ** 31 - 1) throw new Error(`${tagName(tag)}: IS value ${n} is not a 32-bit integer`);
  return String(n);
}

function stringValueBytes(vr: string, value: DicomValue, tag: number): Uint8Array {
  if (value instanceof Uint8Array) return value;
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') text = vr === 'DS' ? formatDS(value) : vr === 'IS' ? formatIS(value, tag) : String(value);
  else if (Array.isArray(value)) {
    text = (value as unknown[])
      .map((v) => {
        if (typeof v === 'string') return v;
        if (typeof v === 'number') return vr === 'DS' ? formatDS(v) : vr === 'IS' ? formatIS(v, tag) : String(v);
        throw new Error(`${tagName(tag)}: ${vr} value must be strings or numbers`);
      })
      .join('\\');
  } else throw new Error(`${tagName(tag)}: bad ${vr} value`);
  return asciiBytes(text, tag);
}

function binaryValueBytes(vr: string, value: DicomValue, tag: number): Uint8Array {
  if (value instanceof Uint8Array) {
    const size = BINARY_VR_SIZE[vr]!;
    if (vr !== 'OB' && vr !== 'UN' && value.length % size !== 0) {
      throw new Error(`${tagName(tag)}: ${vr} byte length ${value.length} is not a multiple of ${size}`);
    }
    return value;
  }
  if (vr === 'AT') {
    const tags = typeof value === 'string' ? value.split('\\').map(parseTag) : typeof value === 'number' ? [value] : (value as number[]);
    const out = new Uint8Array(tags.length * 4);
    const dv = new DataView(out.buffer);
    tags.forEach((t, i) => {
      dv.setUint16(i * 4, (Number(t) >>> 16) & 0xffff, true);
      dv.setUint16(i * 4 + 2, Number(t) & 0xffff, true);
    });
    return out;
  }
  const values: (number | bigint)[] = typeof value === 'number' ? [value] : Array.isArray(value) ? (value as (number | bigint)[]) : [];
  if (typeof value === 'string' || (Array.isArray(value) && values.some((v) => typeof v !== 'number' && typeof v !== 'bigint'))) {
    throw new Error(`${tagName(tag)}: ${vr} needs numbers or bytes`);
  }
  const size = BINARY_VR_SIZE[vr]!;
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  values.forEach((raw, i) => {
    const o = i * size;
    const v = typeof raw === 'bigint' ? raw : raw;
    switch (vr) {
      case 'US':
      case 'OW':
        checkInt(Number(v), 0, 0xffff, tag, vr);
        dv.setUint16(o, Number(v), true);
        break;
      case 'SS':
        checkInt(Number(v), -0x8000, 0x7fff, tag, vr);
        dv.setInt16(o, Number(v), true);
        break;
      case 'UL':
      case 'OL':
        checkInt(Number(v), 0, 0xffffffff, tag, vr);
        dv.setUint32(o, Number(v), true);
        break;
      case 'SL':
        checkInt(Number(v), -0x80000000, 0x7fffffff, tag, vr);
        dv.setInt32(o, Number(v), true);
        break;
      case 'FL':
      case 'OF':
        dv.setFloat32(o, Number(v), true);
        break;
      case 'FD':
      case 'OD':
        dv.setFloat64(o, Number(v), true);
        break;
      case 'SV':
        dv.setBigInt64(o, BigInt(v), true);
        break;
      case 'UV':
      case 'OV':
        dv.setBigUint64(o, BigInt(v), true);
        break;
      case 'OB':
      case 'UN':
        checkInt(Number(v), 0, 0xff, tag, vr);
        dv.setUint8(o, Number(v));
        break;
      default:
        throw new Error(`${tagName(tag)}: unsupported VR ${vr}`);
    }
  });
  return out;
}

function checkInt(v: number, min: number, max: number, tag: number, vr: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${tagName(tag)}: ${vr} value ${v} out of range`);
}

/** Pads to even length with the VR's padding byte. */
function padEven(vr: string, b: Uint8Array): Uint8Array {
  if (b.length % 2 === 0) return b;
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  out[b.length] = vr === 'UI' || vr === 'OB' || vr === 'UN' ? 0x00 : 0x20;
  return out;
}

function elementHeader(tag: number, vr: string, length: number, explicit: boolean): Uint8Array {
  const long = !explicit || LONG_LENGTH_VRS.has(vr);
  const h = new Uint8Array(explicit ? (long ? 12 : 8) : 8);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, tag >>> 16, true);
  dv.setUint16(2, tag & 0xffff, true);
  if (!explicit) {
    dv.setUint32(4, length, true);
    return h;
  }
  h[4] = vr.charCodeAt(0);
  h[5] = vr.charCodeAt(1);
  if (long) dv.setUint32(8, length, true);
  else {
    if (length > 0xffff) throw new Error(`${tagName(tag)}: ${vr} value of ${length} bytes exceeds the 2-byte length of explicit VR`);
    dv.setUint16(6, length, true);
  }
  return h;
}

function itemHeader(tag: number, length: number): Uint8Array {
  const h = new Uint8Array(8);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, tag >>> 16, true);
  dv.setUint16(2, tag & 0xffff, true);
  dv.setUint32(4, length, true);
  return h;
}

interface Prepared {
  tag: number;
  el: Item;
}

/** Validates, parses tags and sorts ascending; rejects duplicates. */
function prepare(elements: Item[], where: string): Prepared[] {
  const out = elements.map((el) => {
    if (typeof el.vr !== 'string' || !/^[A-Z]{2}$/.test(el.vr)) throw new Error(`${where}: bad VR '${String(el.vr)}' for tag ${el.tag}`);
    return { tag: parseTag(el.tag), el };
  });
  out.sort((a, b) => a.tag - b.tag);
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.tag === out[i - 1]!.tag) throw new Error(`${where}: tag ${tagName(out[i]!.tag)} given twice`);
  }
  return out;
}

function encodeElementInto(sink: Sink, p: Prepared, explicit: boolean): void {
  const { tag, el } = p;
  const vr = el.vr;
  if (vr === 'SQ') {
    const items = el.value;
    if (!Array.isArray(items) || items.some((it) => !Array.isArray(it))) {
      throw new Error(`${tagName(tag)}: SQ value must be a list of items (each a list of elements)`);
    }
    const inner = new Sink();
    for (const item of items as Item[][]) {
      const itemSink = new Sink();
      for (const child of prepare(item, `item of ${tagName(tag)}`)) encodeElementInto(itemSink, child, explicit);
      inner.push(itemHeader(ITEM_TAG, itemSink.length));
      for (const part of itemSink.parts) inner.push(part);
    }
    sink.push(elementHeader(tag, vr, inner.length, explicit));
    for (const part of inner.parts) sink.push(part);
    return;
  }
  let bytes: Uint8Array;
  if (STRING_VRS.has(vr)) bytes = stringValueBytes(vr, el.value, tag);
  else if (vr in BINARY_VR_SIZE) bytes = binaryValueBytes(vr, el.value, tag);
  else throw new Error(`${tagName(tag)}: unsupported VR ${vr}`);
  if (bytes.length % 2 === 1 && BINARY_VR_SIZE[vr] !== undefined && vr !== 'OB' && vr !== 'UN') {
    throw new Error(`${tagName(tag)}: ${vr} value has odd length`);
  }
  bytes = padEven(vr, bytes);
  sink.push(elementHeader(tag, vr, bytes.length, explicit));
  sink.push(bytes);
}

function stringOf(elements: Prepared[], tag: number): string | undefined {
  const p = elements.find((e) => e.tag === tag);
  if (!p) return undefined;
  const v = p.el.value;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v).replace(/[\0 ]+$/, '');
  return undefined;
}

function numberOf(elements: Prepared[], tag: number): number | undefined {
  const v = elements.find((e) => e.tag === tag)?.el.value;
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && typeof v[0] === 'number') return v[0];
  return undefined;
}

function resolveTransferSyntax(ts: string | undefined): { uid: string; explicit: boolean } {
  const uid = ts ?? EXPLICIT_VR_LITTLE_ENDIAN;
  if (uid === EXPLICIT_VR_LITTLE_ENDIAN) return { uid, explicit: true };
  if (uid === IMPLICIT_VR_LITTLE_ENDIAN) return { uid, explicit: false };
  throw new Error(`transfer syntax ${uid} is not supported by this writer (explicit or implicit VR little endian only)`);
}

/** Preamble + 'DICM' + group 0002 for the data set's SOP class/instance. */
function fileMetaBytes(opts: WritePart10Options, dataset: Prepared[], tsUid: string): Uint8Array {
  const preamble = opts.preamble ?? new Uint8Array(128);
  if (preamble.length !== 128) throw new Error(`preamble must be 128 bytes, got ${preamble.length}`);
  const sopClass = stringOf(dataset, 0x00080016);
  const sopInstance = stringOf(dataset, 0x00080018);
  if (!sopClass || !sopInstance) throw new Error('the data set needs SOPClassUID (0008,0016) and SOPInstanceUID (0008,0018)');
  const meta: Item[] = [
    { tag: '00020001', vr: 'OB', value: Uint8Array.of(0x00, 0x01) },
    { tag: '00020002', vr: 'UI', value: sopClass },
    { tag: '00020003', vr: 'UI', value: sopInstance },
    { tag: '00020010', vr: 'UI', value: tsUid },
    { tag: '00020012', vr: 'UI', value: IMPLEMENTATION_CLASS_UID },
    { tag: '00020013', vr: 'SH', value: IMPLEMENTATION_VERSION_NAME },
  ];
  const body = new Sink();
  for (const p of prepare(meta, 'file meta')) encodeElementInto(body, p, true);
  const out = new Sink();
  out.push(preamble);
  out.push(Uint8Array.of(0x44, 0x49, 0x43, 0x4d)); // 'DICM'
  const groupLength = new Sink();
  encodeElementInto(groupLength, { tag: 0x00020000, el: { tag: '00020000', vr: 'UL', value: body.length } }, true);
  for (const p of groupLength.parts) out.push(p);
  for (const p of body.parts) out.push(p);
  return out.concat();
}

function prepareDataset(opts: WritePart10Options): Prepared[] {
  const dataset = prepare(opts.elements, 'data set');
  const meta = dataset.find((p) => p.tag >>> 16 === 0x0002);
  if (meta) throw new Error(`data set must not carry file meta elements (${tagName(meta.tag)}); the writer makes group 0002`);
  return dataset;
}

/** A complete Part 10 file in memory. */
export function writePart10(opts: WritePart10Options): Uint8Array {
  const { uid, explicit } = resolveTransferSyntax(opts.transferSyntaxUID);
  const dataset = prepareDataset(opts);
  const sink = new Sink();
  sink.push(fileMetaBytes(opts, dataset, uid));
  for (const p of dataset) encodeElementInto(sink, p, explicit);
  return sink.concat();
}

/** The data set alone (no preamble, no group 0002), in the given transfer syntax. */
export function encodeDataset(elements: Item[], transferSyntaxUID?: string): Uint8Array {
  const { explicit } = resolveTransferSyntax(transferSyntaxUID);
  const sink = new Sink();
  for (const p of prepare(elements, 'data set')) encodeElementInto(sink, p, explicit);
  return sink.concat();
}

/**
 * A Part 10 file as a stream of chunks, with Pixel Data (7FE0,0010) taken from `pixelFrames`
 * (consumed lazily, one chunk at a time, so memory stays bounded by the largest chunk).
 * `opts.elements` must not contain Pixel Data; `pixelLength` is the exact total of the frames
 * (an odd total is padded with one 0x00). Elements with tags above Pixel Data follow it.
 */
export async function* writePart10Stream(
  opts: WritePart10Options,
  pixelFrames: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  pixelLength: number,
): AsyncGenerator<Uint8Array, void, undefined> {
  const { uid, explicit } = resolveTransferSyntax(opts.transferSyntaxUID);
  const dataset = prepareDataset(opts);
  if (dataset.some((p) => p.tag === PIXEL_DATA_TAG)) throw new Error('writePart10Stream: pass Pixel Data as pixelFrames, not in elements');
  if (!Number.isSafeInteger(pixelLength) || pixelLength < 0) throw new Error(`bad pixelLength ${pixelLength}`);
  const padded = pixelLength + (pixelLength % 2);
  if (padded > 0xfffffffe) throw new Error(`pixel data of ${pixelLength} bytes does not fit a 32-bit defined length`);

  const bitsAllocated = numberOf(dataset, 0x00280100);
  const pixelVR = opts.pixelDataVR ?? (bitsAllocated !== undefined && bitsAllocated <= 8 ? 'OB' : 'OW');
  if (pixelVR === 'OW' && padded !== pixelLength) throw new Error('OW pixel data needs an even length');

  const head = new Sink();
  head.push(fileMetaBytes(opts, dataset, uid));
  for (const p of dataset) if (p.tag < PIXEL_DATA_TAG) encodeElementInto(head, p, explicit);
  head.push(elementHeader(PIXEL_DATA_TAG, pixelVR, padded, explicit));
  yield head.concat();

  let written = 0;
  for await (const chunk of pixelFrames as AsyncIterable<Uint8Array>) {
    written += chunk.length;
    if (written > pixelLength) throw new Error(`pixel frames exceed the declared ${pixelLength} bytes`);
    if (chunk.length > 0) yield chunk;
  }
  if (written !== pixelLength) throw new Error(`pixel frames gave ${written} bytes, ${pixelLength} declared`);
  if (padded !== pixelLength) yield new Uint8Array(1);

  const tail = new Sink();
  for (const p of dataset) if (p.tag > PIXEL_DATA_TAG) encodeElementInto(tail, p, explicit);
  if (tail.length > 0) yield tail.concat();
}

/** Size in bytes the streamed file will have (header + pixel data + trailing elements). */
export function part10StreamSize(opts: WritePart10Options, pixelLength: number): number {
  const { uid, explicit } = resolveTransferSyntax(opts.transferSyntaxUID);
  const dataset = prepareDataset(opts);
  const s = new Sink();
  s.push(fileMetaBytes(opts, dataset, uid));
  for (const p of dataset) if (p.tag !== PIXEL_DATA_TAG) encodeElementInto(s, p, explicit);
  const vrLong = explicit ? 12 : 8; // OB/OW header
  return s.length + vrLong + pixelLength + (pixelLength % 2);
}
