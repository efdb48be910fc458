/** Writing synthetic studies to disk, streaming the big ones (bounded memory, backpressure honoured). */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
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
  else await pipeline(Readable.from(study.stream, { objectMode: false }), createWriteStream(path));
  return { path, metadata: study.metadata };
}
