/** The fuzz corpus and mutators shared by the fuzz test and bench/fuzz-long.ts. */
import { DICOM_CODES } from '../../../shared/dicom/codes.ts';
import { crcCcitt } from '../../../shared/dicom/ecg/scp.ts';
import type { InspectOutcome } from '../../../shared/ports/study-inspector.ts';
import { prng } from './support.ts';

/** Valid seeds: ECG, CR, DX, US single-frame, US multi-frame; explicit and implicit VR; deflated; HL7 aECG and SCP-ECG. */
export const FUZZ_SEEDS = [
  'ecg-12lead-sop-single-channel-cabolabs.dcm', // ECG, explicit LE
  'ecg-12lead-eli250-implicit-le-ecgtoolkit.dcm', // ECG, implicit LE
  'ecg-hemodynamic-waveform-deflated-gemarquette.dcm', // ECG, deflated
  'xray-cr-16x16-16bit-uncompressed-pydicom.dcm', // CR, explicit LE
  'xray-cr-chest-16bit-raw-no-part10-header.dcm', // CR, raw implicit LE (no Part 10 header)
  'xray-dx-8bit-uncompressed-highdicom.dcm', // DX, explicit LE
  'us-rgb-uncompressed-single-frame.dcm', // US single frame, native
  'us-multiframe-30f-jpeg-baseline-ybr422.dcm', // US multi-frame, encapsulated
  'aecg-minimal-single-lead.xml', // HL7 aECG (XML), one lead
  'scpecg-12lead-example-ecgtoolkit.scp', // SCP-ECG, default Huffman, CRC-sealed
] as const;

const CODES = new Set<string>(DICOM_CODES);
/** An outcome is acceptable when it is ok, or a refusal with a known code and a message. */
export function outcomeProblem(r: unknown): string | null {
  const o = r as InspectOutcome;
  if (!o || typeof o !== 'object' || typeof o.ok !== 'boolean') return 'not an outcome';
  if (o.ok) return o.metadata ? null : 'ok without metadata';
  if (typeof o.code !== 'string' || !(CODES.has(o.code) || o.code.startsWith('ECG.'))) return `unknown code ${String(o.code)}`;
  if (typeof o.message !== 'string' || o.message.length < 10) return 'refusal without a message';
  return null;
}

/**
 * Truncation points of a file: every point up to `dense` bytes (the header region, where the
 * structure is), then an even spread so that there are at least `min` points in all.
 */
export function truncationPoints(size: number, dense: number, min: number): number[] {
  const pts = new Set<number>();
  for (let n = 0; n < Math.min(size, dense); n++) pts.add(n);
  const rest = Math.max(0, min - pts.size);
  if (size > dense && rest > 0) {
    const step = (size - dense) / rest;
    for (let i = 0; i < rest; i++) pts.add(Math.min(size - 1, Math.floor(dense + i * step)));
  }
  return [...pts].sort((a, b) => a - b);
}

/** Deterministic mutation of `seed` bytes: byte sets, bit flips, length-field smashes, chunk deletes/dups. */
export function mutate(seed: Uint8Array, rnd: () => number): Uint8Array {
  let b = seed.slice();
  // Most of the structure lives in the first few KiB.
  const pos = () => (rnd() < 0.85 ? Math.floor(rnd() * Math.min(b.length, 4096)) : Math.floor(rnd() * b.length));
  const ops = 1 + Math.floor(rnd() * 6);
  for (let k = 0; k < ops && b.length > 0; k++) {
    const p = pos();
    switch (Math.floor(rnd() * 8)) {
      case 0:
        b[p] = Math.floor(rnd() * 256);
        break;
      case 1:
        b[p] = b[p]! ^ (1 << Math.floor(rnd() * 8));
        break;
      case 2: // smash a 16/32-bit value (lengths, counts)
        for (let i = 0; i < 4 && p + i < b.length; i++) b[p + i] = rnd() < 0.5 ? 0xff : Math.floor(rnd() * 256);
        break;
      case 3:
        b[p] = rnd() < 0.5 ? 0x00 : 0xff;
        break;
      case 4: {
        // delete a chunk
        const len = Math.min(1 + Math.floor(rnd() * 64), b.length - p);
        const nb = new Uint8Array(b.length - len);
        nb.set(b.subarray(0, p));
        nb.set(b.subarray(p + len), p);
        b = nb;
        break;
      }
      case 5: {
        // duplicate a chunk
        const len = 1 + Math.floor(rnd() * 64);
        const chunk = b.slice(p, p + len);
        const nb = new Uint8Array(b.length + chunk.length);
        nb.set(b.subarray(0, p));
        nb.set(chunk, p);
        nb.set(b.subarray(p), p + chunk.length);
        b = nb;
        break;
      }
      case 6: // write an undefined length or a sequence/item tag
        if (p + 4 <= b.length) b.set(rnd() < 0.5 ? [0xff, 0xff, 0xff, 0xff] : [0xfe, 0xff, 0x00, 0xe0], p);
        break;
      default: // VR smash
        if (p + 2 <= b.length) b.set([0x53, 0x51], p); // 'SQ'
        break;
    }
  }
  return b;
}

/**
 * Re-seal the CRCs of a (mutated) SCP-ECG record where its structure still allows: each section that
 * section 0 points to, then the record. Leaves the bytes alone where pointers lead outside the file.
 */
export function resealScp(b: Uint8Array): Uint8Array {
  if (b.length < 22) return b;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const s0len = v.getUint32(10, true);
  for (let p = 6 + 16; p + 10 <= Math.min(6 + s0len, b.length); p += 10) {
    const len = v.getUint32(p + 2, true);
    const start = v.getUint32(p + 6, true) - 1;
    if (len < 16 || start < 6 || start + len > b.length) continue;
    v.setUint16(start, crcCcitt(b.subarray(start + 2, start + len)), true);
  }
  const recordLength = v.getUint32(2, true);
  if (recordLength >= 2 && recordLength <= b.length) v.setUint16(0, crcCcitt(b.subarray(2, recordLength)), true);
  return b;
}

export { prng };
