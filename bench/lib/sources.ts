/** ByteSources for the benchmarks: over a file (FileHandle, never read whole) and a counting wrapper. */
import { open, type FileHandle } from 'node:fs/promises';
import type { ByteSource } from '../../shared/ports/study-inspector.ts';

export interface ReadCount {
  reads: number;
  bytes: number;
}

export function counting(src: ByteSource, count: ReadCount): ByteSource {
  return {
    size: src.size,
    async readRange(offset, length) {
      count.reads++;
      const b = await src.readRange(offset, length);
      count.bytes += b.length;
      return b;
    },
  };
}

export async function fileSource(path: string): Promise<{ source: ByteSource; close: () => Promise<void> }> {
  const fh: FileHandle = await open(path, 'r');
  const size = (await fh.stat()).size;
  return {
    source: {
      size,
      async readRange(offset, length) {
        if (offset < 0 || length < 0 || offset + length > size) throw new RangeError('read past end');
        const buf = new Uint8Array(length);
        let got = 0;
        while (got < length) {
          const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return got === length ? buf : buf.subarray(0, got);
      },
    },
    close: () => fh.close(),
  };
}

/** Stream an async iterable of chunks to a file; returns the bytes written. */
export async function writeStreamToFile(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
  const fh = await open(path, 'w');
  let n = 0;
  try {
    for await (const c of chunks) {
      let off = 0;
      while (off < c.length) {
        const { bytesWritten } = await fh.write(c, off, c.length - off);
        off += bytesWritten;
      }
      n += c.length;
    }
  } finally {
    await fh.close();
  }
  return n;
}
