/**
 * Text encoders for the two character sets the synthetic studies use for Chinese names.
 *
 * Node's TextEncoder only writes UTF-8. For GB18030 the reverse mapping is built lazily from
 * Node's own `TextDecoder('gb18030')` (WHATWG GB18030), so no table is shipped with the code:
 *   - one byte:   U+0000–U+007F as is;
 *   - two bytes:  lead 0x81–0xFE, trail 0x40–0x7E / 0x80–0xFE (the GBK range, 23 940 codes),
 *                 decoded once in one batch into a UTF-16 code unit → code table;
 *   - four bytes: BMP characters outside the two-byte table (0x81 30 81 30 … 0x84 31 A4 39),
 *                 decoded once on first need; supplementary planes by the linear formula of GB18030.
 */

export type TextCharset = 'ISO_IR 192' | 'GB18030';

const utf8 = new TextEncoder();

let twoByte: Uint16Array | undefined; // UTF-16 code unit → (lead << 8) | trail, 0 = none
let fourByte: Uint32Array | undefined; // UTF-16 code unit → 4-byte linear index + 1, 0 = none

function twoByteTable(): Uint16Array {
  if (twoByte) return twoByte;
  const codes: number[] = [];
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      codes.push(lead, trail);
    }
  }
  const decoder = new TextDecoder('gb18030');
  const table = new Uint16Array(0x10000);
  const text = decoder.decode(Uint8Array.from(codes));
  if (text.length === codes.length / 2) {
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if (unit === 0xfffd || table[unit] !== 0) continue; // keep the first (canonical) code
      table[unit] = (codes[2 * i]! << 8) | codes[2 * i + 1]!;
    }
  } else {
    // Not one UTF-16 unit per code: fall back to decoding each code on its own.
    for (let i = 0; i < codes.length; i += 2) {
      const s = decoder.decode(Uint8Array.of(codes[i]!, codes[i + 1]!));
      if (s.length !== 1) continue;
      const unit = s.charCodeAt(0);
      if (unit === 0xfffd || table[unit] !== 0) continue;
      table[unit] = (codes[i]! << 8) | codes[i + 1]!;
    }
  }
  twoByte = table;
  return table;
}

/** Linear index of a GB18030 four-byte sequence (0 for 81 30 81 30). */
function fourByteBytes(linear: number, out: number[]): void {
  const b4 = linear % 10;
  linear = Math.floor(linear / 10);
  const b3 = linear % 126;
  linear = Math.floor(linear / 126);
  const b2 = linear % 10;
  const b1 = Math.floor(linear / 10);
  out.push(0x81 + b1, 0x30 + b2, 0x81 + b3, 0x30 + b4);
}

function fourByteTable(): Uint32Array {
  if (fourByte) return fourByte;
  // BMP four-byte region: 81 30 81 30 … 84 31 A4 39 = linear 0 … 39419.
  const count = 39420;
  const bytes: number[] = [];
  for (let i = 0; i < count; i++) fourByteBytes(i, bytes);
  const text = new TextDecoder('gb18030').decode(Uint8Array.from(bytes));
  const table = new Uint32Array(0x10000);
  if (text.length === count) {
    for (let i = 0; i < count; i++) {
      const unit = text.charCodeAt(i);
      if (unit === 0xfffd || table[unit] !== 0) continue;
      table[unit] = i + 1;
    }
  }
  fourByte = table;
  return table;
}

/** GB18030 bytes of a string (throws on an unpaired surrogate or an unmappable character). */
export function encodeGb18030(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      out.push(cp);
      continue;
    }
    if (cp >= 0x10000) {
      fourByteBytes(cp - 0x10000 + 189000, out); // 90 30 81 30 = U+10000
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdfff) throw new Error(`unpaired surrogate U+${cp.toString(16)} cannot be encoded`);
    const two = twoByteTable()[cp]!;
    if (two !== 0) {
      out.push(two >> 8, two & 0xff);
      continue;
    }
    const four = fourByteTable()[cp]!;
    if (four !== 0) {
      fourByteBytes(four - 1, out);
      continue;
    }
    throw new Error(`U+${cp.toString(16).toUpperCase().padStart(4, '0')} has no GB18030 encoding here`);
  }
  return Uint8Array.from(out);
}

/**
 * Bytes of `s` in the DICOM character set named by its SpecificCharacterSet defined term.
 * The caller writes SpecificCharacterSet (0008,0005) with the same term.
 */
export function encodeText(s: string, charset: TextCharset): Uint8Array {
  switch (charset) {
    case 'ISO_IR 192':
      return utf8.encode(s);
    case 'GB18030':
      return encodeGb18030(s);
    default: {
      const never: never = charset;
      throw new Error(`unsupported character set ${String(never)}`);
    }
  }
}
