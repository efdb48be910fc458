/**
 * C-STORE ingest through the DICOM gateway next to the HTTP upload path, on the SAME files:
 *
 *   (a) gateway: dcmtk's storescu sends every generated study in ONE association to `teleread
 *       gateway` (in this process: SCP, spool with fsync, TeleRead's inspector at the door), which
 *       sends each study when stable through the submission API; wall = storescu start → the last
 *       case's QUEUED timestamp. It includes the stable time of the last study (the gateway cannot
 *       know a study is complete before), reported separately.
 *   (b) HTTP: one client (the same sequential shape as one association) declares each study and
 *       PUTs its files; wall = first POST → the last case's QUEUED timestamp.
 *
 * Each leg runs against a fresh TeleRead server child. Studies are generated deterministically
 * (shared/synth): 12-lead ECG (1 instance), CR (2 views of one study), US (single frame).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayConfigSchema } from '../gateway/config.ts';
import { startGateway } from '../gateway/gateway.ts';
import { readSpoolStatus } from '../gateway/spool.ts';
import { syntheticCrDx, syntheticEcg, syntheticUltrasound } from '../shared/synth/studies.ts';
import { tempDir } from './lib/cleanup.ts';
import { Client, DEMO_PASSWORD, now } from './lib/client.ts';
import { startServerProcess } from './lib/server-process.ts';
import { MB, round } from './lib/stats.ts';

const STORESCU = '/usr/bin/storescu';

export interface GatewayLeg {
  wallMs: number;
  filesPerSec: number;
  mbPerSec: number;
  cases: number;
  notQueued: number;
}

export interface GatewayIngest {
  studies: number;
  files: number;
  bytes: number;
  kinds: Record<string, { studies: number; files: number; bytes: number }>;
  stableSeconds: number;
  gateway: GatewayLeg & { storescuMs: number; storescuMbPerSec: number };
  http: GatewayLeg & { concurrency: 1 };
  /** gateway MB/s ÷ HTTP MB/s (files/s gives the same ratio: same files). */
  ratio: number;
}

interface Study {
  kind: string;
  files: { path: string; size: number }[];
}

function makeStudies(n: number, dir: string): Study[] {
  const out: Study[] = [];
  for (let i = 0; i < n; i++) {
    const seed = 90_000 + i;
    const kind = ['ecg', 'cr', 'us'][i % 3]!;
    const made =
      kind === 'ecg'
        ? [syntheticEcg({ seed })]
        : kind === 'cr'
          ? [1, 2].map((v) => syntheticCrDx({ seed: seed * 10 + v, studySeed: seed, modality: 'CR', rows: 1200, columns: 1000, instanceNumber: v }))
          : [syntheticUltrasound({ seed })];
    out.push({
      kind,
      files: made.map((s, j) => {
        const path = join(dir, `${i}-${j}-${s.metadata.fileName}`);
        writeFileSync(path, s.bytes);
        return { path, size: s.bytes.length };
      }),
    });
  }
  return out;
}

function storescu(port: number, files: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(STORESCU, ['-R', '-aet', 'BENCH-SCU', '-aec', 'TELEREAD', '127.0.0.1', String(port), ...files], { timeout: 600_000, maxBuffer: 16 << 20 }, (err, _o, stderr) =>
      err ? reject(new Error(`storescu failed: ${err.message} ${stderr.slice(0, 500)}`)) : resolve(),
    );
  });
}

/** The latest QUEUED time over the cases, and how many did not end QUEUED. */
async function settled(client: Client, caseIds: string[]): Promise<{ last: number; notQueued: number }> {
  let last = 0;
  let notQueued = 0;
  for (const id of caseIds) {
    const { c } = await client.waitSettled(id, 20);
    if (c.status !== 'QUEUED') notQueued++;
    const at = Date.parse(c.timeline[c.status] ?? '');
    if (Number.isFinite(at)) last = Math.max(last, at);
  }
  return { last, notQueued };
}

const leg = (files: number, bytes: number, wallMs: number, cases: number, notQueued: number): GatewayLeg => ({
  wallMs: round(wallMs, 1),
  filesPerSec: round(files / (wallMs / 1000), 2),
  mbPerSec: round(bytes / MB / (wallMs / 1000), 2),
  cases,
  notQueued,
});

export async function gatewayIngest(opts: { studies: number; stableSeconds: number; log: (s: string) => void }): Promise<GatewayIngest> {
  if (!existsSync(STORESCU)) throw new Error(`${STORESCU} not found: the gateway bench needs dcmtk (apt-get install dcmtk).`);
  const work = tempDir('gateway');
  const studies = makeStudies(opts.studies, work.path);
  const all = studies.flatMap((s) => s.files);
  const bytes = all.reduce((a, f) => a + f.size, 0);
  const kinds: GatewayIngest['kinds'] = {};
  for (const s of studies) {
    const k = (kinds[s.kind] ??= { studies: 0, files: 0, bytes: 0 });
    k.studies++;
    k.files += s.files.length;
    k.bytes += s.files.reduce((a, f) => a + f.size, 0);
  }
  opts.log(`files: ${studies.length} studies (${Object.entries(kinds).map(([k, v]) => `${v.studies} ${k}`).join(', ')}), ${all.length} files, ${round(bytes / MB, 2)} MB; stable time ${opts.stableSeconds} s`);

  // (a) through the gateway
  const srvA = await startServerProcess();
  let gatewayLeg: GatewayIngest['gateway'];
  try {
    const spool = join(work.path, 'spool');
    const rules = join(work.path, 'rules.json');
    writeFileSync(rules, JSON.stringify({ consent: { obtained: true, recordedBy: 'bench' } }));
    const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const gw = await startGateway(
      GatewayConfigSchema.parse({ port: 0, aet: 'TELEREAD', api: srvA.url, username: 'tech-a', password: DEMO_PASSWORD, spool, rules, stableSeconds: opts.stableSeconds }),
      { log: silent, tickMs: 100 },
    );
    try {
      const t0 = now();
      await storescu(gw.port, all.map((f) => f.path));
      const storescuMs = now() - t0;
      for (;;) {
        const s = await readSpoolStatus(spool);
        if (s.sent.count >= studies.length && s.pending.length === 0) break;
        if (now() - t0 > 600_000) throw new Error(`gateway sent ${s.sent.count} of ${studies.length} studies in 10 minutes`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const caseIds = readdirSync(join(spool, 'sent')).map((f) => (JSON.parse(readFileSync(join(spool, 'sent', f), 'utf8')) as { caseId: string }).caseId);
      const tech = await Client.login(srvA.url, 'tech-a');
      const { last, notQueued } = await settled(tech, caseIds);
      gatewayLeg = { ...leg(all.length, bytes, last - t0, caseIds.length, notQueued), storescuMs: round(storescuMs, 1), storescuMbPerSec: round(bytes / MB / (storescuMs / 1000), 2) };
    } finally {
      await gw.close();
    }
  } finally {
    await srvA.stop();
  }

  // (b) the HTTP upload path, same files, one client
  const srvB = await startServerProcess();
  let httpLeg: GatewayIngest['http'];
  try {
    const tech = await Client.login(srvB.url, 'tech-a');
    const caseIds: string[] = [];
    const t0 = now();
    for (const [i, s] of studies.entries()) {
      const sub = await tech.submit(s.files.map((f, j) => ({ name: `${i}-${j}.dcm`, size: f.size })), i);
      for (const u of sub.uploads) await tech.upload(u, s.files[u.index]!);
      caseIds.push(sub.caseId);
    }
    const { last, notQueued } = await settled(tech, caseIds);
    httpLeg = { ...leg(all.length, bytes, last - t0, caseIds.length, notQueued), concurrency: 1 };
  } finally {
    await srvB.stop();
  }
  await work.remove();
  return {
    studies: studies.length,
    files: all.length,
    bytes,
    kinds,
    stableSeconds: opts.stableSeconds,
    gateway: gatewayLeg,
    http: httpLeg,
    ratio: round(gatewayLeg.mbPerSec / httpLeg.mbPerSec, 2),
  };
}
