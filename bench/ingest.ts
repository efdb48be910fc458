/**
 * Ingest through the public HTTP API of a real local server (child process, fresh data directory):
 * throughput (files/s, MB/s) with several clients, and upload-complete → QUEUED latency for ECGs.
 */
import { syntheticEcg, syntheticUltrasound } from '../shared/synth/studies.ts';
import { Client, now } from './lib/client.ts';
import type { BenchFile } from './lib/files.ts';
import { startServerProcess, type MemStats } from './lib/server-process.ts';
import { MB, round, summarize, type Summary } from './lib/stats.ts';

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
  };
}

function peakOf(s: MemStats): { value: number | null; source: string } {
  return s.vmHwm !== null ? { value: Math.max(s.vmHwm, s.sampledPeak), source: 'VmHWM' } : { value: s.sampledPeak, source: 'sampled' };
}

/** One ECG and one single-frame US (seeds no measured set uses), each waited for; returns the ECG's latency. */
async function warmUp(tech: Client): Promise<number> {
  let first = NaN;
  const ecg = syntheticEcg({ seed: 9_999_001 }).bytes;
  const us = syntheticUltrasound({ seed: 9_999_001 }).bytes;
  for (const [k, bytes] of [['ecg', ecg], ['us', us]] as const) {
    const sub = await tech.submit([{ name: `warmup-${k}.dcm`, size: bytes.length }], 999_000);
    const put = await tech.upload(sub.uploads[0]!, { bytes });
    const { c } = await tech.waitSettled(sub.caseId, 5);
    if (c.status !== 'QUEUED') throw new Error(`warm-up ${k} ended ${c.status}: ${JSON.stringify(c.rejection)}`);
    if (k === 'ecg') first = round(Date.parse(c.timeline.QUEUED) - put.doneAt, 1);
  }
  return first;
}

export async function ingestThroughput(label: string, files: BenchFile[], opts: { concurrency: number; ingestWorkers?: number; log?: (s: string) => void }): Promise<IngestThroughput> {
  const ingestWorkers = opts.ingestWorkers ?? 2;
  const srv = await startServerProcess({ ingestWorkers });
  try {
    const tech = await Client.login(srv.url, 'tech-a');
    // Warm-up, not counted: the parse workers load their code on first use (see coldFirstFileMs).
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
    for (const d of done) {
      const { c } = await tech.waitSettled(d.caseId, 20);
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
    await srv.stop();
  }
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
  /** timeline.QUEUED − client time the PUT was sent (includes the upload itself). */
  fromPutStartMs: Summary;
  /** Client-observed: the poll that first saw QUEUED − 201 arrival (upper bound: rounded up to the poll interval). */
  observedMs: Summary;
  uploadMs: Summary;
  warmupRecordLatencyMs: number[];
  targetP99Ms: number;
  met: boolean;
  slowest: { seq: number; recordLatencyMs: number }[];
  /** Server figures over warm-up + measured uploads (the 5 ms polls' CPU included). */
  server: ServerFigures;
}

/** N sequential synthetic ECG uploads; one in flight at a time, polled at `pollMs`. */
export async function ecgLatency(opts: { uploads: number; warmup: number; pollMs: number; seedBase: number; targetP99Ms: number; cpuProfDir?: string }): Promise<EcgLatency> {
  const total = opts.uploads + opts.warmup;
  const ecgs = Array.from({ length: total }, (_, i) => syntheticEcg({ seed: opts.seedBase + i }).bytes);
  const srv = await startServerProcess({ cpuProfDir: opts.cpuProfDir });
  try {
    const tech = await Client.login(srv.url, 'tech-a');
    await srv.resetPeak();
    const rec: number[] = [];
    const fromStart: number[] = [];
    const observed: number[] = [];
    const upload: number[] = [];
    const warm: number[] = [];
    const seqOf: number[] = [];
    let polls = 0;
    for (let i = 0; i < total; i++) {
      const bytes = ecgs[i]!;
      const sub = await tech.submit([{ name: `ecg-${i}.dcm`, size: bytes.length }], i, 'urgent');
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
      observed.push(seenAt - put.doneAt);
      upload.push(put.doneAt - putStart);
    }
    const mem = await srv.stats();
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
      fromPutStartMs: r1(summarize(fromStart)),
      observedMs: r1(summarize(observed)),
      uploadMs: r1(summarize(upload)),
      warmupRecordLatencyMs: warm,
      targetP99Ms: opts.targetP99Ms,
      met: recS.p99 < opts.targetP99Ms,
      slowest,
      server: serverFigures(mem, total),
    };
  } finally {
    await srv.stop();
  }
}
