/**
 * Fuzzing the door. Bulk in-process on the pure analysis (same code the worker runs), plus a smaller
 * batch through the worker pool. Every input must end as ok or a refusal with a known code; no
 * uncaught error; no single inspection over 2 s; the pool survives.
 *
 * Truncations: every point of seeds up to 64 KiB; for larger seeds every point of the first 16 KiB
 * (where the header structure lives) plus an
 * even spread over the rest, ≥ 4,000 points per seed.
 * Mutations: 10,000 deterministic (seeded) random mutations spread over the seeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesSource, createDicomInspector, inspectInProcess } from '../../../shared/dicom/inspector.ts';
import type { StudyMetadata } from '../../../shared/contracts/study.ts';
import type { InspectOutcome, StudyInspector } from '../../../shared/ports/study-inspector.ts';
import { FUZZ_SEEDS, mutate, outcomeProblem, prng, resealScp, seedBytes, truncationPoints } from './fuzz-support.ts';
import { readSample } from './support.ts';

const MAX_MS = 2000;

/** The projection without its instance/series/study UIDs. */
const withoutUids = (m: StudyMetadata) => ({
  ...m,
  study: { ...m.study, StudyInstanceUID: '' },
  series: { ...m.series, SeriesInstanceUID: '' },
  instance: { ...m.instance, SOPInstanceUID: '' },
});
const MUTATIONS = 10_000;

async function runOne(
  bytes: Uint8Array,
  label: string,
  failures: string[],
  stats: { max: number; n: number },
): Promise<InspectOutcome | null> {
  const t = performance.now();
  let r: InspectOutcome;
  try {
    r = await inspectInProcess(bytesSource(bytes), { ecg: false, timeoutMs: 10_000 });
  } catch (e) {
    failures.push(`${label}: threw ${String(e)}`);
    return null;
  }
  const ms = performance.now() - t;
  stats.n++;
  stats.max = Math.max(stats.max, ms);
  if (ms > MAX_MS) failures.push(`${label}: took ${Math.round(ms)} ms`);
  const p = outcomeProblem(r);
  if (p) failures.push(`${label}: ${p}`);
  return r;
}

describe('fuzz', () => {
  it('seeds are accepted as they are', async () => {
    for (const s of FUZZ_SEEDS) {
      const r = await inspectInProcess(bytesSource(seedBytes(s)), { ecg: false });
      expect(r.ok, s).toBe(true);
    }
  });

  for (const seed of FUZZ_SEEDS) {
    it(`truncations of ${seed}`, async () => {
      const bytes = seedBytes(seed);
      const pts = truncationPoints(bytes.length, bytes.length <= 64 * 1024 ? bytes.length : 16 * 1024, 4000);
      expect(pts.length).toBeGreaterThanOrEqual(Math.min(2000, bytes.length));
      const failures: string[] = [];
      const stats = { max: 0, n: 0 };
      const full = await inspectInProcess(bytesSource(bytes), { ecg: false });
      const accepted: number[] = [];
      for (const n of pts) {
        const r = await runOne(bytes.subarray(0, n), `${seed}@${n}`, failures, stats);
        if (!r?.ok) continue;
        // The only cuts that may pass are inside trailing bytes that carry no data (the deflated
        // seed has 8 bytes after the end of its deflate stream; the aECG seed ends with whitespace
        // after its root element): the metadata must be unchanged, except for UIDs that are a hash
        // of the (now different) bytes.
        const blankTail = bytes.subarray(n).every((c) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09);
        const harmless =
          n >= bytes.length - 16 &&
          full.ok &&
          (JSON.stringify(r.metadata) === JSON.stringify(full.metadata) || (blankTail && JSON.stringify(withoutUids(r.metadata)) === JSON.stringify(withoutUids(full.metadata))));
        if (!harmless) accepted.push(n);
      }
      expect(failures.slice(0, 10)).toEqual([]);
      expect(accepted, `${seed}: truncated copies accepted`).toEqual([]);
    });
  }

  it(`${MUTATIONS} seeded random mutations`, async () => {
    const rnd = prng(0x7e1e5ead);
    const seeds = FUZZ_SEEDS.map((s) => seedBytes(s));
    const failures: string[] = [];
    const stats = { max: 0, n: 0 };
    for (let i = 0; i < MUTATIONS; i++) {
      const k = i % seeds.length;
      await runOne(mutate(seeds[k]!, rnd), `mutation #${i} of ${FUZZ_SEEDS[k]}`, failures, stats);
    }
    expect(stats.n).toBe(MUTATIONS);
    expect(failures.slice(0, 10)).toEqual([]);
  });

  it('300 mutations of the SCP-ECG seed with every CRC re-sealed reach the decoder and end cleanly', async () => {
    // A plain mutation of an SCP-ECG record is refused by its CRCs; re-sealing them fuzzes the decoder itself.
    const rnd = prng(0x5c9ec6);
    const seed = readSample('scpecg-12lead-example-ecgtoolkit.scp');
    const failures: string[] = [];
    const stats = { max: 0, n: 0 };
    const codes = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const r = await runOne(resealScp(mutate(seed, rnd)), `sealed SCP mutation #${i}`, failures, stats);
      const k = !r ? 'threw' : r.ok ? 'ok' : r.code;
      codes.set(k, (codes.get(k) ?? 0) + 1);
    }
    expect(failures.slice(0, 10)).toEqual([]);
    // Most mutations must get past the CRC checks (otherwise this test fuzzes nothing).
    expect(stats.n).toBe(300);
    expect((codes.get('ok') ?? 0) + (codes.get('ECG.SCP_UNSUPPORTED') ?? 0)).toBeGreaterThan(30);
  });

  describe('through the worker pool', () => {
    let insp: StudyInspector;
    beforeAll(() => {
      insp = createDicomInspector({ workers: 2, timeoutMs: 2000 });
    });
    afterAll(async () => {
      await insp.close();
    });
    it('300 mutations (with the ECG module on) keep the pool alive and answer each one', async () => {
      const rnd = prng(0xdeadbeef);
      const seeds = FUZZ_SEEDS.map((s) => seedBytes(s));
      const inputs = Array.from({ length: 300 }, (_, i) => mutate(seeds[i % seeds.length]!, rnd));
      const outcomes = await Promise.all(inputs.map((b) => insp.inspect(bytesSource(b))));
      const problems = outcomes.map(outcomeProblem).filter((p) => p !== null);
      expect(problems).toEqual([]);
      expect(outcomes.filter((o) => !o.ok && o.code === 'FILE.PARSE_CRASHED')).toEqual([]);
      // and the pool still answers a valid file
      const r = await insp.inspect(bytesSource(readSample('xray-cr-16x16-16bit-uncompressed-pydicom.dcm')));
      expect(r.ok).toBe(true);
    });
  });
});
