/** Start bench/server-child.ts in a child process on a fresh data directory and talk to it. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { tempDir, trackChild } from './cleanup.ts';
import { SERVER_NODE_FLAGS } from '../../local/node-flags.ts';

export interface MemStats {
  rss: number;
  sampledPeak: number;
  vmHwm: number | null;
  /** CPU time of the whole server process (all threads) since the last reset-peak. */
  cpuUserMs: number;
  cpuSystemMs: number;
  /** The product's own "file accepted/rejected" durations (job picked → outcome recorded), ms. */
  ingestMs: number[];
  /** Warnings and errors the product logged since the last reset-peak. */
  problems: { level: string; msg: string; fields?: Record<string, unknown> }[];
  /** Event-loop delay of the server's main thread (perf_hooks, 5 ms resolution; the timer's own 5 ms is included). */
  loopDelayMs: { p50: number; p99: number; max: number };
  /** Port calls by `port.method` since the last reset (only with countPorts). */
  portCalls?: Record<string, number>;
}

export interface ServerProcess {
  url: string;
  pid: number;
  dataDir: string;
  stats(): Promise<MemStats>;
  /** Reset the kernel's peak-RSS mark; false when /proc/self/clear_refs is not writable. */
  resetPeak(): Promise<{ ok: boolean; rss: number; vmHwm: number | null }>;
  stop(): Promise<void>;
}

const CHILD = join(import.meta.dirname, '..', 'server-child.ts');
/** tsx's loader by absolute URL, so children start the same whatever the working directory. */
export const TSX = import.meta.resolve('tsx');

function request<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: { type: string }) => {
      if (m.type !== type) return;
      child.off('message', onMsg);
      child.off('exit', onExit);
      resolve(m as T);
    };
    const onExit = () => reject(new Error(`server child exited while waiting for ${type}`));
    child.on('message', onMsg);
    child.once('exit', onExit);
    child.send({ type });
  });
}

export async function startServerProcess(
  opts: { ingestWorkers?: number; cpuProfDir?: string; /** An existing data directory the caller owns (and removes). */ dataDir?: string; /** Extra TELEREAD_* settings. */ env?: Record<string, string>; /** Count port calls (BENCH_COUNT_PORTS). */ countPorts?: boolean } = {},
): Promise<ServerProcess> {
  const dir = opts.dataDir ? { path: opts.dataDir, remove: async () => undefined } : tempDir('data');
  const execArgv = ['--import', TSX, ...SERVER_NODE_FLAGS];
  if (opts.cpuProfDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`);
  const child = fork(CHILD, [], {
    execArgv,
    env: { ...process.env, BENCH_DATA_DIR: dir.path, ...(opts.ingestWorkers !== undefined ? { BENCH_INGEST_WORKERS: String(opts.ingestWorkers) } : {}), BENCH_ENV: JSON.stringify(opts.env ?? {}), BENCH_COUNT_PORTS: opts.countPorts ? '1' : '0' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const untrack = trackChild(`server child ${child.pid}`, child);
  const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('server child did not start within 60 s')), 60_000);
    child.once('message', (m: { type: string; url: string; pid: number }) => {
      clearTimeout(t);
      if (m.type === 'ready') resolve(m);
      else reject(new Error(`unexpected first message ${m.type}`));
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`server child exited with ${code} before it was ready`));
    });
  });
  return {
    url: ready.url,
    pid: ready.pid,
    dataDir: dir.path,
    stats: () => request<MemStats>(child, 'stats'),
    resetPeak: () => request(child, 'reset-peak'),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.send({ type: 'close' });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
        clearTimeout(timer);
      }
      await untrack(); // SIGTERM/SIGKILL if it is still there
      await dir.remove();
    },
  };
}
