/**
 * Ingest on the SAME files with the SAME client concurrency, repeated, into:
 *   (a) TeleRead local mode through its public API (POST /api/submissions + PUT, until every case has
 *       left AWAITING_FILES: wall = first POST → last QUEUED/REJECTED timestamp in the timelines);
 *   (b) an Orthanc started by the benchmark (`POST /instances`, wall = first POST → last 200);
 *   (c) the disk floor (the same bytes written to files, fsync each).
 * Each repetition runs the three back to back (order rotated between repetitions, so that a change
 * of load from other work does not always hit the same one) on fresh servers and directories. The
 * ratios are taken per repetition (the three legs ran within seconds of one another) and the median
 * over repetitions is reported, with the median of each leg's own figures.
 */
import { ingestThroughput, type IngestThroughput } from './ingest.ts';
import { now } from './lib/client.ts';
import { diskFloor, type FloorRun } from './lib/floor.ts';
import { warmupFiles, type BenchFile } from './lib/files.ts';
import { orthancStore, startOrthanc, type OrthancProcess } from './lib/orthanc.ts';
import { MB, round } from './lib/stats.ts';

export interface LegFigures {
  wallMs: number;
  filesPerSec: number;
  mbPerSec: number;
  /** CPU time of the server process (all threads) per file; the floor: of the writing process. */
  cpuMsPerFile: number;
  peakRssBytes?: number | null;
}

export interface OrthancRun extends LegFigures {
  statuses: Record<string, number>;
  version: string;
}

export interface CompareRep {
  rep: number;
  order: string[];
  load1: number;
  teleread: LegFigures & { refused: number; uploadPhaseMs: number };
  orthanc: OrthancRun | null;
  floor: FloorRun;
  ratioToOrthanc: number | null;
  ratioToFloor: number;
}

export interface CompareSet {
  label: string;
  files: number;
  bytes: number;
  kinds: Record<string, { files: number; bytes: number }>;
  concurrency: number;
  reps: CompareRep[];
  median: {
    teleread: { filesPerSec: number; mbPerSec: number; cpuMsPerFile: number };
    orthanc: { filesPerSec: number; mbPerSec: number; cpuMsPerFile: number } | null;
    floor: { filesPerSec: number; mbPerSec: number };
    /** Median over repetitions of the per-repetition ratio TeleRead / Orthanc (MB/s; files/s is the same ratio on the same files). */
    ratioToOrthanc: number | null;
    ratioToFloor: number;
  };
  /** TeleRead's server-side figures of its last repetition (per kind settle times, event-loop delay…). */
  telereadDetail: IngestThroughput;
}

export const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

let warmSeed = 8_888_000;

async function orthancRun(bin: string, files: BenchFile[], concurrency: number): Promise<OrthancRun> {
  const o: OrthancProcess = await startOrthanc(bin);
  try {
    // Warm-up, the same files TeleRead gets (bench/lib/files.ts WARMUP_MIX), seeds no measured set uses.
    for (const f of warmupFiles(++warmSeed * 100)) await orthancStore(o.url, f.bytes);
    const cpu0 = o.cpuMs();
    const statuses: Record<string, number> = {};
    let next = 0;
    let last = 0;
    const t0 = now();
    const lane = async () => {
      for (;;) {
        const i = next++;
        if (i >= files.length) return;
        const r = await orthancStore(o.url, files[i]!.bytes);
        statuses[r.orthancStatus] = (statuses[r.orthancStatus] ?? 0) + 1;
        last = Math.max(last, r.doneAt);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    const wallMs = last - t0;
    const bytes = files.reduce((a, f) => a + f.size, 0);
    return {
      wallMs: round(wallMs, 1),
      filesPerSec: round(files.length / (wallMs / 1000), 2),
      mbPerSec: round(bytes / MB / (wallMs / 1000), 2),
      cpuMsPerFile: round((o.cpuMs() - cpu0) / files.length, 1),
      peakRssBytes: o.rss().hwm,
      statuses,
      version: o.version,
    };
  } finally {
    await o.stop();
  }
}

export async function compareIngest(
  label: string,
  files: BenchFile[],
  opts: { concurrency: number; reps: number; orthancBin: string | null; log?: (s: string) => void; /** V8 CPU profile of TeleRead's server in the first repetition. */ cpuProfDir?: string },
): Promise<CompareSet> {
  const log = opts.log ?? (() => undefined);
  const bytes = files.reduce((a, f) => a + f.size, 0);
  const kinds: CompareSet['kinds'] = {};
  for (const f of files) {
    const k = (kinds[f.kind] ??= { files: 0, bytes: 0 });
    k.files++;
    k.bytes += f.size;
  }
  const reps: CompareRep[] = [];
  let detail: IngestThroughput | undefined;
  const legs = ['teleread', 'orthanc', 'floor'] as const;
  for (let rep = 0; rep < opts.reps; rep++) {
    const order = legs.map((_, i) => legs[(i + rep) % legs.length]!);
    let t: IngestThroughput | undefined;
    let o: OrthancRun | null = null;
    let fl: FloorRun | undefined;
    const load1 = round((await import('node:os')).loadavg()[0]!, 2);
    for (const leg of order) {
      if (leg === 'teleread') t = await ingestThroughput(`${label} #${rep + 1}`, files, { concurrency: opts.concurrency, ...(rep === 0 && opts.cpuProfDir ? { cpuProfDir: opts.cpuProfDir } : {}) });
      else if (leg === 'orthanc') o = opts.orthancBin ? await orthancRun(opts.orthancBin, files, opts.concurrency) : null;
      else fl = await diskFloor(files, opts.concurrency);
    }
    detail = t!;
    const r: CompareRep = {
      rep: rep + 1,
      order: order.filter((l) => l !== 'orthanc' || opts.orthancBin),
      load1,
      teleread: {
        wallMs: t!.wallMs,
        filesPerSec: t!.filesPerSec,
        mbPerSec: t!.mbPerSec,
        cpuMsPerFile: t!.server.cpuMsPerFile,
        peakRssBytes: t!.server.peakRssBytes,
        refused: t!.rejected.length,
        uploadPhaseMs: t!.uploadPhaseMs,
      },
      orthanc: o,
      floor: fl!,
      ratioToOrthanc: o ? round(t!.mbPerSec / (o as OrthancRun).mbPerSec, 3) : null,
      ratioToFloor: round(t!.mbPerSec / fl!.mbPerSec, 3),
    };
    reps.push(r);
    log(
      `  ${label} rep ${rep + 1} (load ${load1}, order ${r.order.join('→')}): TeleRead ${r.teleread.mbPerSec} MB/s` +
        (o ? `, Orthanc ${(o as OrthancRun).mbPerSec} MB/s` : '') +
        `, floor ${fl!.mbPerSec} MB/s` +
        (r.ratioToOrthanc !== null ? `; T/O ${r.ratioToOrthanc}` : '') +
        `; T/floor ${r.ratioToFloor}` +
        (r.teleread.refused ? `; TeleRead refused ${r.teleread.refused}` : ''),
    );
  }
  const med = (f: (r: CompareRep) => number) => round(median(reps.map(f)), 2);
  const haveO = reps.every((r) => r.orthanc);
  return {
    label,
    files: files.length,
    bytes,
    kinds,
    concurrency: opts.concurrency,
    reps,
    median: {
      teleread: { filesPerSec: med((r) => r.teleread.filesPerSec), mbPerSec: med((r) => r.teleread.mbPerSec), cpuMsPerFile: med((r) => r.teleread.cpuMsPerFile) },
      orthanc: haveO
        ? { filesPerSec: med((r) => r.orthanc!.filesPerSec), mbPerSec: med((r) => r.orthanc!.mbPerSec), cpuMsPerFile: med((r) => r.orthanc!.cpuMsPerFile) }
        : null,
      floor: { filesPerSec: med((r) => r.floor.filesPerSec), mbPerSec: med((r) => r.floor.mbPerSec) },
      ratioToOrthanc: haveO ? round(median(reps.map((r) => r.ratioToOrthanc!)), 3) : null,
      ratioToFloor: round(median(reps.map((r) => r.ratioToFloor)), 3),
    },
    telereadDetail: detail!,
  };
}
