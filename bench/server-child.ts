/**
 * A real local TeleRead in its own process, for the benchmarks: the parent drives it over HTTP and
 * asks it (IPC) for its memory figures. Env: BENCH_DATA_DIR (required, owned by the parent),
 * BENCH_INGEST_WORKERS (default 2). Peak RSS comes from the kernel (VmHWM in /proc/self/status),
 * reset on request through /proc/self/clear_refs, with a 10 ms sampler as a fallback.
 */
import { startTestServer } from '../test/support/local-server.ts';
import { resetHwm, vmHwmBytes } from './lib/mem.ts';

const dataDir = process.env.BENCH_DATA_DIR;
if (!dataDir) throw new Error('BENCH_DATA_DIR is required');

let sampledPeak = process.memoryUsage().rss;
const sampler = setInterval(() => {
  const r = process.memoryUsage().rss;
  if (r > sampledPeak) sampledPeak = r;
}, 10);
sampler.unref();

const srv = await startTestServer({ dataDir, env: { TELEREAD_INGEST_WORKERS: process.env.BENCH_INGEST_WORKERS ?? '2' } });

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
    process.send!({ type: 'stats', rss: process.memoryUsage().rss, sampledPeak, vmHwm: vmHwmBytes() });
  } else if (m.type === 'reset-peak') {
    const ok = resetHwm();
    sampledPeak = process.memoryUsage().rss;
    process.send!({ type: 'reset-peak', ok, rss: sampledPeak, vmHwm: vmHwmBytes() });
  } else if (m.type === 'close') {
    void shutdown(0);
  }
});
process.on('disconnect', () => void shutdown(1));
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));

process.send!({ type: 'ready', url: srv.url, pid: process.pid });
