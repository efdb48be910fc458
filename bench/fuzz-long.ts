/**
 * Long fuzz run of the DICOM door (the unit fuzz test is the short version).
 *
 *   npx tsx bench/fuzz-long.ts --iterations 200000 [--seed 12345] [--pool] [--truncations]
 *
 * --iterations N   random mutations (default 100000), round-robin over the seeds
 * --seed S         PRNG seed (default 1); runs are deterministic for a given seed
 * --pool           send the mutations through the worker pool (isolation path) instead of in-process
 * --truncations    also try EVERY truncation point of every seed (slow: ~1 M inspections)
 *
 * Prints a histogram of outcome codes, the slowest inspection, and every failure (a throw, an
 * unknown code, an inspection over 2 s). Exits 1 when there was a failure.
 */
import { bytesSource, createDicomInspector, inspectInProcess } from '../shared/dicom/inspector.ts';
import type { InspectOutcome } from '../shared/ports/study-inspector.ts';
import { FUZZ_SEEDS, mutate, outcomeProblem, prng } from '../test/unit/dicom/fuzz-support.ts';
import { readSample, samplesPresent, SAMPLES_DIR } from '../test/unit/dicom/support.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const iterations = Number(arg('iterations') ?? 100_000);
const seed = Number(arg('seed') ?? 1);
const usePool = flag('pool');
const truncations = flag('truncations');

if (!samplesPresent()) {
  console.error(`samples not found in ${SAMPLES_DIR} (set TELEREAD_SAMPLES_DIR)`);
  process.exit(2);
}

const seeds = FUZZ_SEEDS.map((s) => ({ name: s, bytes: readSample(s) }));
const histogram = new Map<string, number>();
const failures: string[] = [];
let slowest = { ms: 0, label: '' };
let done = 0;

const pool = usePool ? createDicomInspector({ workers: 2, timeoutMs: 2000 }) : null;
const inspect = (b: Uint8Array): Promise<InspectOutcome> =>
  pool ? pool.inspect(bytesSource(b)) : inspectInProcess(bytesSource(b), { ecg: false });

async function one(bytes: Uint8Array, label: string) {
  const t = performance.now();
  let r: InspectOutcome;
  try {
    r = await inspect(bytes);
  } catch (e) {
    failures.push(`${label}: threw ${String(e)}`);
    return;
  }
  const ms = performance.now() - t;
  if (ms > slowest.ms) slowest = { ms, label };
  if (ms > 2000) failures.push(`${label}: ${Math.round(ms)} ms`);
  const p = outcomeProblem(r);
  if (p) failures.push(`${label}: ${p}`);
  const key = r.ok ? 'ok' : r.code;
  histogram.set(key, (histogram.get(key) ?? 0) + 1);
  done++;
}

const started = performance.now();
if (truncations) {
  for (const s of seeds) {
    for (let n = 0; n < s.bytes.length; n++) await one(s.bytes.subarray(0, n), `${s.name}@${n}`);
    console.log(`truncations of ${s.name}: ${s.bytes.length} points`);
  }
}
const rnd = prng(seed);
const batch = usePool ? 64 : 1;
for (let i = 0; i < iterations; i += batch) {
  const jobs: Promise<void>[] = [];
  for (let j = i; j < Math.min(iterations, i + batch); j++) {
    const s = seeds[j % seeds.length]!;
    jobs.push(one(mutate(s.bytes, rnd), `seed=${seed} mutation #${j} of ${s.name}`));
  }
  await Promise.all(jobs);
  if ((i + batch) % 10_000 < batch) console.log(`${Math.min(iterations, i + batch)} mutations…`);
}
await pool?.close();

const secs = (performance.now() - started) / 1000;
console.log(`\n${done} inspections in ${secs.toFixed(1)} s (${Math.round(done / secs)}/s), ${usePool ? 'worker pool' : 'in-process'}`);
console.log(`slowest: ${slowest.ms.toFixed(1)} ms (${slowest.label})`);
for (const [k, v] of [...histogram.entries()].sort((a, b) => b[1] - a[1])) console.log(`${String(v).padStart(9)}  ${k}`);
if (failures.length > 0) {
  console.log(`\n${failures.length} FAILURES:`);
  for (const f of failures.slice(0, 50)) console.log(`  ${f}`);
  process.exit(1);
}
console.log('\nno failures');
