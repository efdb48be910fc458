/**
 * Decoding of DICOM string values according to Specific Character Set (0008,0005).
 *
 * - default repertoire (absent / ISO_IR 6 / ISO 2022 IR 6): ASCII; bytes above 0x7F (devices that write
 *   local text without declaring it) are tried as UTF-8 first, then GB18030 (the common case in China).
 * - ISO_IR 100 → latin1; ISO_IR 192 → UTF-8; GB18030, and the non-standard GBK / GB2312 /
 *   'ISO 2022 IR 58' / 'ISO_IR 58' that Chinese devices send → TextDecoder('gb18030').
 * - ISO 2022 code extensions: escape sequences are removed before decoding with the decoder of the
 *   first non-ASCII term (for IR 58 the GR bytes are EUC-CN, which the GB18030 decoder reads).
 * - Multi-valued values are decoded first and split on '\' afterwards: a GBK trail byte may be 0x5C.
 * PN component separators '^' and '=' are ASCII in every supported charset, so they are kept.
 */

const TERM_TO_ENCODING: Record<string, string> = {
  '': 'ascii',
  ISO_IR_6: 'ascii',
  ISO_2022_IR_6: 'ascii',
  ISO_IR_100: 'latin1',
  ISO_2022_IR_100: 'latin1',
  ISO_IR_101: 'iso-8859-2',
  ISO_2022_IR_101: 'iso-8859-2',
  ISO_IR_109: 'iso-8859-3',
  ISO_2022_IR_109: 'iso-8859-3',
  ISO_IR_110: 'iso-8859-4',
  ISO_2022_IR_110: 'iso-8859-4',
  ISO_IR_144: 'iso-8859-5',
  ISO_2022_IR_144: 'iso-8859-5',
  ISO_IR_127: 'iso-8859-6',
  ISO_2022_IR_127: 'iso-8859-6',
  ISO_IR_126: 'iso-8859-7',
  ISO_2022_IR_126: 'iso-8859-7',
  ISO_IR_138: 'iso-8859-8',
  ISO_2022_IR_138: 'iso-8859-8',
  ISO_IR_148: 'windows-1254',
  ISO_2022_IR_148: 'windows-1254',
  ISO_IR_203: 'iso-8859-15',
  ISO_2022_IR_203: 'iso-8859-15',
  ISO_IR_166: 'windows-874',
  ISO_2022_IR_166: 'windows-874',
  ISO_IR_13: 'shift_jis',
  ISO_2022_IR_13: 'shift_jis',
  ISO_2022_IR_87: 'iso-2022-jp',
  ISO_2022_IR_159: 'iso-2022-jp',
  ISO_2022_IR_149: 'euc-kr',
  ISO_IR_149: 'euc-kr',
  ISO_IR_192: 'utf-8',
  UTF8: 'utf-8',
  UTF_8: 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gb18030',
  GB2312: 'gb18030',
  ISO_2022_IR_58: 'gb18030',
  ISO_IR_58: 'gb18030',
  CP936: 'gb18030',
};

const decoders = new Map<string, TextDecoder>();
function decoderFor(encoding: string, fatal = false): TextDecoder {
  const key = `${encoding}|${fatal}`;
  let d = decoders.get(key);
  if (!d) {
    d = new TextDecoder(encoding, { fatal });
    decoders.set(key, d);
  }
  return d;
}

const normaliseTerm = (t: string) => t.trim().toUpperCase().replace(/[\s-]+/g, '_');

export interface Charset {
  /** The SpecificCharacterSet value as found ('' when absent). */
  declared: string;
  /** WHATWG encoding used for bytes above 0x7F; 'ascii' = the default repertoire. */
  encoding: string;
  /** ISO 2022 code extensions in use: escape sequences must be stripped (or kept for iso-2022-jp). */
  iso2022: boolean;
}

/** Interpret a SpecificCharacterSet value (possibly multi-valued, 'ISO 2022 IR 6\ISO 2022 IR 58'). */
export function resolveCharset(declared: string | undefined): Charset {
  const raw = (declared ?? '').replace(/\0/g, '').trim();
  const terms = raw.split('\\').map(normaliseTerm);
  let encoding = 'ascii';
  for (const t of terms) {
    const enc = TERM_TO_ENCODING[t];
    if (enc && enc !== 'ascii') {
      encoding = enc;
      break;
    }
    // Unknown terms: keep looking; fall back to the default repertoire.
  }
  const iso2022 = terms.some((t) => t.startsWith('ISO_2022')) || terms.length > 1;
  return { declared: raw, encoding, iso2022 };
}

function stripEscapes(bytes: Uint8Array): Uint8Array {
  if (!bytes.includes(0x1b)) return bytes;
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x1b) {
      // ESC, intermediate bytes 0x20–0x2F, one final byte 0x30–0x7E.
      i++;
      while (i < bytes.length && bytes[i]! >= 0x20 && bytes[i]! <= 0x2f) i++;
      continue;
    }
    out.push(b);
  }
  return Uint8Array.from(out);
}

const isAscii = (bytes: Uint8Array) => bytes.every((b) => b < 0x80);

/** Decode raw value bytes (whole value, all values) to a JS string. Never throws. */
export function decodeText(bytes: Uint8Array, charset: Charset): string {
  if (bytes.length === 0) return '';
  if (charset.encoding === 'iso-2022-jp') return decoderFor('iso-2022-jp').decode(bytes);
  const body = charset.iso2022 ? stripEscapes(bytes) : bytes;
  if (isAscii(body)) return decoderFor('latin1').decode(body);
  if (charset.encoding === 'ascii') {
    // Undeclared non-ASCII text: UTF-8 if it is valid UTF-8, otherwise GB18030 (Chinese devices).
    try {
      return decoderFor('utf-8', true).decode(body);
    } catch {
      return decoderFor('gb18030').decode(body);
    }
  }
  return decoderFor(charset.encoding).decode(body);
}

/** Trim DICOM padding: trailing spaces and NULs (and leading spaces for non-text VRs). */
export function trimValue(s: string, keepLeading = false): string {
  const t = s.replace(/[\0 ]+$/g, '');
  return keepLeading ? t : t.replace(/^ +/, '');
}

/** VRs whose values are subject to Specific Character Set. */
export const CHARSET_VRS = new Set(['SH', 'LO', 'ST', 'LT', 'UT', 'PN', 'UC']);

/** Decode and split a (possibly multi-valued) string value. Text VRs (ST, LT, UT) are single-valued. */
export function decodeValues(bytes: Uint8Array, vr: string | undefined, charset: Charset): string[] {
  const usesCharset = vr === undefined || CHARSET_VRS.has(vr);
  const text = usesCharset ? decodeText(bytes, charset) : decoderFor('latin1').decode(bytes);
  if (vr === 'ST' || vr === 'LT' || vr === 'UT') return [trimValue(text, true)];
  return text.split('\\').map((v) => trimValue(v));
}
