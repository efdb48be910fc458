/**
 * The disk floor of ingest: write the same bytes to new files in a temp directory, each file
 * written whole and fsynced before close, with the same number of concurrent writers as the HTTP
 * clients. Nothing that stores the bytes durably once can be faster on this disk.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from './cleanup.ts';
import { MB, round } from './stats.ts';

export interface FloorRun {
  files: number;
  bytes: number;
  wallMs: number;
  filesPerSec: number;
  mbPerSec: number;
  /** CPU time of this process over the run (ms per file). */
  cpuMsPerFile: number;
}

export async function diskFloor(files: { bytes: Uint8Array }[], concurrency: number): Promise<FloorRun> {
  const dir = tempDir('floor');
  try {
    let next = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const lane = async () => {
      for (;;) {
        const i = next++;
        if (i >= files.length) return;
        const b = files[i]!.bytes;
        const fh = await open(join(dir.path, String(i)), 'wx');
        try {
          let off = 0;
          while (off < b.length) off += (await fh.write(b, off, b.length - off)).bytesWritten;
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const bytes = files.reduce((a, f) => a + f.bytes.length, 0);
    return {
      files: files.length,
      bytes,
      wallMs: round(wallMs, 1),
      filesPerSec: round(files.length / (wallMs / 1000), 2),
      mbPerSec: round(bytes / MB / (wallMs / 1000), 2),
      cpuMsPerFile: round((cpu.user + cpu.system) / 1000 / files.length, 2),
    };
  } finally {
    await dir.remove();
  }
}
