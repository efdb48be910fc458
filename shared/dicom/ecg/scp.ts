/**
 * SCP-ECG (EN 1064 / ISO 11073-91064) → EcgRecording, for the profile the field's devices write:
 * rhythm data in section 6, lead layout in section 3, either no Huffman coding (no section 2) or the
 * standard's default Huffman table (section 2 = 19999), and no / first / second differences.
 *
 * Refused with ECG.SCP_UNSUPPORTED (and a message telling the clinic to export DICOM or HL7 aECG):
 * reference-beat subtraction (section 3 flag bit 0, residual rhythm that needs sections 4 and 5),
 * bimodal compression (decimated rhythm), and custom Huffman tables — none of which our samples
 * exercise, and a half-right decoder would show readers wrong millivolts.
 *
 * Layout facts used (little-endian throughout):
 *   record:   CRC-CCITT (2) over the rest of the record, record length (4), sections…
 *   section:  CRC (2), id (2), length incl. this 16-byte header (4), version (1), protocol (1), reserved (6)
 *   section 0 pointers: id (2), length (4), 1-based byte index (4)
 *   section 3: lead count (1), flags (1: bit 0 reference-beat subtraction), per lead start (4), end (4), id (1)
 *   section 6: AVM nV (2), sample interval µs (2), difference coding 0/1/2 (1), bimodal (1), bytes per lead (2 each), data
 *   section 7: …, per QRS type P on/off, QRS on/off, T off (2 each, ms; 29999 = not computed), P/QRS/T axes (2 each)
 * Default Huffman table: 0 → 0; 1 0 s → ±1; 1 1 0 s → ±2; … ten ones-prefixed codes up to ±8; then
 * 1111111110 + 8-bit and 1111111111 + 16-bit two's-complement values (MSB first).
 */
import { EcgDecodeError } from './errors.ts';
import { leadFromCode, leadOrder } from './leads.ts';
import type { EcgLead, EcgRecording } from './model.ts';

const NOT_COMPUTED = 29999;
const EXPORT_HINT = 'export the ECG as DICOM (12-lead ECG Waveform) or HL7 aECG from the electrocardiograph or its PC software, and upload that file';

/** True when the bytes look like an SCP-ECG record: a section 0 header marked "SCPECG" at offset 6. */
export function looksLikeScpEcg(bytes: Uint8Array): boolean {
  if (bytes.byteLength < 6 + 16) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reserved = String.fromCharCode(...bytes.subarray(16, 22));
  return view.getUint16(8, true) === 0 && reserved === 'SCPECG';
}

/** CRC-CCITT (polynomial 0x1021, initial 0xFFFF), as SCP-ECG uses for the record and each section. */
export function crcCcitt(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i]! << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

const malformed = (message: string) =>
  new EcgDecodeError('ECG.SCP_MALFORMED', `This SCP-ECG file is damaged (${message}); it was cut short or corrupted while copying. Copy it from the electrocardiograph again and upload it, or ${EXPORT_HINT}.`);
const unsupported = (what: string) => new EcgDecodeError('ECG.SCP_UNSUPPORTED', `This SCP-ECG file uses ${what}, which is not supported: ${EXPORT_HINT}.`);

interface Section {
  id: number;
  body: DataView; // after the 16-byte header
  bytes: Uint8Array;
}

function sections(bytes: Uint8Array): Map<number, Section> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<number, Section>();
  const s0len = view.getUint32(10, true);
  if (s0len < 16 || 6 + s0len > bytes.length) throw malformed('section 0 is truncated');
  for (let p = 6 + 16; p + 10 <= 6 + s0len; p += 10) {
    const id = view.getUint16(p, true);
    const length = view.getUint32(p + 2, true);
    const index = view.getUint32(p + 6, true);
    if (length === 0) continue;
    const start = index - 1;
    if (length < 16 || start < 6 || start + length > bytes.length) throw malformed(`section ${id} lies outside the file`);
    const sec = bytes.subarray(start, start + length);
    const sv = new DataView(sec.buffer, sec.byteOffset, sec.byteLength);
    if (sv.getUint16(2, true) !== id) throw malformed(`section ${id} has the id ${sv.getUint16(2, true)} in its header`);
    if (sv.getUint16(0, true) !== crcCcitt(sec.subarray(2))) throw malformed(`section ${id} fails its CRC`);
    out.set(id, { id, bytes: sec, body: new DataView(sec.buffer, sec.byteOffset + 16, sec.byteLength - 16) });
  }
  return out;
}

/** MSB-first bit reader. */
class Bits {
  private pos = 0;
  constructor(
    private readonly data: Uint8Array,
    private readonly end: number,
  ) {}
  bit(): number {
    if (this.pos >= this.end * 8) throw malformed('Huffman data ends inside a code');
    const b = (this.data[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }
  signed(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | this.bit();
    return v >= 1 << (n - 1) ? v - (1 << n) : v;
  }
}

/**
 * Code table check, written out (code → value):
 *   0 → 0 | 100 → 1 | 101 → −1 | 1100 → 2 | 1101 → −2 | … | 1111111100 → 8 | 1111111101 → −8
 *   1111111110 + 8 bits | 1111111111 + 16 bits
 * In huffmanDefault: `ones` counts the leading ones up to the first zero (consumed). For ones = k ≤ 8
 * the code is k ones, a zero, then one bit choosing +k (0) or −k (1): lengths 3, 4, … 10 as the table
 * says (1 + k + 1). Nine ones then a zero is the 8-bit escape; ten ones is the 16-bit escape.
 *
 * Decodes `count` values with the SCP-ECG default Huffman table.
 */
function huffmanDefault(data: Uint8Array, count: number): Int32Array {
  const out = new Int32Array(count);
  const bits = new Bits(data, data.length);
  for (let i = 0; i < count; i++) {
    let ones = 0;
    while (ones < 10 && bits.bit() === 1) ones++;
    if (ones === 0) out[i] = 0;
    else if (ones < 9) {
      // prefix of `ones` ones then a 0 (already read), then a sign bit: value ±ones
      out[i] = bits.bit() === 0 ? ones : -ones;
    } else if (ones === 9) {
      // 111111111 then the tenth bit: 0 → 8-bit value follows, 1 would have made ones = 10
      out[i] = bits.signed(8);
    } else {
      out[i] = bits.signed(16);
    }
  }
  return out;
}

function undifference(d: Int32Array, mode: number): Int32Array {
  if (mode === 0) return d;
  const x = new Int32Array(d.length);
  if (mode === 1) {
    for (let i = 0; i < d.length; i++) x[i] = i === 0 ? d[0]! : d[i]! + x[i - 1]!;
  } else if (mode === 2) {
    for (let i = 0; i < d.length; i++) x[i] = i < 2 ? d[i]! : d[i]! + 2 * x[i - 1]! - x[i - 2]!;
  } else throw unsupported(`difference coding ${mode}`);
  return x;
}

export function readScpEcg(bytes: Uint8Array): EcgRecording {
  return readScpEcgFile(bytes).recording;
}

/** Decode an SCP-ECG record and read its section 1 header (patient, acquisition, device). */
export function readScpEcgFile(bytes: Uint8Array): { recording: EcgRecording; header: ScpHeader } {
  if (!looksLikeScpEcg(bytes)) {
    throw new EcgDecodeError('ECG.SCP_MALFORMED', `This file is not an SCP-ECG record: ${EXPORT_HINT}.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const recordLength = view.getUint32(2, true);
  if (recordLength > bytes.length) throw malformed(`the record declares ${recordLength} bytes but the file holds ${bytes.length}`);
  if (view.getUint16(0, true) !== crcCcitt(bytes.subarray(2, recordLength))) throw malformed('the record fails its CRC');
  const secs = sections(bytes.subarray(0, recordLength));
  const warnings: string[] = [];

  const s3 = secs.get(3);
  const s6 = secs.get(6);
  if (!s3 || !s6) throw new EcgDecodeError('ECG.SCP_UNSUPPORTED', `This SCP-ECG file has no rhythm data (sections 3 and 6): ${EXPORT_HINT}.`);

  // Section 3: leads.
  const nLeads = s3.body.getUint8(0);
  const flags = s3.body.getUint8(1);
  if (flags & 0x01) throw unsupported('reference-beat subtraction');
  if (nLeads === 0 || 2 + nLeads * 9 > s3.body.byteLength) throw malformed('section 3 lists no leads or is truncated');
  const leadDefs = Array.from({ length: nLeads }, (_, i) => {
    const o = 2 + i * 9;
    return { start: s3.body.getUint32(o, true), end: s3.body.getUint32(o + 4, true), id: s3.body.getUint8(o + 8) };
  });

  // Section 2: Huffman tables.
  const s2 = secs.get(2);
  let huffman = false;
  if (s2) {
    const tables = s2.body.getUint16(0, true);
    if (tables !== 19999) throw unsupported('its own Huffman tables');
    huffman = true;
  }

  // Section 6: rhythm data.
  const b6 = s6.body;
  if (b6.byteLength < 6 + 2 * nLeads) throw malformed('section 6 is truncated');
  const avmNv = b6.getUint16(0, true);
  const intervalUs = b6.getUint16(2, true);
  const diff = b6.getUint8(4);
  const bimodal = b6.getUint8(5);
  if (bimodal !== 0) throw unsupported('bimodal compression');
  if (avmNv === 0 || intervalUs === 0) throw malformed('section 6 has no amplitude or sampling interval');
  const fs = 1e6 / intervalUs;
  let offset = 6 + 2 * nLeads;
  const leads: EcgLead[] = [];
  for (let i = 0; i < nLeads; i++) {
    const byteCount = b6.getUint16(6 + 2 * i, true);
    if (offset + byteCount > b6.byteLength) throw malformed(`section 6 data of lead ${i + 1} runs past the section`);
    const data = new Uint8Array(b6.buffer, b6.byteOffset + offset, byteCount);
    offset += byteCount;
    const def = leadDefs[i]!;
    const declared = def.end >= def.start ? def.end - def.start + 1 : 0;
    let values: Int32Array;
    if (huffman) {
      // Every Huffman code is at least one bit: more samples than bits cannot be in the data.
      if (declared > byteCount * 8) throw malformed(`section 3 declares ${declared} samples for lead ${i + 1}, more than section 6 can hold`);
      values = huffmanDefault(data, declared);
    } else {
      const available = Math.floor(byteCount / 2);
      const n = Math.min(declared, available);
      if (n < declared) warnings.push(`lead ${i + 1}: section 3 declares ${declared} samples, section 6 holds ${available}`);
      values = new Int32Array(n);
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let k = 0; k < n; k++) values[k] = dv.getInt16(2 * k, true);
    }
    const samples = undifference(values, diff);
    const mv = new Float32Array(samples.length);
    const scale = avmNv * 1e-6;
    for (let k = 0; k < samples.length; k++) mv[k] = samples[k]! * scale;
    const name = leadFromCode(`5.6.3-9-${def.id}`) ?? `lead ${def.id}`;
    leads.push({ name, mv, sourceLabel: `SCP lead ${def.id}` });
  }
  // Leads of a group share one length: cut to the shortest.
  const n = Math.min(...leads.map((l) => l.mv.length));
  if (leads.some((l) => l.mv.length !== n)) warnings.push(`leads cut to the shortest (${n} samples)`);
  for (const l of leads) l.mv = l.mv.subarray(0, n);
  leads.sort((a, b) => leadOrder(a.name) - leadOrder(b.name));

  const recording: EcgRecording = {
    source: 'scp-ecg',
    groups: [{ label: 'RHYTHM', samplingFrequency: fs, leads }],
    deviceMeasurements: globalMeasurements(secs.get(7)),
    warnings: warnings.length ? warnings : undefined,
  };
  return { recording, header: readSection1(secs.get(1)) };
}

/** What section 1 says (all optional; PHI inside). Dates YYYYMMDD, time HHMMSS. */
export interface ScpHeader {
  lastName?: string | undefined;
  firstName?: string | undefined;
  patientId?: string | undefined;
  birthDate?: string | undefined;
  /** 'M' | 'F' from tag 8 (0 = not known and 9 = unspecified give nothing). */
  sex?: string | undefined;
  acquisitionDate?: string | undefined;
  acquisitionTime?: string | undefined;
  /** Tag 31, ECG sequence number (free text, not an identifier we can trust to be unique). */
  sequenceNumber?: string | undefined;
  manufacturer?: string | undefined;
  model?: string | undefined;
}

/** Manufacturer codes of the acquiring device identification (tag 14, byte 7). */
const MANUFACTURERS: Record<number, string> = {
  1: 'Burdick', 2: 'Cambridge Heart', 3: 'Compumed', 4: 'Datamed', 5: 'Fukuda', 6: 'Hewlett-Packard', 7: 'Marquette',
  8: 'Mortara', 9: 'Nihon Kohden', 10: 'Okin', 11: 'Quinton', 12: 'Siemens', 13: 'Spacelabs', 14: 'Telemed', 15: 'Hellige',
  16: 'ESA-OTE', 17: 'Schiller', 18: 'Picker-Schwarzer', 19: 'Elettronica-Trentina', 20: 'Zwönitz',
};

/** Text encodings of the language support code (tag 14, byte 16). */
const LANGUAGE_CODES: Record<number, string> = {
  0x01: 'windows-1252', 0x03: 'iso-8859-2', 0x0b: 'iso-8859-4', 0x13: 'iso-8859-5', 0x1b: 'iso-8859-6', 0x23: 'iso-8859-7',
  0x2b: 'iso-8859-8', 0x33: 'windows-874', 0x3b: 'iso-8859-15', 0x07: 'utf-16le', 0x0f: 'euc-jp', 0x17: 'euc-jp', 0x1f: 'euc-jp',
  0x27: 'gb18030', 0x2f: 'euc-kr',
};

function decodeText(v: Uint8Array, encoding: string | null): string | undefined {
  let b = v;
  if (encoding === 'utf-16le') {
    let end = 0;
    while (end + 1 < b.length && (b[end] !== 0 || b[end + 1] !== 0)) end += 2;
    b = b.subarray(0, end);
  } else {
    const nul = b.indexOf(0);
    if (nul >= 0) b = b.subarray(0, nul);
  }
  if (b.length === 0) return undefined;
  let label = encoding;
  if (!label) {
    // Declared ASCII. Devices that ignore the language code write their locale's bytes (GBK on Chinese carts).
    if (b.every((x) => x < 0x80)) label = 'ascii';
    else {
      try {
        return tidy(new TextDecoder('utf-8', { fatal: true }).decode(b));
      } catch {
        label = 'gb18030';
      }
    }
  }
  try {
    return tidy(new TextDecoder(label === 'ascii' ? 'windows-1252' : label).decode(b));
  } catch {
    return undefined;
  }
}

const tidy = (s: string) => {
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return t ? t : undefined;
};

function scpDate(v: Uint8Array): string | undefined {
  if (v.length < 4) return undefined;
  const y = v[0]! | (v[1]! << 8);
  const m = v[2]!;
  const d = v[3]!;
  if (y < 1850 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31) return undefined;
  return `${String(y).padStart(4, '0')}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
}

function scpTime(v: Uint8Array): string | undefined {
  if (v.length < 3) return undefined;
  const [h, m, s] = [v[0]!, v[1]!, v[2]!];
  if (h > 23 || m > 59 || s > 60) return undefined;
  return [h, m, s].map((x) => String(x).padStart(2, '0')).join('');
}

/**
 * Section 1: tag (1), length (2), value, … up to tag 255. A field that runs past the section ends the
 * walk (the section passed its CRC, so what was read is what the device wrote).
 */
function readSection1(s1: Section | undefined): ScpHeader {
  const out: ScpHeader = {};
  if (!s1) return out;
  const body = s1.bytes.subarray(16);
  const fields = new Map<number, Uint8Array>();
  for (let p = 0; p + 3 <= body.length; ) {
    const tag = body[p]!;
    if (tag === 255) break;
    const len = body[p + 1]! | (body[p + 2]! << 8);
    if (p + 3 + len > body.length) break;
    if (!fields.has(tag)) fields.set(tag, body.subarray(p + 3, p + 3 + len));
    p += 3 + len;
  }
  const device = fields.get(14);
  const lsc = device && device.length > 16 ? device[16]! : 0;
  const encoding = lsc & 0x01 ? (LANGUAGE_CODES[lsc] ?? null) : null;
  const txt = (tag: number) => {
    const v = fields.get(tag);
    return v ? decodeText(v, encoding) : undefined;
  };
  out.lastName = txt(0);
  out.firstName = txt(1);
  out.patientId = txt(2);
  const dob = fields.get(5);
  if (dob) out.birthDate = scpDate(dob);
  const sex = fields.get(8)?.[0];
  if (sex === 1) out.sex = 'M';
  else if (sex === 2) out.sex = 'F';
  const date = fields.get(25);
  if (date) out.acquisitionDate = scpDate(date);
  const time = fields.get(26);
  if (time) out.acquisitionTime = scpTime(time);
  out.sequenceNumber = txt(31);
  if (device && device.length >= 14) {
    out.model = decodeText(device.subarray(8, 14), null);
    const strings = device.length > 36 ? device.subarray(36) : new Uint8Array(0);
    // Analysing program revision, serial number, system software, SCP implementation software, manufacturer.
    const parts: Uint8Array[] = [];
    for (let start = 0, i = 0; i <= strings.length; i++) {
      if (i === strings.length || strings[i] === 0) {
        parts.push(strings.subarray(start, i));
        start = i + 1;
      }
    }
    out.manufacturer = (parts[4] ? decodeText(parts[4], encoding) : undefined) ?? MANUFACTURERS[device[7]!];
  }
  for (const k of Object.keys(out) as Array<keyof ScpHeader>) if (out[k] === undefined) delete out[k];
  return out;
}

/** Section 7, first QRS type: PR, QRS, QT, P duration and the axes; RR/PP from its header. */
function globalMeasurements(s7: Section | undefined): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  if (!s7 || s7.body.byteLength < 6 + 16) return out;
  const b = s7.body;
  const u = (o: number) => {
    const v = b.getUint16(o, true);
    return v === NOT_COMPUTED ? null : v;
  };
  const s = (o: number) => {
    const v = b.getInt16(o, true);
    return v === NOT_COMPUTED ? null : v;
  };
  const rr = u(2);
  const pp = u(4);
  if (rr) {
    out.rrMs = rr;
    out.heartRate = Math.round(60000 / rr);
  }
  if (pp) out.ppMs = pp;
  const pOn = u(6);
  const pOff = u(8);
  const qOn = u(10);
  const qOff = u(12);
  const tOff = u(14);
  if (pOn !== null && qOn !== null) out.prMs = qOn - pOn;
  if (pOn !== null && pOff !== null) out.pDurationMs = pOff - pOn;
  if (qOn !== null && qOff !== null) out.qrsMs = qOff - qOn;
  if (qOn !== null && tOff !== null) out.qtMs = tOff - qOn;
  if (b.byteLength >= 22) {
    const [pAxis, qrsAxis, tAxis] = [s(16), s(18), s(20)];
    if (pAxis !== null) out.pAxis = pAxis;
    if (qrsAxis !== null) out.qrsAxis = qrsAxis;
    if (tAxis !== null) out.tAxis = tAxis;
  }
  return out;
}
