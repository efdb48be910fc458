/**
 * Smoke run of the benchmark machinery (bench/), the only part of `npm run bench` in `npm test`:
 * the ingest comparison on three small files, one repetition — TeleRead through its public API and
 * the disk floor always; Orthanc too when it is installed (the full `npm run bench` refuses to run
 * without it). Then reads/next on a small seeded store. Checks that figures come out and that
 * everything started is stopped and removed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { compareIngest } from '../../bench/compare.ts';
import { cleanupAll } from '../../bench/lib/cleanup.ts';
import type { BenchFile } from '../../bench/lib/files.ts';
import { findOrthanc } from '../../bench/lib/orthanc.ts';
import { readsNextLatency } from '../../bench/reads-next.ts';
import { ingestPaths } from '../../bench/stow.ts';
import { httpUploadMemory, makeBigUltrasound } from '../../bench/memory.ts';
import { syntheticCrDx, syntheticEcg, syntheticUltrasound } from '../../shared/synth/studies.ts';

const benchDirs = () => new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('teleread-bench-')));

describe('bench smoke', () => {
  const before = benchDirs();
  afterAll(() => cleanupAll());

  it('compares ingest on the same files: TeleRead, the disk floor, and Orthanc when installed', async () => {
    const f = (kind: string, bytes: Uint8Array, name: string): BenchFile => ({ name, kind, size: bytes.length, bytes });
    const files = [
      f('ecg', syntheticEcg({ seed: 11 }).bytes, 'ecg.dcm'),
      f('dx', syntheticCrDx({ seed: 11, modality: 'DX', rows: 512, columns: 512 }).bytes, 'dx.dcm'),
      f('us', syntheticUltrasound({ seed: 11 }).bytes, 'us.dcm'),
    ];
    const orthanc = findOrthanc();
    const r = await compareIngest('smoke', files, { concurrency: 2, reps: 1, orthancBin: orthanc });
    const rep = r.reps[0]!;
    expect(rep.teleread.refused).toBe(0);
    expect(rep.teleread.mbPerSec).toBeGreaterThan(0);
    expect(rep.floor.mbPerSec).toBeGreaterThan(0);
    expect(r.median.ratioToFloor).toBeGreaterThan(0);
    if (orthanc) {
      expect(rep.orthanc?.statuses).toEqual({ Success: 3 });
      expect(r.median.ratioToOrthanc).toBeGreaterThan(0);
    } else {
      expect(rep.orthanc).toBeNull();
      expect(r.median.ratioToOrthanc).toBeNull();
    }
    const left = [...benchDirs()].filter((d) => !before.has(d));
    expect(left).toEqual([]);
  });

  it('puts the same ECGs through the submission API and through STOW-RS, every study QUEUED', async () => {
    const files = [11, 12].map((seed): BenchFile => {
      const bytes = syntheticEcg({ seed: 900 + seed }).bytes;
      return { name: `ecg-${seed}.dcm`, kind: 'ecg', size: bytes.length, bytes };
    });
    const r = await ingestPaths(files, 2);
    expect(r.legs.map((l) => [l.path, l.files, l.notQueued])).toEqual([
      ['submission API', 2, 0],
      ['STOW-RS', 2, 0],
    ]);
    for (const l of r.legs) expect(l.filesPerSec).toBeGreaterThan(0);
    expect([...benchDirs()].filter((d) => !before.has(d))).toEqual([]);
  });

  it('streams an upload: a 92 MB cine raises the server\'s peak RSS by less than its size', async () => {
    // The guard for the 500 MB memory target of the full run: an upload path that holds the body
    // (a leak of chunks, a buffer of the whole file) shows here as tens of MiB more.
    const big = await makeBigUltrasound(300, 4711);
    try {
      const m = await httpUploadMemory({ path: big.path, size: big.size });
      expect(m.status).toBe('QUEUED');
      expect(m.size).toBeGreaterThan(90_000_000);
      // Healthy runs rise by 30–50 MiB (socket buffers awaiting GC); a body held whole adds its 88 MiB.
      expect(m.serverPeakOverReady).toBeLessThan(72 * 1024 * 1024);
    } finally {
      await big.remove();
    }
  }, 120_000);

  it('measures reads/next on a seeded store', async () => {
    const r = await readsNextLatency({ cases: 300, calls: 6, targetP99Ms: 20 });
    expect(r.seed.cases).toBe(300);
    expect(r.latencyMs.n).toBe(6);
    expect(r.claimed).toBeGreaterThan(0);
    expect([...benchDirs()].filter((d) => !before.has(d))).toEqual([]);
    expect(existsSync(tmpdir())).toBe(true);
  });
});
