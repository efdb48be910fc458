/**
 * Child process of the memory benchmark: inspect one file through a file ByteSource with the
 * ingest inspector (worker pool) and report memory as one JSON line on stdout.
 * argv: <file>. The inspector is warmed on a small in-memory study first, so the figures compare
 * "ready to ingest" with "while ingesting this file".
 */
import { createDicomInspector, bytesSource } from '../shared/dicom/inspector.ts';
import { syntheticUltrasound } from '../shared/synth/studies.ts';
import { resetHwm, vmHwmBytes } from './lib/mem.ts';
import { counting, fileSource, type ReadCount } from './lib/sources.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: memory-child.ts <file>');

const gc = (globalThis as { gc?: () => void }).gc;
const inspector = createDicomInspector();
try {
  const warm = await inspector.inspect(bytesSource(syntheticUltrasound({ seed: 424242 }).bytes));
  if (!warm.ok) throw new Error(`warm-up refused: ${warm.code}`);
  gc?.();
  await new Promise((r) => setTimeout(r, 100));
  const hwmBeforeReset = vmHwmBytes();
  const resetOk = resetHwm();
  const baselineRss = process.memoryUsage().rss;
  let sampledPeak = baselineRss;
  const sampler = setInterval(() => {
    const r = process.memoryUsage().rss;
    if (r > sampledPeak) sampledPeak = r;
  }, 5);
  const count: ReadCount = { reads: 0, bytes: 0 };
  const fsrc = await fileSource(file);
  const t0 = performance.now();
  const out = await inspector.inspect(counting(fsrc.source, count));
  const ms = performance.now() - t0;
  await fsrc.close();
  clearInterval(sampler);
  const r = process.memoryUsage().rss;
  if (r > sampledPeak) sampledPeak = r;
  process.stdout.write(
    `${JSON.stringify({
      file,
      size: fsrc.source.size,
      ok: out.ok,
      code: out.ok ? null : out.code,
      ms,
      reads: count.reads,
      bytesRead: count.bytes,
      baselineRss,
      sampledPeakRss: sampledPeak,
      vmHwmAfter: resetOk ? vmHwmBytes() : null,
      hwmBeforeReset,
      resetOk,
      gcExposed: !!gc,
    })}\n`,
  );
} finally {
  await inspector.close();
}
