/**
 * Test-only: a minimal DICOM Part 10 writer for waveform datasets (explicit VR, little or big endian),
 * enough to build edge cases the public samples lack (calibration factors, pressures mixed with ECG,
 * 8-bit and companded samples, big endian). Not a general encoder.
 */

export type El =
  | { tag: number; vr: 'SQ'; items: El[][] }
  | { tag: number; vr: 'CS' | 'DS' | 'SH' | 'LO' | 'UI' | 'IS' | 'ST'; value: string }
  | { tag: number; vr: 'US'; value: number }
  | { tag: number; vr: 'UL'; value: number }
  | { tag: number; vr: 'OB' | 'OW'; bytes: Uint8Array };

class Out {
  private chunks: number[] = [];
  constructor(private readonly little: boolean) {}
  u16(v: number) {
    if (this.little) this.chunks.push(v & 0xff, (v >> 8) & 0xff);
    else this.chunks.push((v >> 8) & 0xff, v & 0xff);
  }
  u32(v: number) {
    const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    this.chunks.push(...(this.little ? b : b.reverse()));
  }
  bytes(b: ArrayLike<number>) {
    for (let i = 0; i < b.length; i++) this.chunks.push(b[i]!);
  }
  get length() {
    return this.chunks.length;
  }
  result() {
    return Uint8Array.from(this.chunks);
  }
}

function ascii(s: string, pad: string): number[] {
  const b = Array.from(s, (c) => c.charCodeAt(0));
  if (b.length % 2) b.push(pad.charCodeAt(0));
  return b;
}

function writeEl(o: Out, e: El, little: boolean): void {
  o.u16(e.tag >>> 16);
  o.u16(e.tag & 0xffff);
  o.bytes(ascii(e.vr, ' '));
  if (e.vr === 'SQ') {
    o.u16(0);
    o.u32(0xffffffff);
    for (const item of e.items) {
      o.u16(0xfffe);
      o.u16(0xe000);
      o.u32(0xffffffff);
      for (const c of item) writeEl(o, c, little);
      o.u16(0xfffe);
      o.u16(0xe00d);
      o.u32(0);
    }
    o.u16(0xfffe);
    o.u16(0xe0dd);
    o.u32(0);
    return;
  }
  if (e.vr === 'OB' || e.vr === 'OW') {
    o.u16(0);
    const b = e.bytes.length % 2 ? Uint8Array.from([...e.bytes, 0]) : e.bytes;
    o.u32(b.length);
    o.bytes(b);
    return;
  }
  if (e.vr === 'US') {
    o.u16(2);
    o.u16(e.value);
    return;
  }
  if (e.vr === 'UL') {
    o.u16(4);
    o.u32(e.value);
    return;
  }
  if (!('value' in e) || typeof e.value !== 'string') throw new Error(`unsupported element ${e.tag.toString(16)}`);
  const b = ascii(e.value, e.vr === 'UI' ? '\0' : ' ');
  o.u16(b.length);
  o.bytes(b);
}

export function part10(dataset: El[], opts: { bigEndian?: boolean; sopClass?: string } = {}): Uint8Array {
  const big = opts.bigEndian === true;
  const ts = big ? '1.2.840.10008.1.2.2' : '1.2.840.10008.1.2.1';
  const sop = opts.sopClass ?? '1.2.840.10008.5.1.4.1.1.9.1.1';
  const meta = new Out(true);
  const metaEls: El[] = [
    { tag: 0x00020001, vr: 'OB', bytes: Uint8Array.from([0, 1]) },
    { tag: 0x00020002, vr: 'UI', value: sop },
    { tag: 0x00020003, vr: 'UI', value: '1.2.3.4.5.6.7' },
    { tag: 0x00020010, vr: 'UI', value: ts },
  ];
  for (const e of metaEls) writeEl(meta, e, true);
  const head = new Out(true);
  head.bytes(new Uint8Array(128));
  head.bytes(ascii('DICM', ' '));
  writeEl(head, { tag: 0x00020000, vr: 'UL', value: meta.length }, true);
  const body = new Out(!big);
  const sopEl: El = { tag: 0x00080016, vr: 'UI', value: sop };
  const all: El[] = [sopEl, ...dataset].sort((a, b) => a.tag - b.tag);
  for (const e of all) writeEl(body, e, !big);
  const out = new Uint8Array(head.length + meta.length + body.length);
  out.set(head.result(), 0);
  out.set(meta.result(), head.length);
  out.set(body.result(), head.length + meta.length);
  return out;
}

export interface ChannelSpec {
  code?: [string, string, string]; // value, scheme, meaning
  sensitivity?: string;
  units?: string;
  correction?: string;
  baseline?: string;
  sampleSkew?: string;
}

const code = (value: string, scheme: string, meaning: string): El[] => [
  { tag: 0x00080100, vr: 'SH', value },
  { tag: 0x00080102, vr: 'SH', value: scheme },
  { tag: 0x00080104, vr: 'LO', value: meaning },
];

export function waveformGroup(g: {
  label?: string;
  fs: string;
  interpretation: string;
  bits: number;
  channels: ChannelSpec[];
  samples: number;
  data: Uint8Array;
  padding?: Uint8Array;
}): El[] {
  const defs: El[][] = g.channels.map((c) => {
    const d: El[] = [];
    if (c.code) d.push({ tag: 0x003a0208, vr: 'SQ', items: [code(...c.code)] });
    if (c.sensitivity !== undefined) d.push({ tag: 0x003a0210, vr: 'DS', value: c.sensitivity });
    if (c.units) d.push({ tag: 0x003a0211, vr: 'SQ', items: [code(c.units, 'UCUM', c.units)] });
    if (c.correction !== undefined) d.push({ tag: 0x003a0212, vr: 'DS', value: c.correction });
    if (c.baseline !== undefined) d.push({ tag: 0x003a0213, vr: 'DS', value: c.baseline });
    if (c.sampleSkew !== undefined) d.push({ tag: 0x003a0215, vr: 'DS', value: c.sampleSkew });
    return d;
  });
  const els: El[] = [
    { tag: 0x003a0005, vr: 'US', value: g.channels.length },
    { tag: 0x003a0010, vr: 'UL', value: g.samples },
    { tag: 0x003a001a, vr: 'DS', value: g.fs },
    { tag: 0x003a0200, vr: 'SQ', items: defs },
    { tag: 0x54001004, vr: 'US', value: g.bits },
    { tag: 0x54001006, vr: 'CS', value: g.interpretation },
    { tag: 0x54001010, vr: g.bits === 8 ? 'OB' : 'OW', bytes: g.data },
  ];
  if (g.label) els.push({ tag: 0x003a0020, vr: 'SH', value: g.label });
  if (g.padding) els.push({ tag: 0x5400100a, vr: g.bits === 8 ? 'OB' : 'OW', bytes: g.padding });
  return els.sort((a, b) => a.tag - b.tag);
}

/** Interleave int16 channel arrays (sample-major) into bytes of the given byte order. */
export function int16Interleaved(channels: number[][], bigEndian = false): Uint8Array {
  const ns = channels[0]!.length;
  const out = new Uint8Array(ns * channels.length * 2);
  const view = new DataView(out.buffer);
  for (let s = 0; s < ns; s++) for (let c = 0; c < channels.length; c++) view.setInt16((s * channels.length + c) * 2, channels[c]![s]!, !bigEndian);
  return out;
}
