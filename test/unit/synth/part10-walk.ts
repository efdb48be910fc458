/**
 * A strict, independent reader of the Part 10 files the synthetic writer makes (defined lengths
 * only, little endian): checks what dicom-parser tolerates — ascending tags at every level, even
 * lengths, the right length form per VR, item lengths that add up, and the last element ending
 * exactly at the end of the file. Returns the elements found (nested) for further assertions.
 */

const LONG = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const KNOWN_VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW',
  'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);

export interface WalkedElement {
  tag: string; // 'ggggeeee' lower-case hex
  vr?: string;
  offset: number; // of the value
  length: number;
  items?: WalkedElement[][];
}

export interface Walked {
  meta: WalkedElement[];
  dataset: WalkedElement[];
  transferSyntaxUID: string;
  bytes: Uint8Array;
}

function fail(msg: string, at: number): never {
  throw new Error(`${msg} at byte ${at}`);
}

function hexTag(g: number, e: number): string {
  return g.toString(16).padStart(4, '0') + e.toString(16).padStart(4, '0');
}

function walkLevel(
  bytes: Uint8Array,
  dv: DataView,
  start: number,
  end: number,
  explicit: boolean,
  isSeq: (tag: string) => boolean,
): WalkedElement[] {
  const out: WalkedElement[] = [];
  let pos = start;
  let last = -1;
  while (pos < end) {
    if (pos + 8 > end) fail('truncated element header', pos);
    const g = dv.getUint16(pos, true);
    const e = dv.getUint16(pos + 2, true);
    const tagNum = g * 65536 + e;
    if (tagNum <= last) fail(`tag ${hexTag(g, e)} not in ascending order`, pos);
    if (g === 0xfffe) fail('unexpected item tag inside a data set', pos);
    last = tagNum;
    const tag = hexTag(g, e);
    let vr: string | undefined;
    let length: number;
    let valuePos: number;
    if (explicit) {
      vr = String.fromCharCode(bytes[pos + 4]!, bytes[pos + 5]!);
      if (!KNOWN_VRS.has(vr)) fail(`unknown VR '${vr}' for ${tag}`, pos);
      if (LONG.has(vr)) {
        if (bytes[pos + 6] !== 0 || bytes[pos + 7] !== 0) fail(`reserved bytes not zero for ${tag}`, pos);
        length = dv.getUint32(pos + 8, true);
        valuePos = pos + 12;
      } else {
        length = dv.getUint16(pos + 6, true);
        valuePos = pos + 8;
      }
    } else {
      length = dv.getUint32(pos + 4, true);
      valuePos = pos + 8;
    }
    if (length === 0xffffffff) fail(`undefined length for ${tag} (the writer uses defined lengths)`, pos);
    if (length % 2 !== 0) fail(`odd length ${length} for ${tag}`, pos);
    if (valuePos + length > end) fail(`value of ${tag} runs past its container`, pos);
    const el: WalkedElement = { tag, vr, offset: valuePos, length };
    if (vr === 'SQ' || (!explicit && isSeq(tag))) {
      el.items = [];
      let ip = valuePos;
      const seqEnd = valuePos + length;
      while (ip < seqEnd) {
        if (dv.getUint16(ip, true) !== 0xfffe || dv.getUint16(ip + 2, true) !== 0xe000) fail(`item tag expected in ${tag}`, ip);
        const il = dv.getUint32(ip + 4, true);
        if (il === 0xffffffff || ip + 8 + il > seqEnd) fail(`bad item length in ${tag}`, ip);
        el.items.push(walkLevel(bytes, dv, ip + 8, ip + 8 + il, explicit, isSeq));
        ip += 8 + il;
      }
    }
    out.push(el);
    pos = valuePos + length;
  }
  if (pos !== end) fail('elements do not end exactly at the container end', pos);
  return out;
}

/** Walks a whole file. `sequenceTags` tells an implicit-VR walk which tags are SQ. */
export function walkPart10(bytes: Uint8Array, sequenceTags: Iterable<string> = []): Walked {
  const seqs = new Set([...sequenceTags].map((t) => t.toLowerCase()));
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 132) fail('shorter than preamble + DICM', 0);
  if (String.fromCharCode(...bytes.subarray(128, 132)) !== 'DICM') fail("no 'DICM'", 128);
  // Group length first, explicit VR UL.
  if (dv.getUint16(132, true) !== 0x0002 || dv.getUint16(134, true) !== 0x0000) fail('first element is not (0002,0000)', 132);
  if (String.fromCharCode(bytes[136]!, bytes[137]!) !== 'UL' || dv.getUint16(138, true) !== 4) fail('(0002,0000) is not UL of 4 bytes', 136);
  const groupLength = dv.getUint32(140, true);
  const metaEnd = 144 + groupLength;
  const meta = [{ tag: '00020000', vr: 'UL', offset: 140, length: 4 }, ...walkLevel(bytes, dv, 144, metaEnd, true, () => false)];
  for (const m of meta) if (!m.tag.startsWith('0002')) fail(`non-meta element ${m.tag} inside the group length`, m.offset);
  if (metaEnd < bytes.length && dv.getUint16(metaEnd, true) === 0x0002) fail('group 0002 continues past its group length', metaEnd);
  const tsEl = meta.find((m) => m.tag === '00020010');
  if (!tsEl) fail('no TransferSyntaxUID', 144);
  const transferSyntaxUID = String.fromCharCode(...bytes.subarray(tsEl.offset, tsEl.offset + tsEl.length)).replace(/\0+$/, '');
  const explicit = transferSyntaxUID === '1.2.840.10008.1.2.1';
  if (!explicit && transferSyntaxUID !== '1.2.840.10008.1.2') fail(`unexpected transfer syntax ${transferSyntaxUID}`, tsEl.offset);
  const dataset = walkLevel(bytes, dv, metaEnd, bytes.length, explicit, (t) => seqs.has(t));
  return { meta, dataset, transferSyntaxUID, bytes };
}

/** Value bytes of a walked element. */
export function valueBytes(w: Walked, el: WalkedElement): Uint8Array {
  return w.bytes.subarray(el.offset, el.offset + el.length);
}

export function find(level: WalkedElement[], tag: string): WalkedElement | undefined {
  return level.find((e) => e.tag === tag.toLowerCase());
}
