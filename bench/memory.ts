/**
 * Peak memory of ingesting a very large multi-frame ultrasound (hundreds of MB): the inspector alone
 * in a child process (peak RSS from the kernel's VmHWM, reset after warm-up, plus a 5 ms sampler and
 * /usr/bin/time's maximum RSS of the whole child), against a small control file; and the full HTTP
 * upload path into a server child process.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticUltrasoundStream } from '../shared/synth/studies.ts';
import { onCleanup, tempDir } from './lib/cleanup.ts';
import { Client, now } from './lib/client.ts';
import { startServerProcess, TSX, type ServerProcess } from './lib/server-process.ts';
import { writeStreamToFile } from './lib/sources.ts';
import { MB, round } from './lib/stats.ts';

export interface BigFile {
  path: string;
  size: number;
  /** Bytes before the pixel data value: the "header" (including the Pixel Data element header). */
  headerBytes: number;
  frames: number;
  generateMs: number;
}

/** Stream a synthetic US cine of `frames` × 480×640 (307,200 B each) to a temp file. */
export async function makeBigUltrasound(frames: number, seed: number): Promise<BigFile & { remove: () => Promise<void> }> {
  const dir = tempDir('big');
  const s = syntheticUltrasoundStream({ seed, frames });
  const path = join(dir.path, s.metadata.fileName);
  const t0 = performance.now();
  const n = await writeStreamToFile(path, s.stream);
  if (n !== s.metadata.sizeBytes) throw new Error(`streamed ${n} bytes, metadata says ${s.metadata.sizeBytes}`);
  return { path, size: n, headerBytes: n - s.metadata.pixelDataLength!, frames, generateMs: round(performance.now() - t0, 0), remove: dir.remove };
}

interface ChildReport {
  size: number;
  ok: boolean;
  code: string | null;
  ms: number;
  reads: number;
  bytesRead: number;
  baselineRss: number;
  sampledPeakRss: number;
  vmHwmAfter: number | null;
  resetOk: boolean;
  gcExposed: boolean;
}

export interface InspectMemory extends ChildReport {
  label: string;
  /** Peak RSS during the inspection (max of VmHWM after reset and the sampler). */
  peakRss: number;
  /** peakRss − RSS when ready (after warm-up). */
  peakOverBaseline: number;
  /** /usr/bin/time -v "Maximum resident set size" of the whole child (start-up included), if available. */
  timeMaxRss: number | null;
}

const TIME = '/usr/bin/time';

function runChild(file: string): Promise<{ report: ChildReport; timeMaxRss: number | null }> {
  const child = join(import.meta.dirname, 'memory-child.ts');
  const nodeArgs = ['--expose-gc', '--import', TSX, child, file];
  const useTime = existsSync(TIME);
  const [cmd, args] = useTime ? [TIME, ['-v', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  return new Promise((resolve, reject) => {
    const p = execFile(cmd, args, { maxBuffer: 1 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`memory child failed: ${err.message}\n${stderr.slice(-2000)}`));
      const line = stdout.trim().split('\n').at(-1) ?? '';
      const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      resolve({ report: JSON.parse(line) as ChildReport, timeMaxRss: m ? Number(m[1]) * 1024 : null });
    });
    onCleanup(`memory child ${p.pid}`, () => {
      if (p.exitCode === null) p.kill('SIGKILL');
    });
  });
}

export async function inspectMemory(label: string, file: string): Promise<InspectMemory> {
  const { report, timeMaxRss } = await runChild(file);
  const peakRss = Math.max(report.sampledPeakRss, report.vmHwmAfter ?? 0);
  return { label, ...report, ms: round(report.ms, 1), peakRss, peakOverBaseline: peakRss - report.baselineRss, timeMaxRss };
}

export interface HttpMemory {
  size: number;
  status: string;
  rejection?: unknown;
  uploadMs: number;
  uploadMbPerSec: number;
  settleAfterUploadMs: number;
  serverRssReady: number;
  serverPeakRss: number;
  serverPeakOverReady: number;
  peakSource: string;
}

let warmups = 0;

/** Upload `file` through the public API into a server child; the server's peak RSS over its ready RSS. */
export async function httpUploadMemory(file: { path: string; size: number }, shared?: ServerProcess): Promise<HttpMemory> {
  const srv = shared ?? (await startServerProcess());
  try {
    const tech = await Client.login(srv.url, 'tech-a');
    // Warm-up with a small file so the parse workers are loaded before the mark is reset.
    const { syntheticUltrasound } = await import('../shared/synth/studies.ts');
    const small = syntheticUltrasound({ seed: 777_000 + ++warmups }).bytes; // distinct: the server may be shared
    const ws = await tech.submit([{ name: 'warm.dcm', size: small.length }], 1);
    await tech.upload(ws.uploads[0]!, { bytes: small });
    await tech.waitSettled(ws.caseId, 10);
    const reset = await srv.resetPeak();
    const sub = await tech.submit([{ name: 'big-us-cine.dcm', size: file.size }], 2);
    const t0 = now();
    const put = await tech.upload(sub.uploads[0]!, { path: file.path, size: file.size });
    const { c } = await tech.waitSettled(sub.caseId, 20, 300_000);
    const st = await srv.stats();
    const peak = reset.ok && st.vmHwm !== null ? Math.max(st.vmHwm, st.sampledPeak) : st.sampledPeak;
    const uploadMs = put.doneAt - t0;
    const at = Date.parse(c.timeline[c.status] ?? '');
    return {
      size: file.size,
      status: c.status,
      ...(c.rejection ? { rejection: c.rejection } : {}),
      uploadMs: round(uploadMs, 0),
      uploadMbPerSec: round(file.size / MB / (uploadMs / 1000), 1),
      settleAfterUploadMs: round(at - put.doneAt, 0),
      serverRssReady: reset.rss,
      serverPeakRss: peak,
      serverPeakOverReady: peak - reset.rss,
      peakSource: reset.ok ? 'VmHWM (reset after warm-up) and 10 ms sampler' : '10 ms sampler',
    };
  } finally {
    if (!shared) await srv.stop();
  }
}
