/**
 * Ingest through the public HTTP API of a real local server (child process, fresh data directory):
 * throughput (files/s, MB/s) with several clients, and upload-complete → QUEUED latency for ECGs.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { uploadKey } from '../shared/application/keys.ts';
import { loadLocalConfig } from '../shared/contracts/config.ts';
import { syntheticEcg } from '../shared/synth/studies.ts';
import { Client, now } from './lib/client.ts';
import { warmupFiles, type BenchFile } from './lib/files.ts';
import { startServerProcess, type MemStats, type ServerProcess } from './lib/server-process.ts';
import { MB, round, summarize, type Summary } from './lib/stats.ts';

/** What `npm start` runs with unless told otherwise. */
const DEFAULT_INGEST_WORKERS = loadLocalConfig({}).TELEREAD_INGEST_WORKERS;

export interface IngestFileResult {
  name: string;
  kind: string;
  size: number;
  status: string;
  rejection?: { code: string; message: string };
  /** Server QUEUED/REJECTED timestamp minus the client's time of the PUT's 201 (ms). */
  settleAfterUploadMs: number;
  uploadMs: number;
}

export interface IngestThroughput {
  label: string;
  concurrency: number;
  ingestWorkers: number;
  files: number;
  bytes: number;
  accepted: number;
  rejected: { name: string; code: string; message: string }[];
  /** From the first POST /api/submissions to the last case's QUEUED/REJECTED timestamp. */
  wallMs: number;
  filesPerSec: number;
  mbPerSec: number;
  /** Same over accepted files only (rejections are cheaper). */
  acceptedFilesPerSec: number;
  acceptedMbPerSec: number;
  /** From the first POST to the last 201 of a PUT. */
  uploadPhaseMs: number;
  uploadMbPerSec: number;
  perKind: Record<string, { files: number; bytes: number; settleAfterUploadMs: Summary }>;
  server: ServerFigures;
  /** Upload-complete → QUEUED of the warm-up ECG, the first file a fresh server sees (not counted above). */
  coldFirstFileMs: number;
  results: IngestFileResult[];
}

export interface ServerFigures {
  peakRssBytes: number | null;
  rssAfterBytes: number;
  peakSource: string;
  /** Server CPU time (user+system, all threads) over the measured part, and per file. */
  cpuMs: number;
  cpuMsPerFile: number;
  /** The product's log: job picked → outcome recorded, per file (ms). */
  ingestJobMs: Summary;
  problems: MemStats['problems'];
  loopDelayMs: MemStats['loopDelayMs'];
}

function serverFigures(mem: MemStats, files: number): ServerFigures {
  const peak = peakOf(mem);
  const cpu = mem.cpuUserMs + mem.cpuSystemMs;
  return {
    peakRssBytes: peak.value,
    rssAfterBytes: mem.rss,
    peakSource: peak.source,
    cpuMs: round(cpu, 0),
    cpuMsPerFile: round(cpu / files, 1),
    ingestJobMs: summarize(mem.ingestMs),
    problems: mem.problems,
    loopDelayMs: { p50: round(mem.loopDelayMs.p50, 1), p99: round(mem.loopDelayMs.p99, 1), max: round(mem.loopDelayMs.max, 1) },
  };
}

function peakOf(s: MemStats): { value: number | null; source: string } {
  return s.vmHwm !== null ? { value: Math.max(s.vmHwm, s.sampledPeak), source: 'VmHWM' } : { value: s.sampledPeak, source: 'sampled' };
}

let warmSeed = 9_999_000;
/**
 * Warm-up, not counted, the same for every leg (bench/compare.ts gives Orthanc the same files): a
 * long-running server's steady state is what a county sees, and TeleRead's parse workers run their
 * ECG analysis in V8, which compiles it to machine code only after it has run a few dozen times.
 * One ECG alone first (its latency is reported as coldFirstFileMs), then the rest 4 at a time.
 */
async function warmUp(tech: Client): Promise<number> {
  const files = warmupFiles(++warmSeed * 100); // distinct per call: a reused server refuses a repeated SOPInstanceUID
  const one = async (f: BenchFile, i: number) => {
    const sub = await tech.submit([{ name: `warmup-${f.name}`, size: f.size }], 999_000 + i);
    const put = await tech.upload(sub.uploads[0]!, { bytes: f.bytes });
    const { c } = await tech.waitSettled(sub.caseId, 10);
    if (c.status !== 'QUEUED') throw new Error(`warm-up ${f.kind} ended ${c.status}: ${JSON.stringify(c.rejection)}`);
    return round(Date.parse(c.timeline.QUEUED) - put.doneAt, 1);
  };
  const first = await one(files[0]!, 0);
  let next = 1;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = next++; i < files.length; i = next++) await one(files[i]!, i);
    }),
  );
  return first;
}

/** A fresh server of our own, or the caller's (quick mode shares one to save start-ups); stop only ours. */
async function serverFor(opts: { server?: ServerProcess; ingestWorkers?: number; cpuProfDir?: string }): Promise<{ srv: ServerProcess; done: () => Promise<void> }> {
  if (opts.server) return { srv: opts.server, done: async () => undefined };
  const srv = await startServerProcess({ ingestWorkers: opts.ingestWorkers, cpuProfDir: opts.cpuProfDir });
  return { srv, done: () => srv.stop() };
}

export async function ingestThroughput(
  label: string,
  files: BenchFile[],
  opts: { concurrency: number; ingestWorkers?: number; server?: ServerProcess; cpuProfDir?: string },
): Promise<IngestThroughput> {
  const ingestWorkers = opts.server ? DEFAULT_INGEST_WORKERS : (opts.ingestWorkers ?? DEFAULT_INGEST_WORKERS);
  const { srv, done: stopServer } = await serverFor(opts);
  try {
    const tech = await Client.login(srv.url, 'tech-a');
    // Warm-up, not counted: the first file on a fresh server is slow (see coldFirstFileMs).
    const cold = await warmUp(tech);
    await srv.resetPeak();
    const done: { f: BenchFile; caseId: string; putStart: number; putDone: number }[] = [];
    let next = 0;
    const t0 = now();
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= files.length) return;
        const f = files[i]!;
        const sub = await tech.submit([{ name: f.name, size: f.size }], i);
        const putStart = now();
        const r = await tech.upload(sub.uploads[0]!, { bytes: f.bytes });
        done.push({ f, caseId: sub.caseId, putStart, putDone: r.doneAt });
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    const uploadsDone = now();
    const results: IngestFileResult[] = [];
    let last = 0;
    const settled = await tech.waitAllSettled(done.map((d) => d.caseId), 20);
    for (const d of done) {
      const c = settled.get(d.caseId)!;
      const at = Date.parse(c.timeline[c.status] ?? '');
      if (!Number.isFinite(at)) throw new Error(`case ${d.caseId} (${d.f.name}) has no timeline entry for ${c.status}`);
      last = Math.max(last, at);
      results.push({
        name: d.f.name,
        kind: d.f.kind,
        size: d.f.size,
        status: c.status,
        ...(c.rejection ? { rejection: { code: c.rejection.code, message: c.rejection.message } } : {}),
        settleAfterUploadMs: round(at - d.putDone, 1),
        uploadMs: round(d.putDone - d.putStart, 1),
      });
    }
    const mem = await srv.stats();
    const wallMs = last - t0;
    const bytes = files.reduce((a, f) => a + f.size, 0);
    const acc = results.filter((r) => r.status === 'QUEUED');
    const accBytes = acc.reduce((a, r) => a + r.size, 0);
    const perKind: IngestThroughput['perKind'] = {};
    for (const k of [...new Set(results.map((r) => r.kind))]) {
      const rs = results.filter((r) => r.kind === k);
      perKind[k] = { files: rs.length, bytes: rs.reduce((a, r) => a + r.size, 0), settleAfterUploadMs: summarize(rs.map((r) => r.settleAfterUploadMs)) };
    }
    return {
      label,
      concurrency: opts.concurrency,
      ingestWorkers,
      files: files.length,
      bytes,
      accepted: acc.length,
      rejected: results.filter((r) => r.status !== 'QUEUED').map((r) => ({ name: r.name, code: r.rejection?.code ?? r.status, message: r.rejection?.message ?? '' })),
      wallMs: round(wallMs, 1),
      filesPerSec: round(files.length / (wallMs / 1000), 2),
      mbPerSec: round(bytes / MB / (wallMs / 1000), 2),
      acceptedFilesPerSec: round(acc.length / (wallMs / 1000), 2),
      acceptedMbPerSec: round(accBytes / MB / (wallMs / 1000), 2),
      uploadPhaseMs: round(uploadsDone - t0, 1),
      uploadMbPerSec: round(bytes / MB / ((uploadsDone - t0) / 1000), 2),
      perKind,
      server: serverFigures(mem, files.length),
      coldFirstFileMs: cold,
      results,
    };
  } finally {
    await stopServer();
  }
}

export interface ViewCost {
  n: number;
  /** GET /api/cases/{id}: the case view, which also appends to the audit log (a synchronous commit). */
  caseViewMs: Summary;
  caseViewServerCpuMs: number;
  /** GET /api/cases?limit=1: a read with no audit write, for comparison. */
  caseListMs: Summary;
  caseListServerCpuMs: number;
}

/** Sequential GETs of one case vs. a list of one case: what one status poll costs the server. */
async function viewCost(srv: ServerProcess, tech: Client, caseId: string, n: number): Promise<ViewCost> {
  const time = async (path: string) => {
    await srv.resetPeak();
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = now();
      const r = await tech.call('GET', path);
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
      ms.push(r.doneAt - t0);
    }
    const st = await srv.stats();
    return { s: summarize(ms.map((x) => round(x, 2))), cpu: round((st.cpuUserMs + st.cpuSystemMs) / n, 2) };
  };
  const view = await time(`/api/cases/${caseId}`);
  const list = await time('/api/cases?limit=1');
  return { n, caseViewMs: view.s, caseViewServerCpuMs: view.cpu, caseListMs: list.s, caseListServerCpuMs: list.cpu };
}

export interface EcgLatency {
  uploads: number;
  warmup: number;
  pollMs: number;
  /** GET /api/cases/{id} calls made while waiting (each one is also an audit-log write on the server). */
  polls: number;
  ecgBytes: number;
  /** timeline.QUEUED − client time the PUT's 201 arrived (the figure the target is about). */
  recordLatencyMs: Summary;
  /**
   * timeline.QUEUED − the upload object's mtime on the server's disk (FsBlobStore: last write, before
   * its fsync and rename): the server-side "upload complete → QUEUED", free of client scheduling delay.
   */
  fromStoredMs: Summary;
  /** timeline.QUEUED − client time the PUT was sent (includes the upload itself). */
  fromPutStartMs: Summary;
  /** Client-observed: the poll that first saw QUEUED − 201 arrival (upper bound: rounded up to the poll interval). */
  observedMs: Summary;
  uploadMs: Summary;
  warmupRecordLatencyMs: number[];
  targetP99Ms: number;
  met: boolean;
  slowest: { seq: number; recordLatencyMs: number }[];
  /** Server figures over the measured uploads (the polls' CPU included). */
  server: ServerFigures;
  /** Measured after the uploads when asked (viewCostGets > 0). */
  viewCost?: ViewCost;
}

/** N sequential synthetic ECG uploads; one in flight at a time, polled at `pollMs`. */
export async function ecgLatency(opts: {
  uploads: number;
  warmup: number;
  pollMs: number;
  seedBase: number;
  targetP99Ms: number;
  cpuProfDir?: string;
  server?: ServerProcess;
  viewCostGets?: number;
}): Promise<EcgLatency> {
  const total = opts.uploads + opts.warmup;
  const ecgs = Array.from({ length: total }, (_, i) => syntheticEcg({ seed: opts.seedBase + i }).bytes);
  const { srv, done: stopServer } = await serverFor(opts);
  try {
    const tech = await Client.login(srv.url, 'tech-a');
    await srv.resetPeak();
    const rec: number[] = [];
    const fromStart: number[] = [];
    const fromStored: number[] = [];
    const observed: number[] = [];
    const upload: number[] = [];
    const warm: number[] = [];
    const seqOf: number[] = [];
    let polls = 0;
    let lastCase = '';
    for (let i = 0; i < total; i++) {
      if (i === opts.warmup) await srv.resetPeak(); // server CPU / ingest-job figures cover the measured uploads only
      const bytes = ecgs[i]!;
      const sub = await tech.submit([{ name: `ecg-${i}.dcm`, size: bytes.length }], i, 'urgent');
      lastCase = sub.caseId;
      const putStart = now();
      const put = await tech.upload(sub.uploads[0]!, { bytes });
      // First look after the poll interval: the QUEUED timestamp is recorded by the server either way.
      await new Promise((r) => setTimeout(r, opts.pollMs));
      const { c, seenAt, polls: n } = await tech.waitSettled(sub.caseId, opts.pollMs);
      polls += n;
      if (c.status !== 'QUEUED') throw new Error(`ECG ${i} ended ${c.status}: ${JSON.stringify(c.rejection)}`);
      const queuedAt = Date.parse(c.timeline.QUEUED);
      const lat = queuedAt - put.doneAt;
      if (i < opts.warmup) {
        warm.push(round(lat, 1));
        continue;
      }
      rec.push(lat);
      seqOf.push(i);
      fromStart.push(queuedAt - putStart);
      const st = await stat(join(srv.dataDir, 'objects', ...uploadKey('clinic-a', sub.submissionId, 0).split('/'))).catch(() => null);
      if (st) fromStored.push(queuedAt - st.mtimeMs);
      observed.push(seenAt - put.doneAt);
      upload.push(put.doneAt - putStart);
    }
    const mem = await srv.stats();
    const vc = opts.viewCostGets ? await viewCost(srv, tech, lastCase, opts.viewCostGets) : undefined;
    const r1 = (s: Summary): Summary => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v, 1)])) as unknown as Summary;
    const recS = r1(summarize(rec));
    const slowest = rec
      .map((v, k) => ({ seq: seqOf[k]!, recordLatencyMs: round(v, 1) }))
      .sort((a, b) => b.recordLatencyMs - a.recordLatencyMs)
      .slice(0, 5);
    return {
      uploads: opts.uploads,
      warmup: opts.warmup,
      pollMs: opts.pollMs,
      polls,
      ecgBytes: ecgs[0]!.length,
      recordLatencyMs: recS,
      fromStoredMs: r1(summarize(fromStored)),
      fromPutStartMs: r1(summarize(fromStart)),
      observedMs: r1(summarize(observed)),
      uploadMs: r1(summarize(upload)),
      warmupRecordLatencyMs: warm,
      targetP99Ms: opts.targetP99Ms,
      met: recS.p99 < opts.targetP99Ms,
      slowest,
      server: serverFigures(mem, opts.uploads),
      ...(vc ? { viewCost: vc } : {}),
    };
  } finally {
    await stopServer();
  }
}
