/**
 * `npm run bench` — TeleRead performance figures (docs/PERFORMANCE.md explains each one).
 *
 *   npm run bench                    full run (a few minutes on 2 cores)
 *   npm run bench -- --quick         smoke run, a few files per section (< 20 s)
 *   npm run bench -- --only=ingest,latency,parse,memory,report
 *   npm run bench -- --profile       also write a V8 CPU profile of the server during the ECG latency run
 *   npm run bench -- --out=path.json results file (default test-output/bench.json, --quick: bench-quick.json)
 *
 * Every server runs in a child process on a fresh temp data directory; children and temp
 * directories are removed at the end, on failure and on Ctrl-C.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ecgLatency, ingestThroughput, type EcgLatency, type IngestThroughput } from './ingest.ts';
import { cleanupAll } from './lib/cleanup.ts';
import { closeAgent } from './lib/client.ts';
import { FULL_MIX, generatedMix, QUICK_MIX, sampleFiles } from './lib/files.ts';
import { machine } from './lib/machine.ts';
import { startServerProcess, type ServerProcess } from './lib/server-process.ts';
import { fileSource } from './lib/sources.ts';
import { fmtBytes, MB, round, table, type Summary } from './lib/stats.ts';
import { fsyncLatency } from './lib/disk.ts';
import { httpUploadMemory, inspectMemory, makeBigUltrasound, type HttpMemory, type InspectMemory } from './memory.ts';
import { memoryItem, parseThroughput, type ParseItem, type ParseRun } from './parse.ts';
import { syntheticCrDx, syntheticEcg } from '../shared/synth/studies.ts';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const opt = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
for (const a of args) {
  if (!/^--(quick|profile|help|only=.+|out=.+)$/.test(a)) {
    console.error(`unknown argument ${a}; see the header of bench/run.ts`);
    process.exit(2);
  }
}
if (flag('help')) {
  console.log('usage: npm run bench [-- --quick] [--only=ingest,latency,parse,memory,report] [--profile] [--out=file.json]');
  process.exit(0);
}
const quick = flag('quick');
const SECTIONS = ['ingest', 'latency', 'parse', 'memory', 'report'];
const only = new Set((opt('only') ?? SECTIONS.join(',')).split(','));
for (const o of only) {
  if (!SECTIONS.includes(o)) {
    console.error(`unknown section ${o}; sections: ${SECTIONS.join(', ')}`);
    process.exit(2);
  }
}
// A smoke run must not overwrite the figures of the last full run.
const outFile = resolve(ROOT, opt('out') ?? (quick ? 'test-output/bench-quick.json' : 'test-output/bench.json'));

const P = quick
  ? {
      sampleFilesPerKind: 1,
      mix: QUICK_MIX,
      ecgUploads: 10,
      ecgUploads5ms: 0,
      ecgWarmup: 1,
      viewCostGets: 20,
      parseMinMs: 50,
      parseInProcess: false,
      parseDx: 1,
      parseEcg: 1,
      bigFrames: 120,
      memoryControl: false,
      reportN: 1,
    }
  : {
      sampleFilesPerKind: undefined,
      mix: FULL_MIX,
      ecgUploads: 150,
      ecgUploads5ms: 100,
      ecgWarmup: 5,
      viewCostGets: 200,
      parseMinMs: 1500,
      parseInProcess: true,
      parseDx: 3,
      parseEcg: 3,
      bigFrames: 1000, // 1000 × 480×640 = 293 MiB
      memoryControl: true,
      reportN: 20,
    };
const TARGET_ECG_P99_MS = 250;
const CONCURRENCY = 4;

const log = (s: string) => process.stdout.write(`${s}\n`);
const mb = (n: number) => round(n / MB, 2);

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${sig}: stopping servers and removing temp directories…`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

interface Results {
  schema: 1;
  command: string;
  quick: boolean;
  machine: ReturnType<typeof machine>;
  /** fsync of a 4 KiB write in the temp directory's file system (ms). */
  fsyncMs?: Summary;
  durationMs?: number;
  ingest?: IngestThroughput[];
  ecgLatency?: EcgLatency[];
  parse?: ParseRun[];
  /** bench/report-sign.ts (another engineer's): sign + PDF per report, production scrypt. */
  report?: Record<string, { p50: number; p99: number; n: number }>;
  memory?: { bigFile: { size: number; headerBytes: number; frames: number; generateMs: number }; inspector: InspectMemory[]; http?: HttpMemory };
  errors: { section: string; error: string }[];
  /** 1-minute load average when each section started and ended (2 cores: above 2 means waiting for CPU). */
  load: Record<string, { start: number; end: number; seconds: number }>;
}

const results: Results = {
  schema: 1,
  command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
  quick,
  machine: machine(),
  errors: [],
  load: {},
};

function printIngest(rs: IngestThroughput[]) {
  log(
    table([
      ['ingest (HTTP, c=' + CONCURRENCY + ')', 'files', 'MB', 'wall ms', 'files/s', 'MB/s', 'accepted/s', 'upload MB/s', 'refused', 'srv CPU ms/file', 'srv peak RSS'],
      ...rs.map((r) => [
        r.label,
        r.files,
        mb(r.bytes),
        r.wallMs,
        r.filesPerSec,
        r.mbPerSec,
        r.acceptedFilesPerSec,
        r.uploadMbPerSec,
        r.rejected.length,
        r.server.cpuMsPerFile,
        r.server.peakRssBytes ? fmtBytes(r.server.peakRssBytes) : '?',
      ]),
    ]),
  );
  for (const r of rs) {
    log(`  ${r.label}: upload-complete → settled (ms, under this load) by kind:`);
    for (const [k, v] of Object.entries(r.perKind)) log(`    ${k.padEnd(8)} n=${v.files}  p50 ${v.settleAfterUploadMs.p50}  p99 ${v.settleAfterUploadMs.p99}  max ${v.settleAfterUploadMs.max}`);
    log(`    cold first file (warm-up ECG on the fresh server): ${r.coldFirstFileMs} ms`);
    const j = r.server.ingestJobMs;
    log(`    server: CPU ${r.server.cpuMs} ms = ${r.server.cpuMsPerFile} ms/file; ingest job (picked → outcome, product log) p50 ${j.p50} p99 ${j.p99} max ${j.max} ms`);
    log(`    server event-loop delay: p50 ${r.server.loopDelayMs.p50} p99 ${r.server.loopDelayMs.p99} max ${r.server.loopDelayMs.max} ms`);
    for (const p of r.server.problems) log(`    server ${p.level}: ${p.msg} ${JSON.stringify(p.fields ?? {})}`);
    for (const x of r.rejected) log(`    refused: ${x.name} → ${x.code}`);
  }
}

function printLatency(ls: EcgLatency[]) {
  const row = (name: string, s: EcgLatency['recordLatencyMs']) => [name, s.n, s.min, s.p50, s.p90, s.p99, s.max];
  for (const l of ls) {
    log(
      table([
        [`ECG, ${l.uploads} sequential, poll ${l.pollMs} ms (ms)`, 'n', 'min', 'p50', 'p90', 'p99', 'max'],
        row('QUEUED(record) − PUT 201', l.recordLatencyMs),
        row('QUEUED(record) − object stored', l.fromStoredMs),
        row('QUEUED(record) − PUT start', l.fromPutStartMs),
        row(`first poll seeing QUEUED − PUT 201`, l.observedMs),
        row('PUT (upload itself)', l.uploadMs),
      ]),
    );
    log(`  target p99 < ${l.targetP99Ms} ms: ${l.met ? 'MET' : 'MISSED'} (p99 ${l.recordLatencyMs.p99} ms); warm-up (not counted): ${l.warmupRecordLatencyMs.join(', ')} ms`);
    const j = l.server.ingestJobMs;
    log(`  server: ingest job (picked → outcome, product log) p50 ${j.p50} p99 ${j.p99} max ${j.max} ms; CPU ${l.server.cpuMsPerFile} ms per ECG incl. ${round(l.polls / (l.uploads + l.warmup), 1)} GETs each (submission, upload, ingest, polls)`);
    log(`  server event-loop delay: p50 ${l.server.loopDelayMs.p50} p99 ${l.server.loopDelayMs.p99} max ${l.server.loopDelayMs.max} ms`);
    for (const p of l.server.problems) log(`  server ${p.level}: ${p.msg} ${JSON.stringify(p.fields ?? {})}`);
    if (l.viewCost) {
      const v = l.viewCost;
      log(
        `  one status poll: GET /api/cases/{id} p50 ${v.caseViewMs.p50} p99 ${v.caseViewMs.p99} ms, server CPU ${v.caseViewServerCpuMs} ms ` +
          `(audit write per view) vs GET /api/cases?limit=1 p50 ${v.caseListMs.p50} p99 ${v.caseListMs.p99} ms, CPU ${v.caseListServerCpuMs} ms; n=${v.n} each`,
      );
    }
  }
}

function printParse(rs: ParseRun[]) {
  log(
    table([
      ['header parse (inspector)', 'mode', 'files', 'runs', 'files/s', 'file MB/s', 'read MB/s', 'read/file', 'ms/file', 'CPU ms/file', 'refused'],
      ...rs.map((r) => [r.group, r.mode, r.files, r.inspections, r.filesPerSec, r.fileMbPerSec, r.readMbPerSec, r.readFraction, r.meanMsPerFile, r.cpuMsPerFile, r.refused.length]),
    ]),
  );
  const refused = new Map<string, string>();
  for (const r of rs) for (const x of r.refused) refused.set(x.name, x.code);
  for (const [n, c] of refused) log(`  refused: ${n} → ${c}`);
}

function printMemory(m: NonNullable<Results['memory']>) {
  log(`big file: ${fmtBytes(m.bigFile.size)} (${m.bigFile.frames} frames 480×640), header ${m.bigFile.headerBytes} B, generated in ${m.bigFile.generateMs} ms`);
  log(
    table([
      ['inspector in a child', 'file', 'read', 'reads', 'ms', 'RSS ready', 'peak RSS', 'peak − ready'],
      ...m.inspector.map((x) => [x.label, fmtBytes(x.size), fmtBytes(x.bytesRead), x.reads, x.ms, fmtBytes(x.baselineRss), fmtBytes(x.peakRss), fmtBytes(x.peakOverBaseline)]),
    ]),
  );
  if (m.http) {
    const h = m.http;
    log(
      `HTTP upload of the big file: ${h.status}, PUT ${h.uploadMs} ms (${h.uploadMbPerSec} MB/s), 201 → ${h.status} ${h.settleAfterUploadMs} ms; ` +
        `server RSS ready ${fmtBytes(h.serverRssReady)}, peak ${fmtBytes(h.serverPeakRss)} (+${fmtBytes(h.serverPeakOverReady)})`,
    );
  }
}

async function section<T>(name: string, f: () => Promise<T>): Promise<T | undefined> {
  if (!only.has(name)) return undefined;
  const t0 = performance.now();
  const load0 = os.loadavg()[0]!;
  log(`\n== ${name} ==`);
  try {
    const r = await f();
    const seconds = round((performance.now() - t0) / 1000, 1);
    const load1 = os.loadavg()[0]!;
    results.load[name] = { start: round(load0, 2), end: round(load1, 2), seconds };
    log(`   (${name}: ${seconds} s; 1-min load average ${round(load0, 1)} → ${round(load1, 1)} on ${os.availableParallelism()} CPUs)`);
    return r;
  } catch (e) {
    const msg = (e as Error)?.stack ?? String(e);
    console.error(`section ${name} failed: ${msg}`);
    results.errors.push({ section: name, error: (e as Error)?.message ?? String(e) });
    return undefined;
  }
}

/** Quick mode: one server for every HTTP measurement (fewer start-ups); full mode: a fresh one each. */
let shared: ServerProcess | undefined;
const sharedServer = async () => (quick ? (shared ??= await startServerProcess()) : undefined);

const started = performance.now();
const m = results.machine;
log(`TeleRead bench ${quick ? '(quick) ' : ''}— ${m.date}`);
log(`machine: ${m.nproc} CPU (${m.cpuModel}), ${fmtBytes(m.memTotalBytes)} RAM, node ${m.node}, load ${m.loadAvgAtStart.join(' ')}; shared machine: figures are noisy`);

try {
  results.fsyncMs = await fsyncLatency(quick ? 20 : 200);
  log(`disk: fsync of a 4 KiB write p50 ${results.fsyncMs.p50} ms, p99 ${results.fsyncMs.p99} ms, max ${results.fsyncMs.max} ms (n=${results.fsyncMs.n})`);

  results.ingest = await section('ingest', async () => {
    const out: IngestThroughput[] = [];
    const samples = sampleFiles({ perKind: P.sampleFilesPerKind });
    log(`samples: ${samples.length} files, ${mb(samples.reduce((a, f) => a + f.size, 0))} MB`);
    out.push(await ingestThroughput('real samples', samples, { concurrency: CONCURRENCY, server: await sharedServer() }));
    const t0 = performance.now();
    const mix = generatedMix(P.mix, 1000);
    log(
      `generated: ${P.mix.ecg} ECG, ${P.mix.dx} DX 2000×2500, ${P.mix.us} US, ${P.mix.usCine} US cine ×${P.mix.cineFrames} frames = ` +
        `${mix.length} files, ${mb(mix.reduce((a, f) => a + f.size, 0))} MB (made in ${round(performance.now() - t0, 0)} ms)`,
    );
    out.push(await ingestThroughput('generated mix', mix, { concurrency: CONCURRENCY, server: await sharedServer() }));
    printIngest(out);
    return out;
  });

  results.ecgLatency = await section('latency', async () => {
    const profDir = flag('profile') ? join(ROOT, 'test-output', 'profiles') : undefined;
    if (profDir) mkdirSync(profDir, { recursive: true });
    // Main figure: sparse polling (50 ms), so the polls (each one an audit write) barely disturb the
    // server; then the 5 ms polling the issue describes, which shows what a busy client costs.
    const ls = [
      await ecgLatency({
        uploads: P.ecgUploads,
        warmup: P.ecgWarmup,
        pollMs: 50,
        seedBase: 20_000,
        targetP99Ms: TARGET_ECG_P99_MS,
        cpuProfDir: profDir,
        server: profDir ? undefined : await sharedServer(),
        viewCostGets: P.viewCostGets,
      }),
    ];
    if (P.ecgUploads5ms) ls.push(await ecgLatency({ uploads: P.ecgUploads5ms, warmup: P.ecgWarmup, pollMs: 5, seedBase: 30_000, targetP99Ms: TARGET_ECG_P99_MS }));
    printLatency(ls);
    if (profDir) log(`  CPU profile of the server child: ${profDir}/*.cpuprofile`);
    return ls;
  });

  let big: Awaited<ReturnType<typeof makeBigUltrasound>> | undefined;
  const needBig = only.has('parse') || only.has('memory');
  if (needBig) big = await makeBigUltrasound(P.bigFrames, 31_337);

  results.parse = await section('parse', async () => {
    const samples = sampleFiles({ perKind: P.sampleFilesPerKind });
    const groups: { group: string; items: ParseItem[] }[] = [
      { group: 'samples ECG', items: samples.filter((f) => f.kind === 'ecg').map((f) => memoryItem(f.name, f.bytes)) },
      { group: 'samples X-ray+US', items: samples.filter((f) => f.kind !== 'ecg').map((f) => memoryItem(f.name, f.bytes)) },
      { group: 'gen ECG 10 s', items: Array.from({ length: P.parseEcg }, (_, i) => memoryItem(`ecg-${i}`, syntheticEcg({ seed: 40_000 + i }).bytes)) },
      { group: 'gen DX 2000×2500', items: Array.from({ length: P.parseDx }, (_, i) => memoryItem(`dx-${i}`, syntheticCrDx({ seed: 40_000 + i, modality: 'DX' }).bytes)) },
    ];
    const fsrc = await fileSource(big!.path);
    try {
      groups.push({ group: `gen US cine ${round(big!.size / MB, 0)} MB (file)`, items: [{ name: 'big-us-cine', size: big!.size, source: () => fsrc.source }] });
      const rs = await parseThroughput(groups, { minMs: P.parseMinMs, inProcess: P.parseInProcess });
      printParse(rs);
      return rs;
    } finally {
      await fsrc.close();
    }
  });

  results.memory = await section('memory', async () => {
    const inspector = [await inspectMemory(`US cine ${fmtBytes(big!.size)}`, big!.path)];
    if (P.memoryControl) {
      const control = await makeBigUltrasound(1, 31_338);
      inspector.push(await inspectMemory(`control: US 1 frame`, control.path));
      await control.remove();
    }
    const http = await httpUploadMemory(big!, await sharedServer());
    const r = { bigFile: { size: big!.size, headerBytes: big!.headerBytes, frames: big!.frames, generateMs: big!.generateMs }, inspector, http };
    printMemory(r);
    return r;
  });
  if (big) await big.remove();

  results.report = await section('report', async () => {
    // Loaded here so that a problem in that module fails this section only.
    const { benchReportSigning } = await import('./report-sign.ts');
    const r = await benchReportSigning({ n: P.reportN });
    log(
      table([
        ['sign + PDF per report (ms)', 'n', 'p50', 'p99'],
        ...Object.entries(r).map(([k, v]) => [k, v.n, v.p50, v.p99]),
      ]),
    );
    log('  (bench/report-sign.ts: production scrypt N=2^15, two signatures per report, no storage/HTTP)');
    return r;
  });
} finally {
  await cleanupAll();
  await closeAgent();
  results.durationMs = round(performance.now() - started, 0);
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nresults: ${outFile} (${round(results.durationMs / 1000, 1)} s)${results.errors.length ? `; ${results.errors.length} section(s) FAILED` : ''}`);
}
if (results.errors.length) process.exitCode = 1;
