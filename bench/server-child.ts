/**
 * A real local TeleRead in its own process, for the benchmarks: the parent drives it over HTTP and
 * asks it (IPC) for its memory figures. Env: BENCH_DATA_DIR (required, owned by the parent),
 * BENCH_INGEST_WORKERS (default: the product's own, TELEREAD_INGEST_WORKERS). Peak RSS comes from the kernel (VmHWM in /proc/self/status),
 * reset on request through /proc/self/clear_refs, with a 10 ms sampler where either is missing. `reset-peak`
 * also restarts the CPU-time mark (process.cpuUsage: all threads, parse workers included) and the
 * collected ingest durations and warnings.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startTestServer } from '../test/support/local-server.ts';
import { loadLocalConfig } from '../shared/contracts/config.ts';
import type { Logger } from '../shared/ports/logger.ts';
import { resetHwm, vmHwmBytes } from './lib/mem.ts';

const dataDir = process.env.BENCH_DATA_DIR;
if (!dataDir) throw new Error('BENCH_DATA_DIR is required');

// The sampler only where the kernel keeps no peak we can reset (VmHWM, clear_refs): even process.memoryUsage.rss() alone, 100
// times a second, was ~2 % of the server's main thread in the profiles, a cost the Orthanc leg (whose
// peak the parent reads from /proc) does not pay.
let sampledPeak = process.memoryUsage.rss();
if (vmHwmBytes() === null || !resetHwm()) {
  const sampler = setInterval(() => {
    const r = process.memoryUsage.rss();
    if (r > sampledPeak) sampledPeak = r;
  }, 10);
  sampler.unref();
}

/**
 * The product's structured log, kept in memory: ingest's own "file accepted/rejected … ms" figures
 * (time from picking the job to the recorded outcome) and any warnings/errors.
 */
let ingestMs: number[] = [];
let problems: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
const log: Logger = {
  info(msg, fields) {
    if ((msg === 'file accepted' || msg === 'file rejected') && typeof fields?.ms === 'number') ingestMs.push(fields.ms);
  },
  warn(msg, fields) {
    if (problems.length < 100) problems.push({ level: 'warn', msg, fields });
  },
  error(msg, fields) {
    if (problems.length < 100) problems.push({ level: 'error', msg, fields });
  },
};

let cpuMark = process.cpuUsage();
/** How long the event loop was blocked (SQLite commits with fsync, hashing, parsing run on it). */
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

const srv = await startTestServer({ dataDir, log, env: { TELEREAD_PARSE_WARMUP: String(loadLocalConfig({}).TELEREAD_PARSE_WARMUP), ...(JSON.parse(process.env.BENCH_ENV ?? '{}') as Record<string, string>), ...(process.env.BENCH_INGEST_WORKERS ? { TELEREAD_INGEST_WORKERS: process.env.BENCH_INGEST_WORKERS } : {}) } });

/**
 * Optional (BENCH_COUNT_PORTS=1): count every call the use cases make on the ports (CaseRepository,
 * BlobStore, queues, audit log, notifier, signer, inspector), by port and method. The same use-case
 * code drives the AWS adapters, where each of these calls is one (or a known few) DynamoDB / S3 /
 * SQS requests: docs/PERFORMANCE.md turns them into request units. Methods are wrapped on the
 * instances themselves so every holder of a reference (routes, workers, sweeper) is counted.
 */
let portCalls: Record<string, number> = {};
if (process.env.BENCH_COUNT_PORTS === '1') {
  const d = srv.sys.deps as unknown as Record<string, object>;
  for (const port of ['cases', 'blobs', 'readQueue', 'jobQueue', 'audit', 'notifier', 'signer', 'inspector', 'renderer']) {
    const obj = d[port] as Record<string, unknown> | undefined;
    if (!obj) continue;
    const names = new Set<string>();
    for (let p = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      for (const n of Object.getOwnPropertyNames(p)) if (n !== 'constructor' && typeof obj[n] === 'function') names.add(n);
    }
    for (const n of names) {
      const orig = (obj[n] as (...a: unknown[]) => unknown).bind(obj);
      obj[n] = (...a: unknown[]) => {
        const k = `${port}.${n}`;
        portCalls[k] = (portCalls[k] ?? 0) + 1;
        return orig(...a);
      };
    }
  }
}

let closing: Promise<void> | null = null;
const shutdown = (code: number) => {
  closing ??= srv
    .close()
    .catch(() => undefined)
    .then(() => process.exit(code));
  return closing;
};

process.on('message', (m: { type: string }) => {
  if (m.type === 'stats') {
    const cpu = process.cpuUsage(cpuMark);
    process.send!({ type: 'stats', rss: process.memoryUsage().rss, sampledPeak, vmHwm: vmHwmBytes(), cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, ingestMs, problems, portCalls,
      loopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 } });
  } else if (m.type === 'reset-peak') {
    const ok = resetHwm();
    sampledPeak = process.memoryUsage().rss;
    cpuMark = process.cpuUsage();
    loopDelay.reset();
    ingestMs = [];
    problems = [];
    portCalls = {};
    process.send!({ type: 'reset-peak', ok, rss: sampledPeak, vmHwm: vmHwmBytes() });
  } else if (m.type === 'close') {
    void shutdown(0);
  }
});
process.on('disconnect', () => void shutdown(1));
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));

process.send!({ type: 'ready', url: srv.url, pid: process.pid });
