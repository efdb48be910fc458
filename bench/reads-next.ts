/**
 * `POST /api/reads/next` latency with a large store (default 100,000 cases). The store is seeded
 * directly through the local adapters (SqliteCaseRepository.create, SqliteReadQueue.send) into a
 * fresh data directory before the server starts: one transaction, synchronous=OFF while seeding
 * (the server reopens the database with its own settings). The cases are what a province-sized
 * store holds: every state, the three pools and three priorities, ECG measurements on ECG cases,
 * and one read message per QUEUED case (with `readEnqueuedAt` set, as ingest leaves it).
 * QUEUED/AWAITING_FILES cases are recent (the last 10 minutes) so that the SLA sweeper and the
 * 24 h submission expiry have no work to do during the measurement; the rest span two years.
 */
import { join } from 'node:path';
import type { Case, CaseStatus } from '../shared/domain/case.ts';
import type { Priority } from '../shared/domain/priority.ts';
import { readQueueName } from '../shared/domain/routing.ts';
import { openSqlite } from '../shared/adapters/local/sqlite.ts';
import { SqliteCaseRepository } from '../shared/adapters/local/sqlite-case-repository.ts';
import { SqliteReadQueue } from '../shared/adapters/local/sqlite-queue.ts';
import { tempDir } from './lib/cleanup.ts';
import { Client, now } from './lib/client.ts';
import { startServerProcess } from './lib/server-process.ts';
import { round, summarize, type Summary } from './lib/stats.ts';
import { mulberry32 } from '../shared/synth/random.ts';

const rng = mulberry32;

/** Share of each state in the store (a mature store: most cases are closed). */
const STATE_MIX: [CaseStatus, number][] = [
  ['ACKNOWLEDGED', 0.8],
  ['DELIVERED', 0.1],
  ['SIGNED', 0.005],
  ['CLAIMED', 0.01],
  ['QUEUED', 0.03],
  ['REJECTED', 0.04],
  ['AWAITING_FILES', 0.015],
];
/** pool, modality, share: the county mix (ECG most, then X-ray, then ultrasound). */
const POOLS: [string, string, number][] = [
  ['ecg', 'ECG', 0.5],
  ['radiography', 'DX', 0.3],
  ['ultrasound', 'US', 0.2],
];
const PRIO: [Priority, number][] = [
  ['routine', 0.8],
  ['urgent', 0.17],
  ['stat', 0.03],
];
const CLINICS = ['clinic-a', 'clinic-b', 'clinic-c'];
const READERS: Record<string, string> = { ecg: 'ecg-reader', radiography: 'rad-reader', ultrasound: 'rad-reader' };

function pick<T>(r: () => number, xs: [T, ...unknown[]][]): T {
  let x = r();
  for (const row of xs) {
    x -= row[row.length - 1] as number;
    if (x <= 0) return row[0];
  }
  return xs[xs.length - 1]![0];
}

const ORDER: CaseStatus[] = ['AWAITING_FILES', 'QUEUED', 'CLAIMED', 'SIGNED', 'DELIVERED', 'ACKNOWLEDGED'];

function makeCase(i: number, r: () => number, nowMs: number): Case {
  const status = pick(r, STATE_MIX);
  const poolId = pick(r, POOLS);
  const row = POOLS.find((p) => p[0] === poolId)!;
  const [pool, modality] = row;
  const priority = pick(r, PRIO);
  const recent = status === 'QUEUED' || status === 'AWAITING_FILES' || status === 'CLAIMED';
  const created = recent ? nowMs - Math.floor(r() * 10 * 60_000) - 1000 : nowMs - Math.floor((0.01 + r()) * 730 * 86_400_000);
  const at = (ms: number) => new Date(ms).toISOString();
  const clinicId = CLINICS[i % CLINICS.length]!;
  const caseId = `case-seed-${String(i).padStart(6, '0')}`;
  const events: Case['events'] = [{ status: 'AWAITING_FILES', at: at(created), actor: `tech-${clinicId.slice(-1)}` }];
  let t = created;
  if (status === 'REJECTED') events.push({ status: 'REJECTED', at: at((t += 900)), actor: 'system:ingest', reason: 'DICOM.NOT_DICOM' });
  else
    for (const s of ORDER.slice(1, ORDER.indexOf(status) + 1)) {
      t += s === 'QUEUED' ? 800 : Math.floor(60_000 + r() * 1_800_000);
      events.push({ status: s, at: at(Math.min(t, nowMs - 10)), actor: s === 'QUEUED' ? 'system:ingest' : s === 'ACKNOWLEDGED' ? `tech-${clinicId.slice(-1)}` : READERS[pool]! });
    }
  const queuedOrLater = status !== 'AWAITING_FILES' && status !== 'REJECTED';
  const studyUid = `2.25.${1_000_000_000 + i}`;
  return {
    caseId,
    submissionId: `sub-seed-${String(i).padStart(6, '0')}`,
    clinicId,
    status,
    priority,
    requestedPriority: priority,
    pool: status === 'AWAITING_FILES' ? null : pool,
    modality: status === 'AWAITING_FILES' ? null : modality,
    declaredFiles: 1,
    patient: { id: `P${String(100_000 + i)}`, name: `Seed^Patient${i % 997}`, sex: i % 2 ? 'M' : 'F', birthDate: `19${String(30 + (i % 60)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 9}` },
    consent: { obtained: true, recordedBy: `tech-${clinicId.slice(-1)}`, recordedAt: at(created) },
    clinicalNote: i % 5 === 0 ? '胸痛 2 小时 chest pain 2 h' : null,
    createdBy: `tech-${clinicId.slice(-1)}`,
    createdAt: at(created),
    updatedAt: events.at(-1)!.at,
    events,
    study: queuedOrLater
      ? { studyInstanceUID: studyUid, modality, studyDate: at(created).slice(0, 10).replaceAll('-', ''), seriesCount: 1, instanceCount: 1, manufacturer: 'Synthetic', institutionName: clinicId }
      : null,
    ecg:
      queuedOrLater && pool === 'ecg'
        ? { measurements: { heartRate: 60 + (i % 40), prMs: 150 + (i % 40), qrsMs: 80 + (i % 30), qtMs: 380, qtcMs: 400 + (i % 50), axisDeg: (i % 120) - 30 }, flags: i % 150 === 0 ? ['critical:stemi-suspected'] : [] }
        : null,
    rejection: status === 'REJECTED' ? { code: 'DICOM.NOT_DICOM', message: 'This file is not a DICOM file.', fileIndex: 0 } : null,
    lease:
      status === 'CLAIMED'
        ? { id: `lease-seed-${i}`, readerId: READERS[pool]!, expiresAt: at(nowMs + 3_600_000), queue: readQueueName(pool, priority), receipt: `seed-receipt-${i}` }
        : null,
    reportVersion: ['SIGNED', 'DELIVERED', 'ACKNOWLEDGED'].includes(status) ? 1 : 0,
    readEnqueuedAt: queuedOrLater ? events[1]!.at : null,
    acknowledgement: status === 'ACKNOWLEDGED' ? { by: `tech-${clinicId.slice(-1)}`, at: events.at(-1)!.at, method: 'in-app' } : null,
    uploadCompletedAt: status === 'AWAITING_FILES' ? null : at(created + 500),
    slaPriority: priority,
    escalations: [],
    criticalResult: null,
    version: events.length,
  };
}

export interface SeedResult {
  cases: number;
  byStatus: Record<string, number>;
  readMessages: number;
  seedMs: number;
  dbBytes: number;
}

/** Seed `n` cases into `<dataDir>/teleread.db` through the local adapters. */
export async function seedStore(dataDir: string, n: number, seed = 7): Promise<SeedResult> {
  const t0 = performance.now();
  const { statSync, mkdirSync } = await import('node:fs');
  mkdirSync(join(dataDir, 'objects'), { recursive: true });
  const db = openSqlite(join(dataDir, 'teleread.db'));
  const cases = new SqliteCaseRepository(db);
  const reads = new SqliteReadQueue(db, { maxReceiveCount: 50 });
  const r = rng(seed);
  const byStatus: Record<string, number> = {};
  let msgs = 0;
  const nowMs = Date.now();
  try {
    db.pragma('synchronous = OFF');
    const BATCH = 5000;
    for (let b = 0; b < n; b += BATCH) {
      db.exec('BEGIN');
      for (let i = b; i < Math.min(n, b + BATCH); i++) {
        const c = makeCase(i, r, nowMs);
        byStatus[c.status] = (byStatus[c.status] ?? 0) + 1;
        await cases.create(c);
        if (c.status === 'QUEUED') {
          await reads.send(readQueueName(c.pool!, c.priority), { caseId: c.caseId });
          msgs++;
        }
      }
      db.exec('COMMIT');
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return { cases: n, byStatus, readMessages: msgs, seedMs: round(performance.now() - t0, 0), dbBytes: statSync(join(dataDir, 'teleread.db')).size };
}

export interface ReadsNextResult {
  seed: SeedResult;
  calls: number;
  claimed: number;
  /** Client-side latency of POST /api/reads/next (ms), one call in flight. */
  latencyMs: Summary;
  byReader: Record<string, Summary>;
  serverCpuMsPerCall: number;
  loopDelayMs: { p50: number; p99: number; max: number };
  targetP99Ms: number;
  met: boolean;
}

export async function readsNextLatency(opts: { cases: number; calls: number; targetP99Ms: number; cpuProfDir?: string; /** Extra TELEREAD_* settings for the server (e.g. TELEREAD_SWEEP_MS). */ env?: Record<string, string> }): Promise<ReadsNextResult> {
  const dir = tempDir('reads');
  try {
    const seed = await seedStore(dir.path, opts.cases);
    const srv = await startServerProcess({ dataDir: dir.path, cpuProfDir: opts.cpuProfDir, env: opts.env });
    try {
      const readers = { 'ecg-reader': await Client.login(srv.url, 'ecg-reader'), 'rad-reader': await Client.login(srv.url, 'rad-reader') };
      // Warm-up: a few calls (prepared statements, JIT), not counted.
      for (const c of Object.values(readers)) for (let i = 0; i < 3; i++) await c.call('POST', '/api/reads/next', {});
      await srv.resetPeak();
      const all: number[] = [];
      const per: Record<string, number[]> = { 'ecg-reader': [], 'rad-reader': [] };
      let claimed = 0;
      for (let i = 0; i < opts.calls; i++) {
        const name = i % 2 ? 'rad-reader' : 'ecg-reader';
        const t0 = now();
        const res = await readers[name].call('POST', '/api/reads/next', {});
        const ms = res.doneAt - t0;
        if (res.status === 200) claimed++;
        else if (res.status !== 204) throw new Error(`reads/next: ${res.status} ${res.text.slice(0, 200)}`);
        all.push(round(ms, 2));
        per[name]!.push(round(ms, 2));
      }
      const st = await srv.stats();
      const lat = summarize(all);
      return {
        seed,
        calls: opts.calls,
        claimed,
        latencyMs: lat,
        byReader: Object.fromEntries(Object.entries(per).map(([k, v]) => [k, summarize(v)])),
        serverCpuMsPerCall: round((st.cpuUserMs + st.cpuSystemMs) / opts.calls, 2),
        loopDelayMs: { p50: round(st.loopDelayMs.p50, 1), p99: round(st.loopDelayMs.p99, 1), max: round(st.loopDelayMs.max, 1) },
        targetP99Ms: opts.targetP99Ms,
        met: lat.p99 < opts.targetP99Ms,
      };
    } finally {
      await srv.stop();
    }
  } finally {
    await dir.remove();
  }
}
