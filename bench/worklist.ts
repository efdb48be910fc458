/**
 * Upload complete → visible in the reader's worklist.
 *
 * "Upload complete" is the moment the technician's client has the 201 of the PUT. "Visible" is the
 * first answer of `GET /api/cases?status=QUEUED&pool=<pool>` (as the pool's reader, the query behind
 * the reader's worklist) that lists the case. A poller per pool asks every `pollMs` while it has
 * cases to look for (following the cursor down to the oldest awaited case, newest-first pages), so
 * the observed figure is rounded up by at most one poll interval plus one list request; the case's
 * own timeline (`timeline.QUEUED`, written in the same commit that makes it listable) gives the
 * figure without that rounding. Both are reported; the target is judged on the observed one.
 *
 * Idle: one study at a time (next one 200 ms after the previous was seen).
 * Burst: the county reference day is ~150 studies over ~10 h with peak hours of ~10 studies; the
 * burst is 10× that peak hour — 100 studies — arriving within 60 s (open loop: Poisson arrivals,
 * each study uploaded by its own client as soon as it arrives, whatever the others are doing). That
 * is the volume of ten peak hours compressed into one minute: every figure under it is an upper
 * bound for "10× the county rate".
 */
import { syntheticCrDx, syntheticEcg, syntheticUltrasound } from '../shared/synth/studies.ts';
import { Client, now } from './lib/client.ts';
import { startServerProcess, type ServerProcess } from './lib/server-process.ts';
import { round, summarize, type Summary } from './lib/stats.ts';

interface Study {
  kind: 'ecg' | 'dx' | 'us' | 'us-cine';
  pool: string;
  bytes: Uint8Array;
}

const POOL_OF = { ecg: 'ecg', dx: 'radiography', us: 'ultrasound', 'us-cine': 'ultrasound' } as const;

/** The county mix by count: ECG 50 %, X-ray 30 %, ultrasound 20 % (of which a quarter cines). */
export function countyStudies(n: number, seedBase: number): Study[] {
  const out: Study[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 20;
    const kind: Study['kind'] = k < 10 ? 'ecg' : k < 16 ? 'dx' : k < 19 ? 'us' : 'us-cine';
    const seed = seedBase + i;
    const bytes =
      kind === 'ecg'
        ? syntheticEcg({ seed }).bytes
        : kind === 'dx'
          ? syntheticCrDx({ seed, modality: 'DX', rows: 2500, columns: 2000 }).bytes
          : syntheticUltrasound({ seed, frames: kind === 'us-cine' ? 60 : 1 }).bytes;
    out.push({ kind, pool: POOL_OF[kind], bytes });
  }
  // Spread the kinds through the sequence (deterministic shuffle).
  let s = seedBase >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

class Watcher {
  private readonly awaited = new Map<string, { pool: string; since: number; resolve: (t: number) => void }>();
  private stopped = false;
  polls = 0;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly readers: Record<string, Client>,
    private readonly pollMs: number,
  ) {
    for (const pool of Object.keys(readers)) this.loops.push(this.loop(pool));
  }

  /** Resolves with the client time of the first list answer that holds the case. */
  await(caseId: string, pool: string, since: number): Promise<number> {
    return new Promise((resolve) => this.awaited.set(caseId, { pool, since, resolve }));
  }

  private async loop(pool: string) {
    const reader = this.readers[pool]!;
    while (!this.stopped) {
      const mine = [...this.awaited].filter(([, w]) => w.pool === pool);
      if (!mine.length) {
        await new Promise((r) => setTimeout(r, 2));
        continue;
      }
      const oldest = Math.min(...mine.map(([, w]) => w.since));
      let cursor: string | null = null;
      for (;;) {
        const q = `/api/cases?status=QUEUED&pool=${pool}&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const r = await reader.call('GET', q);
        this.polls++;
        if (r.status !== 200) throw new Error(`worklist ${pool}: ${r.status} ${r.text.slice(0, 200)}`);
        const items = r.json.items as { caseId: string; createdAt: string }[];
        for (const it of items) {
          const w = this.awaited.get(it.caseId);
          if (w) {
            this.awaited.delete(it.caseId);
            w.resolve(r.doneAt);
          }
        }
        cursor = r.json.nextCursor;
        const last = items.at(-1);
        // Newest first: stop once the page reaches cases created before the oldest awaited one.
        if (!cursor || !last || Date.parse(last.createdAt) < oldest - 5000) break;
      }
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  async stop() {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

export interface WorklistLatency {
  mode: 'idle' | 'burst';
  studies: number;
  pollMs: number;
  /** Burst only: arrivals within this window (ms). */
  windowMs?: number;
  /** First worklist answer listing the case − PUT 201 (ms). */
  visibleMs: Summary;
  /** timeline.QUEUED − PUT 201 (ms), free of the poll interval. */
  recordMs: Summary;
  byKind: Record<string, { visibleMs: Summary; recordMs: Summary }>;
  uploadMs: Summary;
  polls: number;
  server: { cpuMsPerStudy: number; loopDelayMs: { p50: number; p99: number; max: number }; peakRssBytes: number | null };
  targetP99Ms: number;
  met: boolean;
}

async function one(tech: Client, w: Watcher, s: Study, seq: number) {
  const sub = await tech.submit([{ name: `${s.kind}-${seq}.dcm`, size: s.bytes.length }], seq, s.kind === 'ecg' ? 'urgent' : 'routine');
  const since = now() - 1000;
  const putStart = now();
  const put = await tech.upload(sub.uploads[0]!, { bytes: s.bytes });
  const seen = await w.await(sub.caseId, s.pool, since);
  const c = await tech.getCase(sub.caseId);
  if (c.status !== 'QUEUED' && c.status !== 'CLAIMED') throw new Error(`study ${seq} (${s.kind}) ended ${c.status}: ${JSON.stringify(c.rejection)}`);
  return { kind: s.kind, visible: seen - put.doneAt, record: Date.parse(c.timeline.QUEUED) - put.doneAt, upload: put.doneAt - putStart };
}

export async function worklistLatency(opts: {
  mode: 'idle' | 'burst';
  studies: number;
  pollMs: number;
  windowMs?: number;
  seedBase: number;
  targetP99Ms: number;
  server?: ServerProcess;
}): Promise<WorklistLatency> {
  const studies = countyStudies(opts.studies, opts.seedBase);
  const srv = opts.server ?? (await startServerProcess());
  try {
    const techs = [await Client.login(srv.url, 'tech-a'), await Client.login(srv.url, 'tech-b')];
    const ecgReader = await Client.login(srv.url, 'ecg-reader');
    const radReader = await Client.login(srv.url, 'rad-reader');
    const w = new Watcher({ ecg: ecgReader, radiography: radReader, ultrasound: radReader }, opts.pollMs);
    // Warm-up: one of each kind, not counted.
    const warm = countyStudies(20, opts.seedBase + 500_000).filter((s, i, a) => a.findIndex((x) => x.kind === s.kind) === i);
    for (const [i, s] of warm.entries()) await one(techs[0]!, w, s, 900_000 + i);
    await srv.resetPeak();
    const rows: Awaited<ReturnType<typeof one>>[] = [];
    if (opts.mode === 'idle') {
      for (const [i, s] of studies.entries()) {
        rows.push(await one(techs[i % 2]!, w, s, i));
        await new Promise((r) => setTimeout(r, 200));
      }
    } else {
      // Poisson arrivals over the window, deterministic.
      let x = opts.seedBase >>> 0;
      const u = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0), (x + 1) / 4294967297);
      const gaps = studies.map(() => -Math.log(u()));
      const scale = (opts.windowMs ?? 60_000) / gaps.reduce((a, b) => a + b, 0);
      const t0 = performance.now();
      let at = 0;
      const all: Promise<void>[] = [];
      for (const [i, s] of studies.entries()) {
        at += gaps[i]! * scale;
        const wait = t0 + at - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        all.push(one(techs[i % 2]!, w, s, i).then((r) => void rows.push(r)));
      }
      await Promise.all(all);
    }
    const st = await srv.stats();
    await w.stop();
    const r1 = (xs: number[]) => {
      const s = summarize(xs);
      return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v, 1)])) as unknown as Summary;
    };
    const byKind: WorklistLatency['byKind'] = {};
    for (const k of [...new Set(rows.map((r) => r.kind))].sort()) {
      const rs = rows.filter((r) => r.kind === k);
      byKind[k] = { visibleMs: r1(rs.map((r) => r.visible)), recordMs: r1(rs.map((r) => r.record)) };
    }
    const visible = r1(rows.map((r) => r.visible));
    const peak = st.vmHwm !== null ? Math.max(st.vmHwm, st.sampledPeak) : st.sampledPeak;
    return {
      mode: opts.mode,
      studies: rows.length,
      pollMs: opts.pollMs,
      ...(opts.mode === 'burst' ? { windowMs: opts.windowMs ?? 60_000 } : {}),
      visibleMs: visible,
      recordMs: r1(rows.map((r) => r.record)),
      byKind,
      uploadMs: r1(rows.map((r) => r.upload)),
      polls: w.polls,
      server: {
        cpuMsPerStudy: round((st.cpuUserMs + st.cpuSystemMs) / rows.length, 1),
        loopDelayMs: { p50: round(st.loopDelayMs.p50, 1), p99: round(st.loopDelayMs.p99, 1), max: round(st.loopDelayMs.max, 1) },
        peakRssBytes: peak,
      },
      targetP99Ms: opts.targetP99Ms,
      met: visible.p99 < opts.targetP99Ms,
    };
  } finally {
    if (!opts.server) await srv.stop();
  }
}
