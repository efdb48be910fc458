/**
 * Checks of encapsulated (compressed) pixel data without reading it: walk the item headers
 * (FFFE,E000 + length) with small reads, check every fragment lies inside the file and that the
 * sequence delimiter (FFFE,E0DD) is there.
 */
import type { ByteSource } from '../ports/study-inspector.ts';
import { REEXPORT } from './codes.ts';

export type Reader = (offset: number, length: number) => Promise<Uint8Array>;

export const bufferReader =
  (b: Uint8Array): Reader =>
  async (offset, length) =>
    b.subarray(offset, Math.min(b.length, offset + length));

/** A reader over a ByteSource that serves small reads from a 4 KiB window (runs of tiny fragments cost one read). */
export function windowedReader(source: ByteSource, window = 4096): Reader {
  let start = -1;
  let buf: Uint8Array = new Uint8Array(0);
  return async (offset, length) => {
    if (start >= 0 && offset >= start && offset + length <= start + buf.length) {
      return buf.subarray(offset - start, offset - start + length);
    }
    const len = Math.min(Math.max(length, window), source.size - offset);
    if (len <= 0) return new Uint8Array(0);
    buf = await source.readRange(offset, len);
    start = offset;
    return buf.subarray(0, Math.min(length, buf.length));
  };
}

export type WalkResult =
  | { ok: true; fragments: number }
  | {
      ok: false;
      code: 'DICOM.PIXEL_DATA_TRUNCATED' | 'DICOM.MALFORMED' | 'DICOM.PIXEL_DATA_MISSING' | 'DICOM.PIXEL_DATA_LENGTH_MISMATCH';
      message: string;
    };

const MAX_ITEMS = 200_000;

const truncated = (what: string): WalkResult => ({
  ok: false,
  code: 'DICOM.PIXEL_DATA_TRUNCATED',
  message: `The compressed image data is cut short (${what}): the file is incomplete, probably from an interrupted copy or upload. Upload the complete file again, or ${REEXPORT.toLowerCase()}`,
});

/**
 * Walk encapsulated pixel data starting at `offset` (the first item: the Basic Offset Table) in a
 * file of `size` bytes, declaring `frames` frames.
 */
export async function walkEncapsulated(read: Reader, size: number, offset: number, frames: number): Promise<WalkResult> {
  let pos = offset;
  let items = 0;
  while (items <= MAX_ITEMS) {
    if (pos + 8 > size) return truncated(items === 0 ? 'no fragments' : 'the end-of-data marker is missing');
    const h = await read(pos, 8);
    if (h.length < 8) return truncated('the end-of-data marker is missing');
    const group = h[0]! | (h[1]! << 8);
    const elem = h[2]! | (h[3]! << 8);
    const len = (h[4]! | (h[5]! << 8) | (h[6]! << 16)) + h[7]! * 0x1000000;
    if (group !== 0xfffe)
      return {
        ok: false,
        code: 'DICOM.MALFORMED',
        message: `The compressed image data is not properly framed (an item header is missing); the file is corrupt. ${REEXPORT}`,
      };
    if (elem === 0xe0dd) {
      // Items: the Basic Offset Table plus at least one fragment.
      if (items < 2)
        return {
          ok: false,
          code: 'DICOM.PIXEL_DATA_MISSING',
          message: `The compressed image data contains no image fragments. ${REEXPORT}`,
        };
      // Every frame is at least one fragment (PS3.5 A.4).
      if (items - 1 < frames)
        return {
          ok: false,
          code: 'DICOM.PIXEL_DATA_LENGTH_MISMATCH',
          message: `The compressed image data holds ${items - 1} fragment(s) but the header declares ${frames} frames: frames are missing. ${REEXPORT}`,
        };
      return { ok: true, fragments: items - 1 };
    }
    if (elem !== 0xe000 || len === 0xffffffff)
      return {
        ok: false,
        code: 'DICOM.MALFORMED',
        message: `The compressed image data is not properly framed (a bad item header); the file is corrupt. ${REEXPORT}`,
      };
    pos += 8 + len;
    if (pos > size) return truncated(`a fragment runs ${pos - size} bytes past the end of the file`);
    items++;
  }
  return {
    ok: false,
    code: 'DICOM.MALFORMED',
    message: `The compressed image data is split into an implausible number of fragments; the file is corrupt. ${REEXPORT}`,
  };
}
