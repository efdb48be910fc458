import { open } from 'node:fs/promises';
import type { ByteSource } from '../shared/ports/study-inspector.ts';

/** A ByteSource over a spool file (the inspector reads only the ranges it needs). */
export function fileSource(path: string, size: number): ByteSource {
  return {
    size,
    async readRange(offset, length) {
      const h = await open(path, 'r');
      try {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await h.read(buf, 0, length, offset);
        return buf.subarray(0, bytesRead);
      } finally {
        await h.close();
      }
    },
  };
}
