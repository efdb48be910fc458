/** Writing synthetic studies to disk, streaming the big ones (bounded memory, backpressure honoured). */
import { createWriteStream } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SyntheticMetadata, SyntheticStudy, SyntheticStudyStream } from './studies.ts';

/** Writes `study` to `dir/<metadata.fileName>` (or `fileName`); returns the path. */
export async function writeSyntheticFile(
  dir: string,
  study: SyntheticStudy | SyntheticStudyStream,
  fileName?: string,
): Promise<{ path: string; metadata: SyntheticMetadata }> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, fileName ?? study.metadata.fileName);
  if ('bytes' in study) await writeFile(path, study.bytes);
  else {
    const handle = await open(path, 'w');
    try {
      await study.writeTo(async (chunk) => {
        for (let off = 0; off < chunk.length; ) {
          const { bytesWritten } = await handle.write(chunk, off, chunk.length - off);
          off += bytesWritten;
        }
      });
    } finally {
      await handle.close();
    }
  }
  return { path, metadata: study.metadata };
}

/** Pipes an AsyncIterable of bytes (e.g. `SyntheticStudyStream.stream`) to a file with backpressure. */
export async function pipeToFile(stream: AsyncIterable<Uint8Array>, path: string): Promise<void> {
  await pipeline(Readable.from(stream, { objectMode: false }), createWriteStream(path));
}
