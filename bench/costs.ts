/**
 * Per-case costs for the scale estimate (docs/PERFORMANCE.md "Scale on paper"): every study goes
 * through its whole life through the public API, one step at a time, on a server that counts its
 * port calls (BENCH_COUNT_PORTS) and reports its CPU time; production scrypt cost (N = 2^15).
 * For each step: server CPU ms and the port calls it made (CaseRepository, BlobStore, queues, audit,
 * notifier…) — the same use-case code calls the same ports on AWS, one DynamoDB/S3/SQS request each
 * (or a known few), which is how the AWS request counts are derived. Also the bytes per case.
 */
import { syntheticCrDx, syntheticEcg, syntheticUltrasound } from '../shared/synth/studies.ts';
import { Client, httpRequest } from './lib/client.ts';
import { startServerProcess, type ServerProcess } from './lib/server-process.ts';
import { round } from './lib/stats.ts';
import { median } from './compare.ts';

export interface StepCost {
  step: string;
  cpuMs: number;
  calls: Record<string, number>;
}

export interface KindCost {
  kind: string;
  cases: number;
  fileBytes: number;
  /** Size of the case record as GET /api/cases/{id} returns it (≈ the DynamoDB item's doc). */
  caseJsonBytes: number;
  reportJsonBytes: number;
  pdfBytes: number;
  /** Median over the cases of each step. */
  steps: StepCost[];
  totalCpuMs: number;
  totalCalls: Record<string, number>;
}

const KINDS = {
  ecg: (seed: number) => syntheticEcg({ seed }).bytes,
  dx: (seed: number) => syntheticCrDx({ seed, modality: 'DX', rows: 2500, columns: 2000 }).bytes,
  us: (seed: number) => syntheticUltrasound({ seed }).bytes,
  'us-cine': (seed: number) => syntheticUltrasound({ seed, frames: 60 }).bytes,
} as const;
const READER = { ecg: 'ecg-reader', dx: 'rad-reader', us: 'rad-reader', 'us-cine': 'rad-reader' } as const;

/** Private helpers of the local adapters that the method wrapper also sees; not port calls. */
const INTERNAL = new Set(['cases.row', 'blobs.pathOf', 'blobs.ensureDir', 'blobs.tempPath', 'blobs.commit', 'blobs.openForRead', 'audit.flush', 'readQueue.current', 'jobQueue.current']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(srv: ServerProcess, step: string, f: () => Promise<void>, settleMs = 0): Promise<StepCost> {
  await srv.resetPeak();
  await f();
  if (settleMs) await sleep(settleMs);
  const st = await srv.stats();
  const calls = Object.fromEntries(Object.entries(st.portCalls ?? {}).filter(([k]) => !INTERNAL.has(k)));
  return { step, cpuMs: round(st.cpuUserMs + st.cpuSystemMs, 2), calls };
}

export async function perCaseCosts(opts: { perKind: number }): Promise<KindCost[]> {
  const srv = await startServerProcess({ countPorts: true, env: { TELEREAD_SCRYPT_LOG_N: '15' } });
  try {
    const tech = await Client.login(srv.url, 'tech-a');
    const readers = { 'ecg-reader': await Client.login(srv.url, 'ecg-reader'), 'rad-reader': await Client.login(srv.url, 'rad-reader') };
    const out: KindCost[] = [];
    let seq = 0;
    // The first pass (one case of each kind) is a warm-up and is not counted.
    for (const kind of ['ecg', 'dx', 'us', 'us-cine', 'ecg', 'dx', 'us', 'us-cine'] as const) {
      const warm = seq < 4;
      const n = warm ? 1 : opts.perKind;
      const runs: StepCost[][] = [];
      let caseJson = 0;
      let reportJson = 0;
      let pdf = 0;
      const fileBytes = KINDS[kind](900 + seq).length;
      for (let i = 0; i < n; i++) {
        const bytes = KINDS[kind](1000 * (seq + 1) + i);
        const reader = readers[READER[kind]];
        const steps: StepCost[] = [];
        let sub!: Awaited<ReturnType<Client['submit']>>;
        steps.push(await measure(srv, 'POST /api/submissions', async () => void (sub = await tech.submit([{ name: `${kind}.dcm`, size: bytes.length }], seq * 100 + i, 'routine'))));
        steps.push(
          await measure(srv, 'PUT upload + ingest job', async () => {
            await tech.upload(sub.uploads[0]!, { bytes });
            for (let t = 0; t < 200; t++) {
              const st = await srv.stats();
              if (st.ingestMs.length >= 1) break;
              await sleep(20);
            }
          }, 100),
        );
        const c0 = await tech.getCase(sub.caseId);
        if (c0.status !== 'QUEUED') throw new Error(`${kind}: ${c0.status} ${JSON.stringify(c0.rejection)}`);
        steps.push(await measure(srv, 'GET worklist (reader)', async () => void (await reader.call('GET', `/api/cases?status=QUEUED&limit=50`))));
        steps.push(
          await measure(srv, 'POST /api/reads/next', async () => {
            const r = await reader.call('POST', '/api/reads/next', {});
            if (r.status !== 200 || r.json.case.caseId !== sub.caseId) throw new Error(`reads/next: ${r.status} ${r.json?.case?.caseId} ≠ ${sub.caseId}`);
          }),
        );
        steps.push(await measure(srv, 'GET case (reader)', async () => void (await reader.call('GET', `/api/cases/${sub.caseId}`))));
        steps.push(
          await measure(srv, 'GET instance bytes', async () => {
            const r = await httpRequest(`${srv.url}/api/cases/${sub.caseId}/instances/0`, 'GET', { headers: { authorization: `Bearer ${reader.token}` } });
            if (r.status !== 200) throw new Error(`instance: ${r.status}`);
          }),
        );
        steps.push(await measure(srv, 'POST heartbeat', async () => void (await reader.call('POST', `/api/reads/${sub.caseId}/heartbeat`))));
        steps.push(
          await measure(srv, 'PUT report draft', async () => {
            const r = await reader.call('PUT', `/api/cases/${sub.caseId}/report`, { findings: '所见：未见明显异常。', impression: '印象：正常。', critical: false });
            if (r.status !== 200) throw new Error(`draft: ${r.status} ${r.text.slice(0, 200)}`);
          }),
        );
        steps.push(
          await measure(srv, 'POST sign + delivery job', async () => {
            const r = await reader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: '246810' });
            if (r.status !== 200) throw new Error(`sign: ${r.status} ${r.text.slice(0, 200)}`);
            reportJson = JSON.stringify(r.json.report).length + r.json.jws.length;
            for (let t = 0; t < 200; t++) {
              if ((await srv.stats()).portCalls?.['notifier.notify']) break;
              await sleep(20);
            }
          }, 300),
        );
        steps.push(await measure(srv, 'GET case (clinic)', async () => void (caseJson = (await tech.call('GET', `/api/cases/${sub.caseId}`)).text.length)));
        steps.push(
          await measure(srv, 'GET report PDF (clinic)', async () => {
            const r = await httpRequest(`${srv.url}/api/cases/${sub.caseId}/report?format=pdf`, 'GET', { headers: { authorization: `Bearer ${tech.token}` } });
            pdf = Buffer.byteLength(r.text, 'latin1');
          }),
        );
        steps.push(
          await measure(srv, 'POST acknowledge', async () => {
            const r = await tech.call('POST', `/api/cases/${sub.caseId}/acknowledge`, {});
            if (r.status !== 200) throw new Error(`ack: ${r.status} ${r.text.slice(0, 200)} (status ${(await tech.getCase(sub.caseId)).status})`);
          }),
        );
        runs.push(steps);
      }
      seq++;
      if (warm) continue;
      const steps: StepCost[] = runs[0]!.map((s0, k) => {
        const calls: Record<string, number> = {};
        for (const key of new Set(runs.flatMap((r) => Object.keys(r[k]!.calls)))) calls[key] = median(runs.map((r) => r[k]!.calls[key] ?? 0));
        return { step: s0.step, cpuMs: round(median(runs.map((r) => r[k]!.cpuMs)), 1), calls };
      });
      const totalCalls: Record<string, number> = {};
      for (const s of steps) for (const [k, v] of Object.entries(s.calls)) totalCalls[k] = (totalCalls[k] ?? 0) + v;
      out.push({
        kind,
        cases: n,
        fileBytes,
        caseJsonBytes: caseJson,
        reportJsonBytes: reportJson,
        pdfBytes: pdf,
        steps,
        totalCpuMs: round(steps.reduce((a, s) => a + s.cpuMs, 0), 1),
        totalCalls,
      });
    }
    return out;
  } finally {
    await srv.stop();
  }
}
