/**
 * The CJK face of the PDFs: Noto Sans CJK SC, taken from Debian's fonts-noto-cjk collection
 * (`NotoSansCJK-Regular.ttc`, ten faces sharing tables). `extractTtcFace` copies one face out of the
 * collection into a standalone OpenType file (done at first start into the data directory, or at
 * build time for the Lambda bundle with `teleread font extract`), so the runtime needs neither the
 * collection nor any installed font: pdfkit embeds a subset of this face in every PDF.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as fontkit from 'fontkit';
import type { Font } from 'fontkit';

export const CJK_FACE = 'NotoSansCJKsc-Regular';
export const CJK_FACE_FILE = `${CJK_FACE}.otf`;
/** Where Debian (and the CI image) install the collection. */
export const DEBIAN_NOTO_CJK_TTC = [
  '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc',
];

const u32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const u16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const tag = (b: Uint8Array, o: number) => String.fromCharCode(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!);

/** The PostScript name of one face of a collection (name ID 6), read from its `name` table. */
function postscriptNameAt(b: Uint8Array, tables: { tag: string; offset: number; length: number }[]): string | null {
  const name = tables.find((x) => x.tag === 'name');
  if (!name) return null;
  const base = name.offset;
  const count = u16(b, base + 2);
  const strings = base + u16(b, base + 4);
  for (let i = 0; i < count; i++) {
    const r = base + 6 + 12 * i;
    const [platform, , , nameId, length, offset] = [u16(b, r), u16(b, r + 2), u16(b, r + 4), u16(b, r + 6), u16(b, r + 8), u16(b, r + 10)];
    if (nameId !== 6) continue;
    const bytes = b.subarray(strings + offset, strings + offset + length);
    if (platform === 1) return String.fromCharCode(...bytes);
    if (platform === 3 || platform === 0) {
      let s = '';
      for (let k = 0; k + 1 < bytes.length; k += 2) s += String.fromCharCode(u16(bytes, k));
      return s;
    }
  }
  return null;
}

/**
 * Copies the face called `postscriptName` out of a TrueType/OpenType collection into a standalone
 * sfnt: the face's table directory with each table it references copied and re-offset (tables the
 * collection shares are simply copied into this face), 4-byte aligned, with head.checkSumAdjustment
 * recomputed. Throws when the bytes are not a collection or the face is not in it.
 */
export function extractTtcFace(ttc: Uint8Array, postscriptName: string): Uint8Array {
  if (ttc.length < 12 || tag(ttc, 0) !== 'ttcf') throw new Error('not a TrueType/OpenType collection (no ttcf header)');
  const numFonts = u32(ttc, 8);
  const available: string[] = [];
  for (let f = 0; f < numFonts; f++) {
    const off = u32(ttc, 12 + 4 * f);
    const numTables = u16(ttc, off + 4);
    const tables = Array.from({ length: numTables }, (_, k) => {
      const r = off + 12 + 16 * k;
      return { tag: tag(ttc, r), checksum: u32(ttc, r + 4), offset: u32(ttc, r + 8), length: u32(ttc, r + 12) };
    });
    const ps = postscriptNameAt(ttc, tables);
    available.push(ps ?? `#${f}`);
    if (ps !== postscriptName) continue;

    const headerLength = 12 + 16 * numTables;
    const total = tables.reduce((n, x) => n + x.length + ((4 - (x.length % 4)) % 4), headerLength);
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    out.set(ttc.subarray(off, off + 12), 0); // sfnt version, numTables, searchRange, entrySelector, rangeShift
    let pos = headerLength;
    let headAt = -1;
    tables.forEach((x, k) => {
      const r = 12 + 16 * k;
      for (let i = 0; i < 4; i++) out[r + i] = x.tag.charCodeAt(i);
      view.setUint32(r + 4, x.checksum);
      view.setUint32(r + 8, pos);
      view.setUint32(r + 12, x.length);
      out.set(ttc.subarray(x.offset, x.offset + x.length), pos);
      if (x.tag === 'head') headAt = pos;
      pos += x.length + ((4 - (x.length % 4)) % 4);
    });
    if (headAt >= 0) {
      view.setUint32(headAt + 8, 0);
      let sum = 0;
      for (let i = 0; i < out.length; i += 4) sum = (sum + view.getUint32(i)) >>> 0;
      view.setUint32(headAt + 8, (0xb1b0afba - sum) >>> 0);
    }
    return out;
  }
  throw new Error(`face ${postscriptName} is not in the collection (it has ${available.join(', ')})`);
}

/** The first Debian collection path that exists, or null. */
export function findNotoCjkCollection(candidates: readonly string[] = DEBIAN_NOTO_CJK_TTC): string | null {
  return candidates.find((p) => existsSync(p)) ?? null;
}

/**
 * Writes the standalone SC face to `outFile` (atomically) unless it is already there; returns its path.
 * `collection` defaults to Debian's fonts-noto-cjk file.
 */
export function ensureCjkFontFile(outFile: string, collection?: string): string {
  if (existsSync(outFile)) return outFile;
  const src = collection ?? findNotoCjkCollection();
  if (!src) {
    throw new Error(`No Noto Sans CJK collection found (looked at ${DEBIAN_NOTO_CJK_TTC.join(', ')}); install fonts-noto-cjk or ship ${CJK_FACE_FILE}.`);
  }
  const face = extractTtcFace(new Uint8Array(readFileSync(src)), CJK_FACE);
  mkdirSync(dirname(outFile), { recursive: true });
  const tmp = `${outFile}.${process.pid}.tmp`;
  writeFileSync(tmp, face);
  renameSync(tmp, outFile);
  return outFile;
}

/**
 * Opens the CJK face once for all renders: from `fontFile` (a standalone face, e.g. shipped beside
 * the Lambda bundle), else extracted into `cacheDir` from the Debian collection on first use.
 */
export function loadCjkFont(opts: { fontFile?: string; cacheDir?: string; collection?: string } = {}): Font {
  const file = opts.fontFile ?? ensureCjkFontFile(join(opts.cacheDir ?? join(tmpdir(), 'teleread-fonts'), CJK_FACE_FILE), opts.collection);
  const font = fontkit.create(new Uint8Array(readFileSync(file)));
  if (!('layout' in font)) throw new Error(`${file} is a font collection, not one face`);
  if (font.postscriptName !== CJK_FACE) throw new Error(`${file} holds ${font.postscriptName}, not ${CJK_FACE}`);
  return font;
}
