/**
 * `npm run simulate`: a synthetic county day driven through the public HTTP API of a real TeleRead
 * server (a child process on a scaled clock). Technicians submit and upload, readers claim, read,
 * heartbeat, draft and sign, clinics acknowledge (critical results with read-back); the
 * administrator watches the backlog. Turnaround comes from the server's own case timelines.
 */
import { setMaxListeners } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_SLA, slaTarget } from '../shared/domain/sla.ts';
import type { Priority } from '../shared/domain/priority.ts';
import { syntheticCrDx, syntheticEcg, syntheticUltrasound } from '../shared/synth/studies.ts';
import { planDay, POOL_OF, READING_TIME, ARRIVAL_PROFILE, type PlannedStudy } from './plan.ts';
import { POOLS, provisionConsortium, simUsers, type Pool } from './provision.ts';
import { startServer, type ChildServer } from './server.ts';
import { dist, table, triple, type Dist } from './stats.ts';

export interface SimOptions {
  readers: Record<Pool, number>;
  studies: number;
  seed: number;
  scale: number;
  criticalRate: number;
  minCritical: number;
  clinics: number;
  /** Simulated calendar day (a weekday), local to `utcOffsetMinutes`. */
  date: string;
  utcOffsetMinutes: number;
  /** Local hours of the simulated day: the clock starts at dayStart; the run stops at dayEnd at the latest. */
  dayStartHour: number;
  dayEndHour: number;
  /** Local hour after which no study arrives (default 17.5; the profile is cut there). */
  arrivalEndHour: number;
  out: string;
  /** Real-time safety cap on the whole run. */
  maxWallMs: number;
  /** Keep the server's data directory (printed) instead of removing it, for inspection. */
  keepData: boolean;
  /** Override the reading lease given to the server (simulated seconds); default leaseSecondsFor(scale). */
  leaseSeconds?: number;
  log?: (line: string) => void;
}

export const DEFAULT_OPTIONS: SimOptions = {
  readers: { ecg: 2, radiography: 2, ultrasound: 1 },
  studies: 150,
  seed: 1,
  scale: 600,
  criticalRate: 0.008,
  minCritical: 2,
  clinics: 17,
  date: '2026-03-03',
  utcOffsetMinutes: 8 * 60,
  dayStartHour: 7.5,
  dayEndHour: 19.5,
  arrivalEndHour: 17.5,
  out: 'test-output/simulate.json',
  maxWallMs: 170_000,
  keepData: false,
};

/**
 * The reading lease, in simulated seconds, given to the server: at least the default 300 s and at
 * least ~3 s of real time, so that HTTP latency on a loaded machine (magnified `scale` times on the
 * simulated clock) does not expire leases that a real reader's heartbeats would keep.
 */
export const leaseSecondsFor = (scale: number) => Math.min(3600, Math.max(300, Math.ceil(3 * scale)));

export const PASSWORD = 'teleread-sim-password';
export const PIN = '135790';
const MIN = 60_000;
const IDLE_POLL_SIM_MS = 30_000;

type Json = any;

interface Reply {
  status: number;
  json: Json;
  text: string;
  ms: number;
}

function transportError(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  return `transport error: ${err?.message ?? String(e)}${err?.cause ? ` (${err.cause.code ?? ''} ${err.cause.message ?? ''})` : ''}`;
}

async function putBytes(u: { url: string; headers: Record<string, string> }, bytes: Uint8Array): Promise<{ status: number; text: string }> {
  countRequest('PUT', '/api/uploads/:token');
  try {
    const put = await fetch(u.url, { method: 'PUT', headers: u.headers, body: bytes as Uint8Array<ArrayBuffer> });
    return { status: put.status, text: await put.text() };
  } catch (e) {
    return { status: 0, text: transportError(e) };
  }
}

const isIdempotent = (method: string, path: string) =>
  method === 'GET' || method === 'PUT' || /\/(acknowledge|heartbeat)$/.test(path) || path === '/api/auth/login';

/** How many times a technician starts a submission again when its upload URL expired or the upload failed. */
const SUBMIT_ATTEMPTS = 3;

/** Requests the simulation sent, per route (the load it puts on the server besides the uploads). */
const requestCounts = new Map<string, number>();
const countRequest = (method: string, path: string) => {
  const route = `${method} ${path.replace(/\?.*$/, '').replace(/case-[A-Za-z0-9_-]+/g, ':id')}`;
  requestCounts.set(route, (requestCounts.get(route) ?? 0) + 1);
};

class Client {
  constructor(
    readonly base: string,
    readonly who: string,
    private token = '',
  ) {}
  async login(password: string): Promise<void> {
    const r = await this.call('POST', '/api/auth/login', { username: this.who, password });
    if (r.status !== 200) throw new Error(`login ${this.who}: ${r.status} ${r.text}`);
    this.token = r.json.token as string;
  }
  /** GET raw bytes (the viewer loading an instance). */
  async bytes(path: string): Promise<{ status: number; size: number; ms: number; error?: string }> {
    countRequest('GET', path);
    const t0 = performance.now();
    try {
      const r = await fetch(`${this.base}${path}`, { headers: { authorization: `Bearer ${this.token}` } });
      const b = await r.arrayBuffer();
      return { status: r.status, size: b.byteLength, ms: performance.now() - t0 };
    } catch (e) {
      return { status: 0, size: 0, ms: performance.now() - t0, error: transportError(e) };
    }
  }
  async call(method: string, path: string, body?: unknown, retried = false): Promise<Reply> {
    countRequest(method, path);
    const t0 = performance.now();
    let r: Response;
    let text: string;
    try {
      r = await fetch(`${this.base}${path}`, {
        method,
        headers: { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      text = await r.text();
    } catch (e) {
      // A transport failure (connection reset, server gone) is an answer too: status 0 with the cause.
      // Idempotent requests are safe to repeat once (a keep-alive connection closed under us is the
      // usual cause on a loaded machine); claims, submissions and signatures are not repeated blindly.
      if (!retried && isIdempotent(method, path)) return this.call(method, path, body, true);
      return { status: 0, json: null, text: transportError(e), ms: performance.now() - t0 };
    }
    const ms = performance.now() - t0;
    let json: Json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: r.status, json, text, ms };
  }
}

/** The simulator's view of the server's scaled clock, calibrated against the server's own `now`. */
class SimClock {
  constructor(
    private readonly simRef: number,
    private readonly realRef: number,
    readonly scale: number,
    private readonly signal: AbortSignal,
  ) {}
  now(): number {
    return this.simRef + (performance.now() - this.realRef) * this.scale;
  }
  /** Sleep until simulated time `t` (returns false if the run was stopped meanwhile). */
  async until(t: number): Promise<boolean> {
    const real = (t - this.now()) / this.scale;
    try {
      if (real > 0) await sleep(real, undefined, { signal: this.signal });
      return !this.signal.aborted;
    } catch {
      return false;
    }
  }
  sleepSim(ms: number): Promise<boolean> {
    return this.until(this.now() + ms);
  }
}

interface StudyRun {
  plan: PlannedStudy;
  bytes: Uint8Array;
  fileName: string;
  patient: { id: string; name: string; sex?: string; birthDate?: string };
  technician: string;
  caseId?: string;
  /** Cases of submissions given up after a failed upload (they stay AWAITING_FILES on the server). */
  abandoned: string[];
  /** A later case of this study that lost to an abandoned one the server had stored. */
  superseded?: string;
  /** Simulated minutes between the planned arrival and the actual submission. */
  lateMin?: number;
  calls: { submit?: number; upload?: number; claim?: number; draft?: number; sign?: number };
  view?: number;
  heartbeats: number;
  heartbeatMs: number[];
  reader?: string;
  signed: boolean;
  acknowledged: boolean;
  rejected?: { code: string; message: string };
  autoFlags?: string[];
  /** The server refused every signature (REPORT.VERSION_EXISTS after a lost lease). */
  unsignable?: boolean;
  /** Times the case came back to a reader after it was found unsignable. */
  stuckClaims?: number;
  done: boolean;
}

interface Anomaly {
  at: string;
  who: string;
  what: string;
  caseId?: string;
  status?: number;
  body?: string;
}

interface GroupStats {
  pool: string;
  priority: string;
  count: number;
  signed: number;
  waitMin: Dist;
  readMin: Dist;
  uploadToSignedMin: Dist;
  slaBreachMin: number;
  slaCompliance: number | null;
}

export interface SimSummary {
  options: Omit<SimOptions, 'log'>;
  files: Record<string, { count: number; bytesMin: number; bytesMax: number; bytesTotal: number; note: string }>;
  readingTime: typeof READING_TIME;
  arrivals: { perLocalHour: Record<string, number>; peakPerHour: number; lateSubmissions: number; maxLateMin: number };
  wall: { setupMs: number; dayMs: number; collectMs: number; totalMs: number };
  machine: { cpus: number; loadAverageAtStart: number[]; loadAverageAtEnd: number[]; simulatorEventLoopDelayMs?: { p50: number; p99: number; max: number } };
  simulated: { start: string; end: string; hours: number; endedBecause: string };
  outcome: { studies: number; submitted: number; queued: number; signed: number; delivered: number; acknowledged: number; rejected: number; unfinished: string[] };
  groups: GroupStats[];
  statEcg: {
    n: number;
    p90Min: number | null;
    p99Min: number | null;
    queuedToSignedP90Min: number | null;
    queuedToSignedP99Min: number | null;
    targetMin: number;
    meets: boolean;
    answer: string;
  };
  critical: {
    planned: number;
    withCriticalResult: number;
    acknowledged: number;
    acknowledgedWithin5Min: number;
    escalated: number;
    openEscalations: number;
    acrFieldsComplete: number;
    minutesToAck: number[];
    autoFlagged: number;
  };
  escalations: { slaWarnings: number; slaBreaches: number; criticalUnacknowledged: number };
  overheadMs: { perCase: Dist; components: Record<string, Dist>; targetP99Ms: number; meets: boolean };
  backlog: { maxWaiting: Record<string, number>; maxOldestWaitingMin: Record<string, number> };
  server: { turnaroundByPool: Json; turnaroundByPriority: Json; csvLines: number; crossCheck: string[]; leaseSeconds?: number; sweepMs?: number; pid?: number; dataDir?: string };
  anomalies: Anomaly[];
  /** Requests the simulation sent, per route, over the whole run. */
  requests?: Record<string, number>;
  table: string;
  cases: Json[];
}

function localToUtcIso(date: string, hour: number, offsetMin: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d) + hour * 3600_000 - offsetMin * MIN).toISOString();
}

function makeFile(p: PlannedStudy): { bytes: Uint8Array; meta: Json } {
  if (p.kind === 'ecg') {
    const s = syntheticEcg({ seed: p.fileSeed, heartRate: p.heartRate });
    return { bytes: s.bytes, meta: s.metadata };
  }
  if (p.kind === 'xray') {
    const s = syntheticCrDx({ seed: p.fileSeed, modality: p.xrayModality ?? 'DX', rows: 1024, columns: 1024 });
    return { bytes: s.bytes, meta: s.metadata };
  }
  const s = syntheticUltrasound({ seed: p.fileSeed, frames: p.frames ?? 1, rows: 240, columns: 320 });
  return { bytes: s.bytes, meta: s.metadata };
}

const isoDate = (da: string) => (/^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6, 8)}` : undefined);

const REPORT_TEXT: Record<string, { findings: string; impression: string }> = {
  ecg: { findings: '窦性心律，各导联 ST-T 未见明显异常。Sinus rhythm; no significant ST-T change.', impression: '正常心电图 Normal ECG' },
  radiography: { findings: '双肺纹理清晰，心影不大，膈面光滑。Clear lung fields; normal cardiac silhouette.', impression: '胸部正位片未见明显异常 No acute cardiopulmonary finding' },
  ultrasound: { findings: '肝胆胰脾未见明显异常。Liver, gallbladder, pancreas and spleen unremarkable.', impression: '腹部超声未见异常 Normal abdominal ultrasound' },
};
const CRITICAL_TEXT = {
  findings: '显著窦性心动过缓，心室率约 30 次/分。Profound bradycardia, ventricular rate about 30/min.',
  impression: '危急值：严重心动过缓 CRITICAL: profound bradycardia ~30 bpm',
};

export async function runSimulation(opts: Partial<SimOptions> = {}): Promise<SimSummary> {
  const o: SimOptions = { ...DEFAULT_OPTIONS, ...opts, readers: { ...DEFAULT_OPTIONS.readers, ...opts.readers } };
  const log = o.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const wall0 = performance.now();
  requestCounts.clear();
  const anomalies: Anomaly[] = [];
  let clock: SimClock | null = null;
  const note = (who: string, what: string, extra: Partial<Anomaly> = {}) => {
    anomalies.push({ at: clock ? new Date(clock.now()).toISOString() : new Date().toISOString(), who, what, ...extra });
  };

  // ── the plan and its files (generated before the clock starts) ──
  const plan = planDay({
    studies: o.studies,
    seed: o.seed,
    clinics: o.clinics,
    criticalRate: o.criticalRate,
    minCritical: o.minCritical,
    dayStartHour: o.dayStartHour,
    arrivalEndHour: o.arrivalEndHour,
  });
  const users = simUsers(o.clinics, o.readers);
  const runs: StudyRun[] = plan.map((p) => {
    const { bytes, meta } = makeFile(p);
    const birthDate = isoDate(String(meta.PatientBirthDate ?? ''));
    return {
      plan: p,
      bytes,
      fileName: meta.fileName as string,
      patient: {
        id: meta.PatientID as string,
        name: String(meta.PatientName || 'Synthetic^Patient'),
        ...(['M', 'F', 'O'].includes(meta.PatientSex) ? { sex: meta.PatientSex as string } : {}),
        ...(birthDate ? { birthDate } : {}),
      },
      technician: users.technicians[p.clinic]!.username,
      calls: {},
      abandoned: [],
      heartbeats: 0,
      heartbeatMs: [],
      signed: false,
      acknowledged: false,
      done: false,
    };
  });
  const files: SimSummary['files'] = {};
  for (const r of runs) {
    const k = r.plan.kind;
    const f = (files[k] ??= {
      count: 0,
      bytesMin: Infinity,
      bytesMax: 0,
      bytesTotal: 0,
      note: k === 'ecg' ? '12-lead, 10 s at 500 Hz, 16-bit (as generated)' : k === 'xray' ? 'CR/DX chest PA 1024×1024, 16-bit allocated, 12 stored' : 'US 320×240 8-bit, 1–10 frames',
    });
    f.count++;
    f.bytesMin = Math.min(f.bytesMin, r.bytes.length);
    f.bytesMax = Math.max(f.bytesMax, r.bytes.length);
    f.bytesTotal += r.bytes.length;
  }

  const dataDir = mkdtempSync(join(tmpdir(), 'teleread-sim-'));
  let server: ChildServer | null = null;
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const load0 = loadavg();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  // Interrupted (Ctrl-C, SIGTERM): stop our server by its PID and remove the temp directory first.
  const onSignal = (sig: NodeJS.Signals) => {
    stop.abort();
    void (server ? server.stop() : Promise.resolve())
      .catch(() => undefined)
      .finally(() => {
        if (!o.keepData) rmSync(dataDir, { recursive: true, force: true });
        process.exit(sig === 'SIGINT' ? 130 : 143);
      });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await provisionConsortium(dataDir, users, { password: PASSWORD, pin: PIN, scryptLogN: 12 });
    const dayStart = Date.parse(localToUtcIso(o.date, o.dayStartHour, o.utcOffsetMinutes));
    // The server's clock runs from its process start; starting it a little before 07:30 (about 4 s of
    // real time, at most 45 simulated minutes) leaves room for its start-up and the sign-ins.
    const leadMs = Math.min(45 * MIN, 4000 * o.scale);
    const dayEnd = Date.parse(localToUtcIso(o.date, o.dayEndHour, o.utcOffsetMinutes));
    server = await startServer({
      dataDir,
      env: {
        TELEREAD_TIME_SCALE: String(o.scale),
        TELEREAD_TIME_START: new Date(dayStart - leadMs).toISOString(),
        // The sweep (leases, SLA clocks, critical escalations) every simulated minute at most.
        TELEREAD_SWEEP_MS: String(Math.max(50, Math.min(60_000, Math.floor(MIN / o.scale)))),
        TELEREAD_LOG: 'silent',
        TELEREAD_SCRYPT_LOG_N: '12',
        TELEREAD_LEASE_SECONDS: String(o.leaseSeconds ?? leaseSecondsFor(o.scale)),
      },
    });
    const base = server.url;

    // ── sign in everyone (argon2 verification: a few at a time) ──
    const clients = new Map<string, Client>();
    const everyone = [...users.technicians.map((t) => t.username), ...users.readers.map((r) => r.username), users.admin];
    for (let i = 0; i < everyone.length; i += 4) {
      await Promise.all(
        everyone.slice(i, i + 4).map(async (u) => {
          const c = new Client(base, u);
          await c.login(PASSWORD);
          clients.set(u, c);
        }),
      );
    }
    const admin = clients.get(users.admin)!;

    // ── calibrate against the server's clock: GET turnaround answers `to` = the server's now ──
    let best: { rtt: number; sim: number; real: number } | null = null;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = await admin.call('GET', '/api/metrics/turnaround?groupBy=none');
      const t1 = performance.now();
      if (r.status !== 200) throw new Error(`clock calibration: ${r.status} ${r.text}`);
      if (!best || t1 - t0 < best.rtt) best = { rtt: t1 - t0, sim: Date.parse(r.json.to as string), real: (t0 + t1) / 2 };
    }
    clock = new SimClock(best!.sim, best!.real, o.scale, stop.signal);
    const clk = clock;
    const setupMs = performance.now() - wall0;
    const simAtDay0 = clk.now();
    log(
      `TeleRead simulation (server clock started at ${new Date(dayStart - leadMs).toISOString()}): ${o.studies} studies, ${o.clinics} clinics, readers ${POOLS.map((p) => `${p}=${o.readers[p]}`).join(',')}, seed ${o.seed}, scale ${o.scale}× ` +
        `(server pid ${server.pid}, ${base}); simulated clock at ${new Date(simAtDay0).toISOString()} after ${(setupMs / 1000).toFixed(1)} s of setup`,
    );

    const byCase = new Map<string, StudyRun>();
    let finished = 0;
    let allDone: () => void = () => {};
    const allDonePromise = new Promise<void>((r) => (allDone = r));
    const finish = (s: StudyRun) => {
      if (s.done) return;
      s.done = true;
      if (++finished === runs.length) allDone();
    };

    // ── technicians: submit + upload at the planned moment, watch ingest, acknowledge the report ──
    const watchIngest = async (s: StudyRun, tech: Client) => {
      // The technician glances at the case now and then (10 s, 20 s, 40 s … at most every 10 simulated
      // minutes): polling every 30 simulated seconds would be 20 requests a real second per case at 600×.
      for (let i = 0, wait = 10_000; i < 40 && (await clk.sleepSim(wait)); i++, wait = Math.min(10 * MIN, wait * 2)) {
        const r = await tech.call('GET', `/api/cases/${s.caseId}`);
        if (r.status !== 200) {
          note(tech.who, 'GET case failed while watching ingest', { caseId: s.caseId, status: r.status, body: r.text.slice(0, 300) });
          continue;
        }
        if (r.json.status === 'REJECTED' && r.json.rejection?.code === 'STUDY.DUPLICATE_INSTANCE' && s.abandoned.length) {
          // An earlier, abandoned submission of this study reached the server after all: follow that one.
          for (const id of s.abandoned) {
            const e = await tech.call('GET', `/api/cases/${id}`);
            if (e.status === 200 && e.json.status !== 'AWAITING_FILES' && e.json.status !== 'REJECTED') {
              note(tech.who, `resubmission rejected as a duplicate of the abandoned ${id}, which the server had stored; following that case`, { caseId: s.caseId });
              s.superseded = s.caseId;
              s.caseId = id;
              return;
            }
          }
        }
        if (r.json.status === 'REJECTED') {
          s.rejected = r.json.rejection;
          note(tech.who, `case rejected at ingest: ${r.json.rejection?.code}`, { caseId: s.caseId, body: JSON.stringify(r.json.rejection).slice(0, 300) });
          finish(s);
          return;
        }
        if (r.json.status !== 'AWAITING_FILES') return;
      }
    };
    const submit = async (s: StudyRun) => {
      if (!(await clk.until(dayStart + s.plan.arrivalMin * MIN))) return;
      const tech = clients.get(s.technician)!;
      s.lateMin = (clk.now() - (dayStart + s.plan.arrivalMin * MIN)) / MIN;
      for (let attempt = 1; attempt <= SUBMIT_ATTEMPTS; attempt++) {
        const r = await tech.call('POST', '/api/submissions', {
          patient: s.patient,
          consent: { obtained: true, recordedBy: s.technician },
          priority: s.plan.priority,
          clinicalNote: s.plan.kind === 'ecg' && s.plan.priority === 'stat' ? '胸痛 chest pain' : undefined,
          files: [{ name: s.fileName, size: s.bytes.length }],
        });
        s.calls.submit = (s.calls.submit ?? 0) + r.ms;
        if (r.status !== 201) {
          note(tech.who, 'submission refused', { status: r.status, body: r.text.slice(0, 300) });
          if (r.status !== 0 || attempt === SUBMIT_ATTEMPTS) return finish(s);
          continue;
        }
        const caseId = r.json.caseId as string;
        let up = 0;
        let failed = false;
        for (const u of r.json.uploads as { index: number; url: string; headers: Record<string, string> }[]) {
          const t0 = performance.now();
          let { status, text } = await putBytes(u, s.bytes);
          if (status === 0) {
            // The connection broke: the server may have stored the file. Send it again to the same URL.
            note(tech.who, 'upload transport error; sending again to the same URL', { caseId, body: text.slice(0, 300) });
            ({ status, text } = await putBytes(u, s.bytes));
            if (status === 409 && text.includes('UPLOAD.ALREADY_RECEIVED')) status = 201;
          }
          up += performance.now() - t0;
          if (status !== 201 && status !== 200) {
            note(tech.who, `upload refused (attempt ${attempt}; the submission is abandoned${attempt < SUBMIT_ATTEMPTS ? ' and made again' : ''})`, {
              caseId,
              status,
              body: text.slice(0, 300),
            });
            s.abandoned.push(caseId);
            // If the server did receive it after all, the case is still this study: readers will meet it.
            byCase.set(caseId, s);
            failed = true;
            break;
          }
        }
        s.calls.upload = (s.calls.upload ?? 0) + up;
        if (failed) {
          if (attempt === SUBMIT_ATTEMPTS) return finish(s);
          continue;
        }
        s.caseId = caseId;
        byCase.set(caseId, s);
        break;
      }
      await watchIngest(s, tech);
    };
    const acknowledge = async (s: StudyRun) => {
      const tech = clients.get(s.technician)!;
      let deliveredAt: number | null = null;
      for (let i = 0; i < 200 && deliveredAt === null; i++) {
        if (!(await clk.sleepSim(i === 0 ? 5_000 : IDLE_POLL_SIM_MS))) return;
        const r = await tech.call('GET', `/api/cases/${s.caseId}`);
        if (r.status !== 200) continue;
        if (r.json.status === 'DELIVERED') deliveredAt = Date.parse(r.json.timeline.DELIVERED as string);
        else if (r.json.status === 'ACKNOWLEDGED') {
          s.acknowledged = true;
          finish(s);
          return;
        }
      }
      if (deliveredAt === null) {
        note(tech.who, 'report never delivered to the clinic', { caseId: s.caseId });
        return;
      }
      if (!(await clk.until(deliveredAt + s.plan.ackDelayMin * MIN))) return;
      const body = s.plan.critical ? { receivedBy: `值班医生 duty doctor, ${s.technician}`, readBack: CRITICAL_TEXT.impression } : {};
      const r = await tech.call('POST', `/api/cases/${s.caseId}/acknowledge`, body);
      if (r.status !== 200) {
        note(tech.who, 'acknowledge refused', { caseId: s.caseId, status: r.status, body: r.text.slice(0, 300) });
        return;
      }
      s.acknowledged = true;
      finish(s);
    };

    // ── readers: next → read (view, heartbeat) → draft → sign ──
    const stuck = new Set<string>();
    const reader = async (name: string, pool: Pool) => {
      const me = clients.get(name)!;
      while (!stop.signal.aborted) {
        const r = await me.call('POST', '/api/reads/next', { pools: [pool] });
        if (stop.signal.aborted) return;
        if (r.status === 204) {
          await clk.sleepSim(IDLE_POLL_SIM_MS);
          continue;
        }
        if (r.status !== 200) {
          note(name, 'reads/next failed', { status: r.status, body: r.text.slice(0, 300) });
          await clk.sleepSim(IDLE_POLL_SIM_MS);
          continue;
        }
        const claimedAt = clk.now();
        const caseId = r.json.case.caseId as string;
        const s = byCase.get(caseId);
        if (!s) {
          note(name, 'claimed a case the simulation did not submit', { caseId });
          await me.call('POST', `/api/reads/${caseId}/release`);
          continue;
        }
        if (s.signed) note(name, 'claimed a case that was already signed', { caseId });
        if (s.caseId !== caseId) {
          note(name, `claimed ${caseId}, an abandoned submission of this study that the server had stored; reading it`, { caseId });
          if (s.caseId) s.superseded = s.caseId;
          s.caseId = caseId;
          s.rejected = undefined;
          s.done = false;
          finished = Math.max(0, finished - 1);
        }
        if (stuck.has(caseId)) {
          // Known unsignable (see below): leave the lease to lapse so the rest of the queue gets read.
          s.stuckClaims = (s.stuckClaims ?? 0) + 1;
          continue;
        }
        s.calls.claim = r.ms;
        s.reader = name;
        s.autoFlags = (r.json.case.ecg?.flags as string[] | undefined) ?? [];
        const leaseMs = Math.max(30_000, Date.parse(r.json.lease.expiresAt as string) - claimedAt);
        // The viewer loads the study while the reader starts reading (part of the reading time).
        const viewing = (async () => {
          const v = await me.bytes(`/api/cases/${caseId}/instances/0`);
          s.view = v.ms;
          if (v.status !== 200) note(name, 'viewer could not load the instance', { caseId, status: v.status, body: v.error });
        })();
        const readUntil = claimedAt + s.plan.readMin * MIN;
        let extendedAt = claimedAt;
        let lost = false;
        while (clk.now() < readUntil) {
          const next = Math.min(readUntil, extendedAt + leaseMs / 3);
          if (!(await clk.until(next))) return;
          if (clk.now() < readUntil - 1000) {
            const hb = await me.call('POST', `/api/reads/${caseId}/heartbeat`);
            s.heartbeats++;
            s.heartbeatMs.push(hb.ms);
            if (hb.status !== 200) {
              note(name, 'heartbeat failed: lease lost while reading', { caseId, status: hb.status, body: hb.text.slice(0, 300) });
              lost = true;
              break;
            }
            extendedAt = clk.now();
          }
        }
        await viewing;
        if (lost) continue;
        // About to draft and sign: extend the lease first if less than half of it is left.
        if (clk.now() - extendedAt > leaseMs / 2) {
          const hb = await me.call('POST', `/api/reads/${caseId}/heartbeat`);
          s.heartbeats++;
          s.heartbeatMs.push(hb.ms);
          if (hb.status !== 200) {
            note(name, 'heartbeat before signing failed: lease lost', { caseId, status: hb.status, body: hb.text.slice(0, 300) });
            continue;
          }
        }
        const giveBack = async () => {
          const rel = await me.call('POST', `/api/reads/${caseId}/release`);
          if (rel.status !== 200 && rel.status !== 409) note(name, 'release failed', { caseId, status: rel.status, body: rel.text.slice(0, 300) });
        };
        const text = s.plan.critical ? CRITICAL_TEXT : REPORT_TEXT[pool]!;
        const d = await me.call('PUT', `/api/cases/${caseId}/report`, { ...text, critical: s.plan.critical, language: 'zh-CN' });
        s.calls.draft = d.ms;
        if (d.status !== 200) {
          note(name, 'draft refused', { caseId, status: d.status, body: d.text.slice(0, 300) });
          await giveBack();
          continue;
        }
        let g = await me.call('POST', `/api/cases/${caseId}/report/sign`, { pin: PIN });
        s.calls.sign = g.ms;
        if (g.status === 0) {
          // The answer was lost: the case tells whether the signature was applied.
          const c = await me.call('GET', `/api/cases/${caseId}`);
          note(name, `sign: transport error; the case is now ${c.json?.status}`, { caseId, body: g.text.slice(0, 300) });
          if (c.status === 200 && ['SIGNED', 'DELIVERED', 'ACKNOWLEDGED'].includes(c.json.status)) g = { ...g, status: 200 };
        }
        if (g.status !== 200) {
          note(name, 'sign refused', { caseId, status: g.status, body: g.text.slice(0, 300) });
          if (g.json?.error?.code === 'REPORT.VERSION_EXISTS') {
            // The case cannot be signed any more: releasing it would hand it straight back (oldest first).
            // It is counted as finished (unsignable) so the day can end; the summary lists it as unfinished.
            stuck.add(caseId);
            s.unsignable = true;
            finish(s);
            continue;
          }
          await giveBack();
          continue;
        }
        s.signed = true;
        void acknowledge(s);
      }
    };

    // ── the administrator watches the backlog every 5 simulated minutes ──
    const maxWaiting: Record<string, number> = {};
    const maxOldest: Record<string, number> = {};
    const watchBacklog = async () => {
      while (await clk.sleepSim(5 * MIN)) {
        const r = await admin.call('GET', '/api/metrics/backlog');
        if (r.status !== 200) {
          note(admin.who, 'backlog failed', { status: r.status, body: r.text.slice(0, 300) });
          continue;
        }
        for (const p of r.json.pools as { pool: string; waiting: number; oldestWaitingMs: number | null }[]) {
          maxWaiting[p.pool] = Math.max(maxWaiting[p.pool] ?? 0, p.waiting);
          maxOldest[p.pool] = Math.max(maxOldest[p.pool] ?? 0, (p.oldestWaitingMs ?? 0) / MIN);
        }
      }
    };

    const dayWall0 = performance.now();
    loopDelay.enable();
    const tasks = [
      ...runs.map((s) => submit(s).catch((e: unknown) => note(s.technician, `submit flow crashed: ${(e as Error).message}`))),
      ...users.readers.map((r) => reader(r.username, r.pool).catch((e: unknown) => note(r.username, `reader crashed: ${(e as Error).message}`))),
      watchBacklog().catch((e: unknown) => note(admin.who, `backlog watch crashed: ${(e as Error).message}`)),
    ];
    const wallLeft = Math.max(1000, o.maxWallMs - (performance.now() - wall0) - 15_000);
    const endedBecause = await Promise.race([
      allDonePromise.then(() => 'every study finished'),
      clk.until(dayEnd).then(() => 'end of the simulated day'),
      sleep(wallLeft, undefined, { signal: stop.signal }).then(
        () => 'real-time cap reached',
        () => 'stopped',
      ),
    ]);
    const simEnd = clk.now();
    loopDelay.disable();
    stop.abort();
    await Promise.race([Promise.all(tasks), sleep(5000)]);
    const dayMs = performance.now() - dayWall0;
    log(`Simulated ${new Date(simAtDay0).toISOString()} → ${new Date(simEnd).toISOString()} in ${(dayMs / 1000).toFixed(1)} s of wall time (${endedBecause}).`);

    // ── collect the server's own timelines ──
    const collect0 = performance.now();
    const views = new Map<string, Json>();
    const ids = [...new Set(runs.flatMap((s) => [...(s.caseId ? [s.caseId] : []), ...s.abandoned, ...(s.superseded ? [s.superseded] : [])]))];
    for (let i = 0; i < ids.length; i += 8) {
      await Promise.all(
        ids.slice(i, i + 8).map(async (id) => {
          const r = await admin.call('GET', `/api/cases/${id}`);
          if (r.status === 200) views.set(id, r.json);
          else note(admin.who, 'GET case failed at collection', { caseId: id, status: r.status, body: r.text.slice(0, 300) });
        }),
      );
    }
    // A case that never became SIGNED should have no signed report; one that has is evidence of a lost sign.
    for (const id of ids) {
      const v = views.get(id);
      if (!v || (v.events as Json[]).some((e) => e.status === 'SIGNED')) continue;
      const r = await admin.call('GET', `/api/cases/${id}/report`);
      if (r.status === 200) {
        note(admin.who, `case is ${v.status} (never SIGNED) yet GET /report answers a signed version ${r.json?.report?.version} by ${r.json?.report?.signer?.id ?? '?'}`, { caseId: id, status: 200 });
      }
    }
    const range = `from=${encodeURIComponent(new Date(dayStart - 3600_000).toISOString())}&to=${encodeURIComponent(new Date(clk.now() + MIN).toISOString())}`;
    const byPool = await admin.call('GET', `/api/metrics/turnaround?groupBy=pool&${range}`);
    const byPriority = await admin.call('GET', `/api/metrics/turnaround?groupBy=priority&${range}`);
    const csv = await admin.call('GET', `/api/metrics/turnaround?groupBy=pool&format=csv&${range}`);
    const collectMs = performance.now() - collect0;

    const summary = analyse({ o, runs, views, anomalies, files, byPool, byPriority, csv, maxWaiting, maxOldest, dayStart, dayEnd });
    summary.wall = { setupMs, dayMs, collectMs, totalMs: performance.now() - wall0 };
    summary.machine = { cpus: availableParallelism(), loadAverageAtStart: load0.map((x) => Math.round(x * 100) / 100), loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) };
    summary.machine.simulatorEventLoopDelayMs = {
      p50: Math.round(loopDelay.percentile(50) / 1e4) / 100,
      p99: Math.round(loopDelay.percentile(99) / 1e4) / 100,
      max: Math.round(loopDelay.max / 1e4) / 100,
    };
    summary.requests = Object.fromEntries([...requestCounts.entries()].sort((x, y) => y[1] - x[1]));
    summary.server.pid = server.pid;
    summary.server.dataDir = dataDir;
    summary.server.leaseSeconds = o.leaseSeconds ?? leaseSecondsFor(o.scale);
    summary.server.sweepMs = Math.max(50, Math.min(60_000, Math.floor(MIN / o.scale)));
    summary.simulated = { start: new Date(simAtDay0).toISOString(), end: new Date(simEnd).toISOString(), hours: (simEnd - simAtDay0) / 3600_000, endedBecause };
    log('');
    log(summary.table);
    log('');
    log(
      `Wall time: setup ${(setupMs / 1000).toFixed(1)} s, day ${(dayMs / 1000).toFixed(1)} s, collection ${(collectMs / 1000).toFixed(1)} s, total ${(summary.wall.totalMs / 1000).toFixed(1)} s ` +
        `(${summary.machine.cpus} CPUs, load average ${summary.machine.loadAverageAtStart[0]} at start, ${summary.machine.loadAverageAtEnd[0]} at end; ` +
        `simulator event-loop delay p99 ${summary.machine.simulatorEventLoopDelayMs!.p99} ms, max ${summary.machine.simulatorEventLoopDelayMs!.max} ms).`,
    );
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileSync(o.out, JSON.stringify(summary, null, 2) + '\n');
    log(`Summary written to ${o.out}`);
    return summary;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stop.abort();
    if (server) await server.stop().catch(() => undefined);
    if (o.keepData) log(`Data directory kept: ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

// ───────────────────────────── analysis ─────────────────────────────

const firstAt = (events: Json[], s: string): number | null => {
  const e = events.find((x) => x.status === s);
  return e ? Date.parse(e.at as string) : null;
};

function analyse(a: {
  o: SimOptions;
  runs: StudyRun[];
  views: Map<string, Json>;
  anomalies: Anomaly[];
  files: SimSummary['files'];
  byPool: Reply;
  byPriority: Reply;
  csv: Reply;
  maxWaiting: Record<string, number>;
  maxOldest: Record<string, number>;
  dayStart: number;
  dayEnd: number;
}): SimSummary {
  const { o, runs, views } = a;
  const scale = o.scale;
  interface Row {
    s: StudyRun;
    v: Json;
    pool: string;
    prio: Priority;
    wait: number | null;
    read: number | null;
    e2e: number | null;
    queuedToSigned: number | null;
    overhead: number | null;
    comp: Record<string, number>;
  }
  const rows: Row[] = [];
  for (const s of runs) {
    const v = s.caseId ? views.get(s.caseId) : undefined;
    if (!v) continue;
    const ev = v.events as Json[];
    const queued = firstAt(ev, 'QUEUED');
    const claimed = firstAt(ev, 'CLAIMED');
    const signed = firstAt(ev, 'SIGNED');
    const delivered = firstAt(ev, 'DELIVERED');
    const lastClaim = signed === null ? null : ev.filter((e) => e.status === 'CLAIMED' && Date.parse(e.at) <= signed).map((e) => Date.parse(e.at)).at(-1) ?? null;
    const upload = v.uploadCompletedAt ? Date.parse(v.uploadCompletedAt as string) : queued;
    const warn = (v.escalations as Json[]).find((e) => e.kind === 'sla-warning');
    const prio = ((warn?.fromPriority as Priority | undefined) ?? (v.priority as Priority)) as Priority;
    const comp: Record<string, number> = {};
    for (const [k, ms] of Object.entries(s.calls)) if (typeof ms === 'number') comp[k] = ms;
    if (queued !== null && upload !== null) comp.ingestLag = (queued - upload) / scale;
    if (delivered !== null && signed !== null) comp.deliveryLag = (delivered - signed) / scale;
    const complete = s.signed && delivered !== null && ['submit', 'upload', 'claim', 'draft', 'sign', 'ingestLag', 'deliveryLag'].every((k) => k in comp);
    rows.push({
      s,
      v,
      pool: (v.pool as string | null) ?? POOL_OF[s.plan.kind],
      prio,
      wait: queued !== null && claimed !== null ? claimed - queued : null,
      read: lastClaim !== null && signed !== null ? signed - lastClaim : null,
      e2e: upload !== null && signed !== null ? signed - upload : null,
      queuedToSigned: queued !== null && signed !== null ? signed - queued : null,
      overhead: complete ? Object.values(comp).reduce((x, y) => x + y, 0) : null,
      comp,
    });
  }
  const toMin = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null).map((x) => x / MIN);

  // ── per pool × priority ──
  const groups: GroupStats[] = [];
  for (const pool of POOLS) {
    for (const prio of ['stat', 'urgent', 'routine'] as const) {
      const g = rows.filter((r) => r.pool === pool && r.prio === prio);
      if (!g.length) continue;
      const breach = slaTarget(DEFAULT_SLA, pool, prio).breachMinutes;
      const signed = g.filter((r) => r.queuedToSigned !== null);
      groups.push({
        pool,
        priority: prio,
        count: g.length,
        signed: signed.length,
        waitMin: dist(toMin(g.map((r) => r.wait))),
        readMin: dist(toMin(g.map((r) => r.read))),
        uploadToSignedMin: dist(toMin(g.map((r) => r.e2e))),
        slaBreachMin: breach,
        slaCompliance: signed.length ? signed.filter((r) => r.queuedToSigned! <= breach * MIN).length / signed.length : null,
      });
    }
  }

  // ── the administrator's question ──
  const statEcg = rows.filter((r) => r.pool === 'ecg' && r.prio === 'stat');
  const se = dist(toMin(statEcg.map((r) => r.e2e)));
  const sq = dist(toMin(statEcg.map((r) => r.queuedToSigned)));
  const meets = se.n > 0 && se.p90 !== null && se.p99 !== null && se.p90 <= 10 && se.p99 <= 10;
  const nEcg = o.readers.ecg;
  const answer =
    se.n === 0
      ? `No STAT ECG was signed in this run, so the question has no answer from it.`
      : `With ${nEcg} ECG reader${nEcg === 1 ? '' : 's'} on duty: ${meets ? 'YES' : 'NO'} — STAT ECG upload→signed p90 ${se.p90!.toFixed(1)} min, p99 ${se.p99!.toFixed(1)} min ` +
        `against the 10-minute target (n=${se.n}; ${statEcg.filter((r) => r.e2e !== null && r.e2e <= 10 * MIN).length}/${se.n} within 10 min). ` +
        `Reader side alone (queued→signed): p90 ${sq.p90!.toFixed(1)} min, p99 ${sq.p99!.toFixed(1)} min.`;

  // ── critical results ──
  const crit = rows.filter((r) => r.v.criticalResult);
  const minutesToAck = crit
    .filter((r) => r.v.criticalResult.receivedAt)
    .map((r) => (Date.parse(r.v.criticalResult.receivedAt) - Date.parse(r.v.criticalResult.notifiedAt)) / MIN);
  const escalatedCases = crit.filter((r) => (r.v.escalations as Json[]).some((e) => e.kind === 'critical-unacknowledged'));
  const acr = (cr: Json) => ['finding', 'identifiedAt', 'readerId', 'receiver', 'receivedAt', 'method'].every((k) => typeof cr[k] === 'string' && cr[k] !== '');
  const critical = {
    planned: runs.filter((s) => s.plan.critical).length,
    withCriticalResult: crit.length,
    acknowledged: minutesToAck.length,
    acknowledgedWithin5Min: minutesToAck.filter((m) => m <= 5).length,
    escalated: escalatedCases.length,
    openEscalations: escalatedCases.filter((r) => !r.v.criticalResult.receivedAt).length,
    acrFieldsComplete: crit.filter((r) => acr(r.v.criticalResult)).length,
    minutesToAck: minutesToAck.map((m) => Math.round(m * 10) / 10),
    autoFlagged: rows.filter((r) => (r.v.events as Json[]).some((e) => e.reason === 'ecg-auto-flag')).length,
  };
  for (const s of runs) {
    if (s.plan.critical && s.caseId && !crit.some((r) => r.s === s)) a.anomalies.push({ at: '', who: 'analysis', what: 'planned critical result has no criticalResult record', caseId: s.caseId });
  }
  const allEsc = rows.flatMap((r) => r.v.escalations as Json[]);
  const escalations = {
    slaWarnings: allEsc.filter((e) => e.kind === 'sla-warning').length,
    slaBreaches: allEsc.filter((e) => e.kind === 'sla-breach').length,
    criticalUnacknowledged: allEsc.filter((e) => e.kind === 'critical-unacknowledged').length,
  };

  // ── overhead ──
  const ov = rows.map((r) => r.overhead).filter((x): x is number => x !== null);
  const components: Record<string, Dist> = {};
  for (const k of ['submit', 'upload', 'claim', 'draft', 'sign', 'ingestLag', 'deliveryLag']) components[k] = dist(rows.map((r) => r.comp[k]).filter((x): x is number => x !== undefined));
  components.heartbeat = dist(rows.flatMap((r) => r.s.heartbeatMs));
  components.viewInstance = dist(rows.map((r) => r.s.view).filter((x): x is number => x !== undefined));
  const perCase = dist(ov);
  const overheadMs = { perCase, components, targetP99Ms: 1000, meets: perCase.p99 !== null && perCase.p99 < 1000 };

  // ── outcome ──
  const st = (s: string) => rows.filter((r) => r.v.status === s).length;
  const reached = (s: string) => rows.filter((r) => (r.v.events as Json[]).some((e) => e.status === s)).length;
  const unfinished = runs
    .filter((s) => !s.acknowledged && !s.rejected)
    .map((s) => `${s.caseId ?? `study#${s.plan.index}`}:${s.caseId ? (views.get(s.caseId)?.status ?? '?') : 'not submitted'}`);
  const outcome = {
    studies: runs.length,
    submitted: runs.filter((s) => s.caseId).length,
    queued: reached('QUEUED'),
    signed: reached('SIGNED'),
    delivered: reached('DELIVERED'),
    acknowledged: st('ACKNOWLEDGED'),
    rejected: st('REJECTED'),
    unfinished,
  };

  // ── arrivals ──
  const perLocalHour: Record<string, number> = {};
  for (const s of runs) {
    const h = Math.floor(o.dayStartHour + s.plan.arrivalMin / 60);
    perLocalHour[`${String(h).padStart(2, '0')}:00`] = (perLocalHour[`${String(h).padStart(2, '0')}:00`] ?? 0) + 1;
  }
  const lates = runs.map((s) => s.lateMin ?? 0);
  const arrivals = {
    perLocalHour,
    peakPerHour: Math.max(0, ...Object.values(perLocalHour)),
    lateSubmissions: lates.filter((m) => m > 1).length,
    maxLateMin: Math.round(Math.max(0, ...lates) * 10) / 10,
  };

  // ── cross-check our per-case figures against the server's turnaround API ──
  const crossCheck: string[] = [];
  if (a.byPool.status === 200) {
    // Every case the simulation created (abandoned submissions included), as the server counts them.
    const all = [...views.values()].filter((v) => v.status !== 'REJECTED' && v.status !== 'AWAITING_FILES');
    for (const row of a.byPool.json.rows as Json[]) {
      const waits = all
        .filter((v) => v.pool === row.group)
        .map((v) => {
          const q = firstAt(v.events as Json[], 'QUEUED');
          const c = firstAt(v.events as Json[], 'CLAIMED');
          return q !== null && c !== null ? c - q : null;
        })
        .filter((x): x is number => x !== null);
      const waitP50 = dist(waits).p50;
      const server = row.segments.wait.p50Ms as number | null;
      const ok = waitP50 === server;
      crossCheck.push(`${row.group}: server wait p50 ${server} ms, from case timelines ${waitP50} ms → ${ok ? 'match' : 'MISMATCH'}; server SLA compliance ${row.slaCompliance === null ? '–' : (row.slaCompliance * 100).toFixed(1) + '%'}`);
      if (!ok) a.anomalies.push({ at: '', who: 'analysis', what: `turnaround API disagrees with case timelines for pool ${row.group}: ${server} vs ${waitP50}` });
    }
  } else a.anomalies.push({ at: '', who: 'analysis', what: 'GET /api/metrics/turnaround failed', status: a.byPool.status, body: a.byPool.text.slice(0, 300) });
  const csvLines = a.csv.status === 200 ? a.csv.text.trim().split('\n').length : 0;
  if (a.csv.status !== 200) a.anomalies.push({ at: '', who: 'analysis', what: 'turnaround CSV failed', status: a.csv.status });

  // ── the table ──
  const pctStr = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(0)}%`);
  const t = table(
    ['pool', 'priority', 'n', 'signed', 'queued→claimed p50/p90/p99', 'claimed→signed p50/p90/p99', 'upload→signed p50/p90/p99', 'SLA (breach)', 'in SLA'],
    groups.map((g) => [
      g.pool,
      g.priority,
      String(g.count),
      String(g.signed),
      triple(g.waitMin),
      triple(g.readMin),
      triple(g.uploadToSignedMin),
      `${g.slaBreachMin} min`,
      pctStr(g.slaCompliance),
    ]),
  );
  const c = overheadMs.components;
  const f0 = (x: number | null) => (x === null ? '–' : x.toFixed(0));
  const lines = [
    `Turnaround per pool × priority (simulated minutes, from the server's case timelines; priority = the one whose SLA applies; SLA = queued→signed within the breach point)`,
    t,
    '',
    `STAT ECG (10-minute target): ${answer}`,
    `Critical results: ${critical.withCriticalResult} (planned ${critical.planned}, auto-flagged at ingest ${critical.autoFlagged}); acknowledged with read-back ${critical.acknowledged} ` +
      `(${critical.acknowledgedWithin5Min} within 5 min; minutes ${critical.minutesToAck.join(', ') || '–'}); escalated ${critical.escalated} ` +
      `(${escalations.criticalUnacknowledged} escalation alerts), still open ${critical.openEscalations}; all six ACR fields on ${critical.acrFieldsComplete}/${critical.withCriticalResult}.`,
    `SLA escalations recorded: ${escalations.slaWarnings} warnings, ${escalations.slaBreaches} breaches.`,
    `Outcome: ${outcome.studies} studies, ${outcome.submitted} submitted, ${outcome.signed} signed, ${outcome.delivered} delivered, ${outcome.acknowledged} acknowledged, ${outcome.rejected} rejected, ${outcome.unfinished.length} unfinished.`,
    `System overhead per case (real ms: submit+upload+next+draft+sign calls + ingest and delivery lags ÷ scale): p50 ${f0(perCase.p50)}, p90 ${f0(perCase.p90)}, p99 ${f0(perCase.p99)}, max ${f0(perCase.max)} ` +
      `(n=${perCase.n}; target p99 < 1000 ms: ${overheadMs.meets ? 'met' : 'NOT met'}).`,
    `  components p50/p99 ms: ${Object.entries(c)
      .map(([k, d]) => `${k} ${f0(d.p50)}/${f0(d.p99)}`)
      .join(', ')}`,
    `Arrivals: peak ${arrivals.peakPerHour}/h (${Object.entries(perLocalHour)
      .map(([h, n]) => `${h} ${n}`)
      .join(', ')}); ${arrivals.lateSubmissions} submitted >1 simulated min late (max ${arrivals.maxLateMin} min).`,
    `Backlog peak (waiting): ${POOLS.map((p) => `${p} ${a.maxWaiting[p] ?? 0} (oldest ${(a.maxOldest[p] ?? 0).toFixed(1)} min)`).join(', ')}.`,
    `Cross-check with GET /api/metrics/turnaround: ${crossCheck.join('; ') || '–'}; CSV ${csvLines} lines.`,
    a.anomalies.length ? `Anomalies (${a.anomalies.length}): ${a.anomalies.slice(0, 8).map((x) => `[${x.who}] ${x.what}${x.status ? ` (${x.status})` : ''}${x.caseId ? ` ${x.caseId}` : ''}`).join('; ')}` : 'Anomalies: none.',
  ];

  return {
    options: (({ log: _log, ...rest }) => rest)(o),
    files: a.files,
    readingTime: READING_TIME,
    arrivals,
    wall: { setupMs: 0, dayMs: 0, collectMs: 0, totalMs: 0 },
    machine: { cpus: 0, loadAverageAtStart: [], loadAverageAtEnd: [] },
    simulated: { start: '', end: '', hours: 0, endedBecause: '' },
    outcome,
    groups,
    statEcg: { n: se.n, p90Min: se.p90, p99Min: se.p99, queuedToSignedP90Min: sq.p90, queuedToSignedP99Min: sq.p99, targetMin: 10, meets, answer },
    critical,
    escalations,
    overheadMs,
    backlog: { maxWaiting: a.maxWaiting, maxOldestWaitingMin: a.maxOldest },
    server: { turnaroundByPool: a.byPool.json, turnaroundByPriority: a.byPriority.json, csvLines, crossCheck },
    anomalies: a.anomalies,
    table: lines.join('\n'),
    cases: rows.map((r) => ({
      caseId: r.s.caseId,
      kind: r.s.plan.kind,
      clinic: r.s.technician,
      requestedPriority: r.s.plan.priority,
      slaPriority: r.prio,
      critical: r.s.plan.critical,
      readMin: Math.round(r.s.plan.readMin * 100) / 100,
      plannedAckDelayMin: Math.round(r.s.plan.ackDelayMin * 100) / 100,
      unsignable: r.s.unsignable ?? false,
      reader: r.s.reader,
      status: r.v.status,
      uploadCompletedAt: r.v.uploadCompletedAt,
      events: r.v.events,
      escalations: r.v.escalations,
      heartbeats: r.s.heartbeats,
      overheadMs: r.overhead === null ? null : Math.round(r.overhead),
      overheadComponentsMs: Object.fromEntries(Object.entries(r.comp).map(([k, v]) => [k, Math.round(v * 10) / 10])),
    })),
  };
}

export { ARRIVAL_PROFILE };
