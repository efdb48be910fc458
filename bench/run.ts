/**
 * `npm run bench` — TeleRead performance figures (docs/PERFORMANCE.md explains each one).
 *
 *   npm run bench                    full run (a few minutes on 2 cores)
 *   npm run bench -- --quick         smoke run, a few files per section (< 20 s)
 *   npm run bench -- --only=compare,worklist,readsnext,memory,bundles,latency,parse,report,viewer[,ingest][,gateway]
 *   npm run bench -- --no-orthanc    run the comparison without Orthanc (TeleRead and the disk floor only);
 *                                    without this flag a missing Orthanc is an error (exit 2)
 *   npm run bench -- --reps=5        repetitions of the ingest comparison (default 5, --quick 1)
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
import { compareIngest, type CompareSet } from './compare.ts';
import { findOrthanc, ORTHANC_MISSING, orthancVersion } from './lib/orthanc.ts';
import { readsNextLatency, type ReadsNextResult } from './reads-next.ts';
import { worklistLatency, type WorklistLatency } from './worklist.ts';
import { perCaseCosts, type KindCost } from './costs.ts';
import type { BenchFile } from './lib/files.ts';
import { gatewayIngest, type GatewayIngest, type GatewayLeg } from './gateway.ts';
import { ingestPaths } from './stow.ts';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const opt = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
for (const a of args) {
  if (!/^--(quick|profile|help|no-orthanc|only=.+|out=.+|reps=\d+)$/.test(a)) {
    console.error(`unknown argument ${a}; see the header of bench/run.ts`);
    process.exit(2);
  }
}
if (flag('help')) {
  console.log('usage: npm run bench [-- --quick] [--only=compare,worklist,readsnext,memory,bundles,latency,parse,report,viewer,ingest,gateway,stow] [--no-orthanc] [--reps=N] [--profile] [--out=file.json]');
  process.exit(0);
}
const quick = flag('quick');
const SECTIONS = ['compare', 'worklist', 'readsnext', 'memory', 'bundles', 'costs', 'latency', 'parse', 'report', 'viewer', 'ingest', 'gateway', 'stow'];
/** Every section by default: `ingest` is the throughput of the real samples (issue 2), `compare` of generated studies against Orthanc. */
const DEFAULT_SECTIONS = SECTIONS;
const only = new Set((opt('only') ?? DEFAULT_SECTIONS.join(',')).split(','));
for (const o of only) {
  if (!SECTIONS.includes(o)) {
    console.error(`unknown section ${o}; sections: ${SECTIONS.join(', ')}`);
    process.exit(2);
  }
}
// A smoke run must not overwrite the figures of the last full run.
const orthancBin = findOrthanc();
if (only.has('compare') && !orthancBin && !flag('no-orthanc')) {
  console.error(`npm run bench: ${ORTHANC_MISSING}\nTo measure TeleRead and the disk floor only, pass --no-orthanc (the comparison is then incomplete).`);
  process.exit(2);
}
const useOrthanc = flag('no-orthanc') ? null : orthancBin;
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
      reps: 1,
      xrayOnly: 2,
      worklistIdle: 4,
      burst: { studies: 8, windowMs: 4000 },
      readsCases: 2000,
      readsCalls: 20,
      costsPerKind: 1,
      gatewayStudies: 3,
      stowEcgs: 4,
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
      bigFrames: 1628, // 1628 × 480×640 = 500.1 MB (the issue's 500 MB cine)
      memoryControl: true,
      reportN: 20,
      reps: 5,
      xrayOnly: 24,
      worklistIdle: 100,
      burst: { studies: 100, windowMs: 60_000 },
      readsCases: 100_000,
      readsCalls: 400,
      costsPerKind: 5,
      gatewayStudies: 30,
      stowEcgs: 200,
    };
if (opt('reps')) P.reps = Math.max(1, Number(opt('reps')));
const TARGET_ECG_P99_MS = 250;
const TARGET = { vsOrthanc: 1.0, vsFloorXray: 0.5, worklistIdleP99: 250, worklistBurstP99: 1000, readsNextP99: 20, bigFileRss: 256 * 1024 * 1024, bundleBytes: 1.5 * 1024 * 1024 };
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

interface TargetRow {
  target: string;
  measured: string;
  met: boolean | null;
}

interface Results {
  schema: 2;
  orthanc: { bin: string | null; version: string | null; used: boolean };
  compare?: CompareSet[];
  /** The compare mix split into its ECGs and its images (explains the mix figure; not a target). */
  compareByKind?: CompareSet[];
  worklist?: WorklistLatency[];
  readsNext?: ReadsNextResult;
  bundles?: { fn: string; bytes: number; hasSqlite: boolean; met: boolean }[];
  /** Per-case server CPU and port calls by step and modality (bench/costs.ts), for the scale estimate. */
  costs?: KindCost[];
  /** Every target of issue 8 (and the bundle target of issue 4) with its figure and verdict. */
  targets: TargetRow[];
  command: string;
  quick: boolean;
  machine: ReturnType<typeof machine>;
  /** fsync of a 4 KiB write in the temp directory's file system (ms). */
  fsyncMs?: Summary;
  durationMs?: number;
  ingest?: IngestThroughput[];
  /** C-STORE through `teleread gateway` next to the HTTP upload path, same files (issue 9). */
  gateway?: GatewayIngest;
  /** The same ECGs through the submission API and through STOW-RS (bench/stow.ts). */
  stow?: Awaited<ReturnType<typeof ingestPaths>>;
  ecgLatency?: EcgLatency[];
  parse?: ParseRun[];
  /** bench/report-sign.ts (another engineer's): sign + PDF per report, production scrypt. */
  report?: Record<string, { p50: number; p99: number; n: number }>;
  /** The web viewer in Debian's chromium: time to the first image of the 4 MB JPEG 2000 DX (issue 5). */
  viewer?: { file: string; bytes: number; medianFirstImageMs: number; medianDecodeMs: number; runs: number };
  memory?: { bigFile: { size: number; headerBytes: number; frames: number; generateMs: number }; inspector: InspectMemory[]; http?: HttpMemory };
  errors: { section: string; error: string }[];
  /** 1-minute load average when each section started and ended (2 cores: above 2 means waiting for CPU). */
  load: Record<string, { start: number; end: number; seconds: number }>;
}

const results: Results = {
  schema: 2,
  orthanc: { bin: orthancBin, version: orthancBin ? orthancVersion(orthancBin) : null, used: !!useOrthanc },
  targets: [],
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

function printGateway(g: GatewayIngest) {
  const row = (name: string, l: GatewayLeg) => [name, g.studies, g.files, mb(g.bytes), l.wallMs, l.filesPerSec, l.mbPerSec, l.cases, l.notQueued];
  log(
    table([
      ['ingest until every case is QUEUED', 'studies', 'files', 'MB', 'wall ms', 'files/s', 'MB/s', 'cases', 'not QUEUED'],
      row(`C-STORE via gateway (1 association, stable ${g.stableSeconds} s)`, g.gateway),
      row('HTTP upload (1 client)', g.http),
    ]),
  );
  log(`  gateway / HTTP: ${g.ratio}× (MB/s); storescu itself: ${g.gateway.storescuMs} ms (${g.gateway.storescuMbPerSec} MB/s into the spool, every instance validated and fsynced before its C-STORE response)`);
  log(`  the gateway wall includes the stable time of the last study (${g.stableSeconds} s), which no C-STORE sender can avoid`);
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

function printCompare(cs: CompareSet[]) {
  const f = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : String(x));
  log(
    table([
      [`ingest, same files, ${CONCURRENCY} clients (median of reps)`, 'files', 'MB', 'TeleRead files/s', 'MB/s', 'Orthanc files/s', 'MB/s', 'floor files/s', 'MB/s', 'T/Orthanc', 'T/floor', 'T CPU ms/file', 'O CPU ms/file'],
      ...cs.map((c) => [
        `${c.label} (n=${c.reps.length})`,
        c.files,
        mb(c.bytes),
        c.median.teleread.filesPerSec,
        c.median.teleread.mbPerSec,
        f(c.median.orthanc?.filesPerSec),
        f(c.median.orthanc?.mbPerSec),
        c.median.floor.filesPerSec,
        c.median.floor.mbPerSec,
        f(c.median.ratioToOrthanc),
        c.median.ratioToFloor,
        c.median.teleread.cpuMsPerFile,
        f(c.median.orthanc?.cpuMsPerFile),
      ]),
    ]),
  );
  for (const c of cs) {
    const d = c.telereadDetail;
    log(`  ${c.label}: TeleRead last rep: upload phase ${d.uploadPhaseMs} ms of ${d.wallMs} ms; event-loop delay p99 ${d.server.loopDelayMs.p99} ms; ingest job p50 ${d.server.ingestJobMs.p50} p99 ${d.server.ingestJobMs.p99} ms`);
    for (const [k, v] of Object.entries(d.perKind)) log(`    ${k.padEnd(8)} n=${v.files}  upload 201 → QUEUED p50 ${v.settleAfterUploadMs.p50}  p99 ${v.settleAfterUploadMs.p99} ms`);
    for (const r of c.reps) if (r.orthanc && Object.keys(r.orthanc.statuses).some((k) => k !== 'Success')) log(`    Orthanc rep ${r.rep} statuses ${JSON.stringify(r.orthanc.statuses)}`);
  }
}

function printWorklist(ws: WorklistLatency[]) {
  const row = (name: string, s: { n: number; p50: number; p90: number; p99: number; max: number }) => [name, s.n, s.p50, s.p90, s.p99, s.max];
  for (const w of ws) {
    const head = w.mode === 'idle' ? `worklist, idle (one study at a time), poll ${w.pollMs} ms (ms)` : `worklist, burst ${w.studies} studies in ${round(w.windowMs! / 1000, 0)} s, poll ${w.pollMs} ms (ms)`;
    log(
      table([
        [head, 'n', 'p50', 'p90', 'p99', 'max'],
        row('visible in worklist − PUT 201', w.visibleMs),
        row('timeline.QUEUED − PUT 201', w.recordMs),
        ...Object.entries(w.byKind).map(([k, v]) => row(`  ${k}: visible − 201`, v.visibleMs)),
        row('PUT (upload itself)', w.uploadMs),
      ]),
    );
    log(`  target p99 < ${w.targetP99Ms} ms: ${w.met ? 'MET' : 'MISSED'}; server CPU ${w.server.cpuMsPerStudy} ms/study (incl. ${w.polls} worklist polls); event-loop delay p99 ${w.server.loopDelayMs.p99} max ${w.server.loopDelayMs.max} ms`);
  }
}

function printReadsNext(r: ReadsNextResult) {
  log(`store: ${r.seed.cases} cases ${JSON.stringify(r.seed.byStatus)}, ${r.seed.readMessages} read messages, seeded in ${r.seed.seedMs} ms, db ${fmtBytes(r.seed.dbBytes)}`);
  log(
    table([
      [`POST /api/reads/next, ${r.calls} calls, one in flight (ms)`, 'n', 'p50', 'p90', 'p99', 'max'],
      ['all', r.latencyMs.n, r.latencyMs.p50, r.latencyMs.p90, r.latencyMs.p99, r.latencyMs.max],
      ...Object.entries(r.byReader).map(([k, v]) => [k, v.n, v.p50, v.p90, v.p99, v.max]),
    ]),
  );
  log(`  target p99 < ${r.targetP99Ms} ms: ${r.met ? 'MET' : 'MISSED'}; claimed ${r.claimed}; server CPU ${r.serverCpuMsPerCall} ms/call; event-loop delay p99 ${r.loopDelayMs.p99} max ${r.loopDelayMs.max} ms`);
}

function targetRows(): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const c of results.compare ?? []) {
    rows.push({
      target: `ingest ${c.label}: TeleRead ≥ ${TARGET.vsOrthanc}× Orthanc (MB/s, median of ${c.reps.length})`,
      measured: c.median.ratioToOrthanc === null ? 'not measured (no Orthanc)' : `${c.median.ratioToOrthanc}× (${c.median.teleread.mbPerSec} vs ${c.median.orthanc!.mbPerSec} MB/s)`,
      met: c.median.ratioToOrthanc === null ? null : c.median.ratioToOrthanc >= TARGET.vsOrthanc,
    });
    if (c.label === 'X-ray only')
      rows.push({
        target: `ingest X-ray-sized: TeleRead ≥ ${TARGET.vsFloorXray}× disk floor`,
        measured: `${c.median.ratioToFloor}× (${c.median.teleread.mbPerSec} vs ${c.median.floor.mbPerSec} MB/s)`,
        met: c.median.ratioToFloor >= TARGET.vsFloorXray,
      });
  }
  for (const w of results.worklist ?? [])
    rows.push({ target: `upload → worklist p99 < ${w.targetP99Ms} ms (${w.mode})`, measured: `p99 ${w.visibleMs.p99} ms (p50 ${w.visibleMs.p50}; record ${w.recordMs.p99})`, met: w.met });
  if (results.readsNext) {
    const r = results.readsNext;
    rows.push({ target: `reads/next p99 < ${r.targetP99Ms} ms at ${r.seed.cases} cases`, measured: `p99 ${r.latencyMs.p99} ms (p50 ${r.latencyMs.p50})`, met: r.met });
  }
  if (results.memory?.http) {
    const h = results.memory.http;
    rows.push({ target: `peak server RSS < 256 MiB, ${fmtBytes(h.size)} US upload`, measured: `${fmtBytes(h.serverPeakRss)} (ready ${fmtBytes(h.serverRssReady)})`, met: h.serverPeakRss < TARGET.bigFileRss });
  }
  for (const b of results.bundles ?? []) rows.push({ target: `bundle ${b.fn} < 1.5 MiB, no SQLite`, measured: `${round(b.bytes / 1024 / 1024, 2)} MiB${b.hasSqlite ? ', SQLITE INSIDE' : ''}`, met: b.met });
  return rows;
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

  results.compare = await section('compare', async () => {
    const t0 = performance.now();
    const mix = generatedMix(P.mix, 1000);
    const xray: BenchFile[] = Array.from({ length: P.xrayOnly }, (_, i) => {
      const s = syntheticCrDx({ seed: 5000 + i, modality: 'DX', rows: 2500, columns: 2000 });
      return { name: s.metadata.fileName, kind: 'dx', size: s.bytes.length, bytes: s.bytes };
    });
    log(
      `files: mix = ${P.mix.ecg} ECG 10 s, ${P.mix.dx} DX 2000×2500 16-bit, ${P.mix.us} US 640×480, ${P.mix.usCine} US cine ×${P.mix.cineFrames} ` +
        `(${mix.length} files, ${mb(mix.reduce((a, f) => a + f.size, 0))} MB); X-ray only = ${xray.length} DX (${mb(xray.reduce((a, f) => a + f.size, 0))} MB); ` +
        `made in ${round(performance.now() - t0, 0)} ms; ${CONCURRENCY} clients; ${P.reps} repetition(s); ` +
        (useOrthanc ? `Orthanc ${results.orthanc.version} (${useOrthanc})` : 'NO ORTHANC (--no-orthanc)'),
    );
    const out: CompareSet[] = [];
    for (const [label, files] of [['mix', mix], ['X-ray only', xray]] as const) {
      const profDir = flag('profile') ? join(ROOT, 'test-output', 'profiles', `compare-${label.replace(/\W+/g, '-')}`) : undefined;
      if (profDir) mkdirSync(profDir, { recursive: true });
      out.push(await compareIngest(label, files, { concurrency: CONCURRENCY, reps: P.reps, orthancBin: useOrthanc, log, cpuProfDir: profDir }));
    }
    printCompare(out);
    // Where the mix's time goes (not targets): its ECGs alone, and everything else alone, against
    // Orthanc on the same files. The ECGs are where TeleRead does work Orthanc does not (the measurements).
    const ecgs = mix.filter((f) => f.kind === 'ecg');
    const rest = mix.filter((f) => f.kind !== 'ecg');
    const byKind: CompareSet[] = [];
    for (const [label, files] of [[`mix: its ${ecgs.length} ECGs only`, ecgs], [`mix: its ${rest.length} images only`, rest]] as const) {
      if (files.length) byKind.push(await compareIngest(label, files, { concurrency: CONCURRENCY, reps: P.reps, orthancBin: useOrthanc, log }));
    }
    printCompare(byKind);
    results.compareByKind = byKind;
    return out;
  });

  results.worklist = await section('worklist', async () => {
    const idle = await worklistLatency({ mode: 'idle', studies: P.worklistIdle, pollMs: 20, seedBase: 60_000, targetP99Ms: TARGET.worklistIdleP99, server: await sharedServer() });
    const burst = await worklistLatency({
      mode: 'burst',
      studies: P.burst.studies,
      windowMs: P.burst.windowMs,
      pollMs: 20,
      seedBase: 70_000,
      targetP99Ms: TARGET.worklistBurstP99,
      server: await sharedServer(),
    });
    const ws = [idle, burst];
    printWorklist(ws);
    return ws;
  });

  results.readsNext = await section('readsnext', async () => {
    const profDir = flag('profile') ? join(ROOT, 'test-output', 'profiles') : undefined;
    if (profDir) mkdirSync(profDir, { recursive: true });
    const r = await readsNextLatency({ cases: P.readsCases, calls: P.readsCalls, targetP99Ms: TARGET.readsNextP99, cpuProfDir: profDir });
    printReadsNext(r);
    return r;
  });

  results.bundles = await section('bundles', async () => {
    const { measureBundles } = await import('../infra/bundle-report.ts');
    const bs = (await measureBundles()).map((b) => ({ ...b, met: b.bytes < TARGET.bundleBytes && !b.hasSqlite }));
    log(
      table([
        ['Lambda bundle (esbuild, CDK settings)', 'bytes', 'MiB', 'SQLite driver inside', 'target < 1.5 MiB, no SQLite'],
        ...bs.map((b) => [b.fn, b.bytes, round(b.bytes / 1024 / 1024, 2), b.hasSqlite ? 'YES' : 'no', b.met ? 'met' : 'MISSED']),
      ]),
    );
    return bs;
  });

  results.costs = await section('costs', async () => {
    const ks = await perCaseCosts({ perKind: P.costsPerKind });
    const steps = ks[0]!.steps.map((s) => s.step);
    log(
      table([
        ['server CPU ms per step (median; scrypt N=2^15)', ...ks.map((k) => k.kind)],
        ...steps.map((st, i) => [st, ...ks.map((k) => k.steps[i]!.cpuMs)]),
        ['whole life of one case', ...ks.map((k) => k.totalCpuMs)],
        ['file bytes', ...ks.map((k) => k.fileBytes)],
        ['case JSON bytes (GET /api/cases/{id})', ...ks.map((k) => k.caseJsonBytes)],
        ['signed report JSON + JWS bytes', ...ks.map((k) => k.reportJsonBytes)],
        ['report PDF bytes', ...ks.map((k) => k.pdfBytes)],
      ]),
    );
    for (const k of ks) log(`  ${k.kind} port calls per case: ${Object.entries(k.totalCalls).sort().map(([n, v]) => `${n} ${v}`).join(', ')}`);
    return ks;
  });

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

  results.gateway = await section('gateway', async () => {
    const g = await gatewayIngest({ studies: P.gatewayStudies, stableSeconds: 1, log });
    printGateway(g);
    return g;
  });

  results.stow = await section('stow', async () => {
    const files = generatedMix({ ecg: P.stowEcgs, dx: 0, us: 0, usCine: 0, cineFrames: 1 }, 7_770_000);
    const r = await ingestPaths(files, CONCURRENCY);
    log(
      table([
        [`${files.length} ECGs, ${CONCURRENCY} clients, fresh server each`, 'files', 'wall ms', 'files/s', 'srv CPU ms/file', 'not QUEUED'],
        ...r.legs.map((l) => [l.path, l.files, l.wallMs, l.filesPerSec, l.cpuMsPerFile, l.notQueued]),
      ]),
    );
    log(`  STOW-RS / submission API: ${r.stowToApi}× (files/s); the API's CPU includes the bench's status polls after the uploads (~0.5 ms/file)`);
    return r;
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

  results.viewer = await section('viewer', async () => {
    // The browser harness of the web tests: a real chromium loading the built viewer.
    const { webFirstImage } = await import('../test/browser/first-image.ts');
    const { SAMPLES_DIR } = await import('./lib/files.ts');
    const r = await webFirstImage({ file: join(SAMPLES_DIR, 'xray-dx-16bit-jpeg2000-lossless.dcm'), runs: quick ? 2 : 5 });
    log(
      table([
        ['viewer: time to first image (ms)', 'file bytes', 'runs', 'median first image', 'median decode'],
        [r.file, r.bytes, r.runs.length, round(r.medianFirstImageMs, 0), round(r.medianDecodeMs, 0)],
      ]),
    );
    return { file: r.file, bytes: r.bytes, medianFirstImageMs: round(r.medianFirstImageMs, 0), medianDecodeMs: round(r.medianDecodeMs, 0), runs: r.runs.length };
  });
} finally {
  await cleanupAll();
  await closeAgent();
  results.targets = targetRows();
  if (results.targets.length) {
    log(`\n== targets (${m.date}, ${m.nproc} CPU, load ${os.loadavg().map((x) => round(x, 1)).join(' ')} now, ${m.loadAvgAtStart.join(' ')} at start) ==`);
    log(table([['target', 'measured', 'verdict'], ...results.targets.map((t) => [t.target, t.measured, t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED'])]));
  }
  results.durationMs = round(performance.now() - started, 0);
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nresults: ${outFile} (${round(results.durationMs / 1000, 1)} s)${results.errors.length ? `; ${results.errors.length} section(s) FAILED` : ''}`);
}
if (results.errors.length) process.exitCode = 1;
