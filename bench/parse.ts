/**
 * Header-parse throughput of the StudyInspector used by ingest (createDicomInspector: worker pool)
 * and, for comparison, of the same code in the calling thread (inspectInProcess). Every read goes
 * through a counting ByteSource, so "read MB/s" (bytes actually read) and "file MB/s" (file sizes)
 * are both reported: for header-only parsing of images the second is large by design.
 */
import { bytesSource, createDicomInspector, inspectInProcess } from '../shared/dicom/inspector.ts';
import type { ByteSource, InspectOutcome } from '../shared/ports/study-inspector.ts';
import { counting, type ReadCount } from './lib/sources.ts';
import { MB, round } from './lib/stats.ts';

export interface ParseItem {
  name: string;
  size: number;
  /** A fresh ByteSource per call (file sources are opened once by the caller). */
  source: () => ByteSource;
}

export interface ParseRun {
  group: string;
  mode: string;
  files: number;
  inspections: number;
  refused: { name: string; code: string }[];
  ms: number;
  filesPerSec: number;
  fileMbPerSec: number;
  readMbPerSec: number;
  /** Bytes read / file bytes, over all inspections. */
  readFraction: number;
  readsPerFile: number;
  meanMsPerFile: number;
  /** CPU time of this process (all threads: the pool's workers included) per inspection: less load-dependent than wall time. */
  cpuMsPerFile: number;
}

type Inspect = (s: ByteSource) => Promise<InspectOutcome>;

async function timed(group: string, mode: string, items: ParseItem[], inspect: Inspect, concurrency: number, minMs: number): Promise<ParseRun> {
  // Warm-up round, not timed (the pool's workers load their code on first use).
  for (const it of items) await inspect(it.source());
  const count: ReadCount = { reads: 0, bytes: 0 };
  const refused = new Map<string, string>();
  let inspections = 0;
  let fileBytes = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  do {
    let next = 0;
    const lane = async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        const it = items[i]!;
        const out = await inspect(counting(it.source(), count));
        inspections++;
        fileBytes += it.size;
        if (!out.ok) refused.set(it.name, out.code);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  } while (performance.now() - t0 < minMs);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    group,
    mode,
    files: items.length,
    inspections,
    refused: [...refused].map(([name, code]) => ({ name, code })),
    ms: round(ms, 1),
    filesPerSec: round(inspections / (ms / 1000), 1),
    fileMbPerSec: round(fileBytes / MB / (ms / 1000), 1),
    readMbPerSec: round(count.bytes / MB / (ms / 1000), 1),
    readFraction: round(count.bytes / fileBytes, 5),
    readsPerFile: round(count.reads / inspections, 2),
    meanMsPerFile: round((ms * concurrency) / inspections, 2),
    cpuMsPerFile: round((cpu.user + cpu.system) / 1000 / inspections, 2),
  };
}

export function memoryItem(name: string, bytes: Uint8Array): ParseItem {
  return { name, size: bytes.length, source: () => bytesSource(bytes) };
}

export async function parseThroughput(groups: { group: string; items: ParseItem[] }[], opts: { minMs: number; inProcess: boolean }): Promise<ParseRun[]> {
  const inspector = createDicomInspector();
  const runs: ParseRun[] = [];
  try {
    for (const g of groups) {
      runs.push(await timed(g.group, 'pool, 1 in flight', g.items, (s) => inspector.inspect(s), 1, opts.minMs));
      runs.push(await timed(g.group, 'pool, 2 in flight', g.items, (s) => inspector.inspect(s), 2, opts.minMs));
      if (opts.inProcess) runs.push(await timed(g.group, 'in-process', g.items, (s) => inspectInProcess(s), 1, opts.minMs));
    }
  } finally {
    await inspector.close();
  }
  return runs;
}
