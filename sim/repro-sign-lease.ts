/**
 * Reproduces, through the public HTTP API, a sign whose lease runs out while the report is being
 * sealed: `npx tsx sim/repro-sign-lease.ts`. The server stores report version 1 before it checks the
 * lease, answers LEASE.LOST, and from then on every signature of the case is refused with
 * REPORT.VERSION_EXISTS, while GET /report already serves the orphaned (here: critical) version.
 * Uses a short lease on a 50× clock so the race is reached on every run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { syntheticEcg } from '../shared/synth/studies.ts';
import { provisionConsortium, simUsers } from './provision.ts';
import { startServer } from './server.ts';

const PASSWORD = 'teleread-sim-password';
const PIN = '135790';

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'teleread-repro-'));
  const users = simUsers(1, { ecg: 1, radiography: 1, ultrasound: 1 });
  await provisionConsortium(dataDir, users, { password: PASSWORD, pin: PIN, scryptLogN: 12 });
  // Lease 10 simulated seconds = 200 ms of real time on a 50× clock; the sweeper every 50 ms.
  const server = await startServer({
    dataDir,
    env: { TELEREAD_TIME_SCALE: '50', TELEREAD_LEASE_SECONDS: '10', TELEREAD_SWEEP_MS: '50', TELEREAD_LOG: 'silent', TELEREAD_SCRYPT_LOG_N: '12' },
  });
  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : null };
  };
  const login = async (username: string) => {
    const r = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }) });
    return ((await r.json()) as { token: string }).token;
  };
  try {
    const tech = await login(users.technicians[0]!.username);
    const reader = await login('ecg-reader-1');
    for (let attempt = 1; attempt <= 5; attempt++) {
      const f = syntheticEcg({ seed: 900 + attempt, heartRate: 31 });
      const sub = await call(tech, 'POST', '/api/submissions', {
        patient: { id: `P-${attempt}`, name: 'Repro^Case' },
        consent: { obtained: true },
        priority: 'stat',
        files: [{ name: 'ecg.dcm', size: f.bytes.length }],
      });
      const caseId = sub.json.caseId as string;
      const u = sub.json.uploads[0];
      await fetch(u.url, { method: 'PUT', headers: u.headers, body: f.bytes as Uint8Array<ArrayBuffer> });
      let claimed = false;
      for (let i = 0; i < 200 && !claimed; i++) {
        const n = await call(reader, 'POST', '/api/reads/next', { pools: ['ecg'] });
        if (n.status === 200 && n.json.case.caseId === caseId) claimed = true;
        else await sleep(20);
      }
      if (!claimed) throw new Error('could not claim the case');
      await call(reader, 'PUT', `/api/cases/${caseId}/report`, { findings: 'HR 31', impression: 'CRITICAL: profound bradycardia', critical: true });
      await call(reader, 'POST', `/api/reads/${caseId}/heartbeat`);
      await sleep(120); // 80 ms of the 200 ms lease left when signing starts
      const first = await call(reader, 'POST', `/api/cases/${caseId}/report/sign`, { pin: PIN });
      process.stdout.write(`attempt ${attempt}: first sign → ${first.status} ${first.json?.error?.code ?? `version ${first.json?.version}`}\n`);
      if (first.status !== 409 || first.json?.error?.code !== 'LEASE.LOST') continue;
      const c1 = await call(reader, 'GET', `/api/cases/${caseId}`);
      const rep = await call(reader, 'GET', `/api/cases/${caseId}/report`);
      process.stdout.write(`  case ${caseId} is ${c1.json.status}; GET /report → ${rep.status}, version ${rep.json?.report?.version}, critical ${rep.json?.report?.critical}, signer ${rep.json?.report?.signer?.id}\n`);
      for (let i = 0; i < 200; i++) {
        const n = await call(reader, 'POST', '/api/reads/next', { pools: ['ecg'] });
        if (n.status === 200 && n.json.case.caseId === caseId) break;
        await sleep(20);
      }
      await call(reader, 'PUT', `/api/cases/${caseId}/report`, { findings: 'HR 31', impression: 'CRITICAL: profound bradycardia', critical: true });
      await call(reader, 'POST', `/api/reads/${caseId}/heartbeat`);
      const second = await call(reader, 'POST', `/api/cases/${caseId}/report/sign`, { pin: PIN });
      const c2 = await call(reader, 'GET', `/api/cases/${caseId}`);
      process.stdout.write(`  signing again with a fresh lease → ${second.status} ${second.json?.error?.code ?? ''}: ${second.json?.error?.message ?? ''}\n`);
      process.stdout.write(`  the case stays ${c2.json.status}, criticalResult ${JSON.stringify(c2.json.criticalResult)}: it can never be signed or delivered.\n`);
      process.exitCode = 0;
      return;
    }
    process.stdout.write('not reproduced in 5 attempts (timing); run again\n');
    process.exitCode = 1;
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
