/**
 * fsync latency of the temp directory's disk: the product commits every SQLite transaction
 * (synchronous=FULL) and every upload (file + directory fsync) to disk before answering, so this is
 * a floor under ingest latency that no code change in the app removes.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cleanup.ts';
import { round, summarize, type Summary } from './stats.ts';

export async function fsyncLatency(n: number): Promise<Summary> {
  const dir = tempDir('fsync');
  try {
    const fd = openSync(join(dir.path, 'probe'), 'w');
    const buf = Buffer.alloc(4096, 7);
    const ms: number[] = [];
    try {
      for (let i = 0; i < n; i++) {
        writeSync(fd, buf, 0, buf.length, i * buf.length);
        const t0 = performance.now();
        fsyncSync(fd);
        ms.push(round(performance.now() - t0, 3));
      }
    } finally {
      closeSync(fd);
    }
    return summarize(ms);
  } finally {
    await dir.remove();
  }
}
