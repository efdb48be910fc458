/**
 * Issue 9, acceptance 1 (exactly once): TeleRead stopped in the middle of a send, a crash between
 * "TeleRead created the submission" and "the gateway recorded it", and a gateway restart with
 * studies in its spool. Each study becomes exactly one case (counted through the admin API).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../../gateway/gateway.ts';
import { SpoolLockedError } from '../../gateway/spool.ts';
import { main } from '../../local/cli.ts';
import { syntheticCrDx, syntheticEcg, syntheticUltrasound, type SyntheticStudy } from '../../shared/synth/index.ts';
import { Api, startTestServer, type TestServer } from '../support/local-server.ts';
import { captureLog, CONSENT, gateway, gatewayConfig, storescu, tempDir, waitSpool, writeRules } from './gateway-support.ts';

const dir = tempDir('teleread-gw-outage-');
const write = (s: SyntheticStudy) => {
  const p = join(dir, s.metadata.fileName);
  writeFileSync(p, s.bytes);
  return p;
};

describe('teleread gateway: exactly once across outages, crashes and restarts', () => {
  const dataDir = tempDir('teleread-gw-data-');
  let srv: TestServer | null = null;
  let port: number;
  let rules: string;
  const gws: GatewayHandle[] = [];

  const countCases = async () => {
    const admin = await Api.login(srv!.url, 'admin');
    const r = await admin.call('GET', '/api/cases?limit=200');
    expect(r.status).toBe(200);
    return r.json.items as { caseId: string; submissionId: string; declaredFiles: number; status: string; pool: string }[];
  };

  beforeAll(async () => {
    srv = await startTestServer({ dataDir });
    port = Number(new URL(srv.url).port);
    rules = writeRules(dir, { consent: CONSENT });
  });
  afterAll(async () => {
    for (const g of gws) await g.close();
    await srv?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('a crash after TeleRead created the submission, before the gateway recorded it, makes no second case', async () => {
    const spool = join(dir, 'spool-crash');
    let calls = 0;
    const gw = await gateway(gatewayConfig({ api: srv!.url, spool, rules }), {
      log: captureLog(),
      hooks: {
        beforeRecordingSubmission() {
          if (++calls === 1) throw new Error('simulated crash before the submission id reached the spool');
        },
      },
    });
    gws.push(gw);
    const ecg = syntheticEcg({ seed: 11, durationS: 2 });
    const r = await storescu(gw.port, [write(ecg)]);
    expect(r.code, r.output).toBe(0);
    const s = await waitSpool(spool, (x) => x.sent.count === 1 && x.pending.length === 0, 'the ECG sent');
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(s.pending).toHaveLength(0);
    const cases = await countCases();
    expect(cases).toHaveLength(1);
    expect(cases[0]!.caseId).toBe(s.sent.last!.caseId);
    expect(s.sent.last!.status).toBe('QUEUED');
    await gw.close();
  });

  it('TeleRead stopped during the send: the spool holds the study and delivers it exactly once when TeleRead is back', async () => {
    const spool = join(dir, 'spool-outage');
    let stopped = false;
    const gw = await gateway(gatewayConfig({ api: srv!.url, spool, rules }), {
      log: captureLog(),
      hooks: {
        // TeleRead goes down after it created the submission, before any file is uploaded.
        async beforeRecordingSubmission() {
          if (stopped) return;
          stopped = true;
          const s = srv!;
          srv = null;
          await s.close();
        },
      },
    });
    gws.push(gw);
    const files = [1, 2, 3].map((n) => write(syntheticCrDx({ seed: 20 + n, studySeed: 20, modality: 'CR', rows: 96, columns: 96, instanceNumber: n })));
    const r = await storescu(gw.port, files);
    expect(r.code, r.output).toBe(0);

    const held = await waitSpool(spool, (x) => x.pending.length === 1 && x.pending[0]!.attempts >= 2, 'retrying while TeleRead is down');
    const e = held.pending[0]!;
    expect(e.instances).toHaveLength(3);
    expect(e.submission?.caseId).toMatch(/^case-/);
    expect(e.lastError).toMatch(/unreachable/);
    expect(e.nextAttemptAt).toBeDefined();

    const out: string[] = [];
    expect(await main(['gateway', 'status', '--spool', spool], { out: (l) => out.push(l), err: () => undefined, fetch })).toBe(0);
    expect(out.join('\n')).toMatch(/pending: 1 study/);
    expect(out.join('\n')).toMatch(/3 instance\(s\).*retrying/);
    expect(out.join('\n')).toMatch(/last error: .*unreachable.*next retry/);

    srv = await startTestServer({ dataDir, port });
    const s = await waitSpool(spool, (x) => x.sent.count === 1 && x.pending.length === 0, 'delivered after TeleRead is back');
    expect(s.sent.last!.caseId).toBe(e.submission!.caseId);
    const cases = await countCases();
    expect(cases).toHaveLength(2);
    const mine = cases.filter((c) => c.caseId === e.submission!.caseId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ declaredFiles: 3, status: 'QUEUED', pool: 'radiography' });
    await gw.close();
  });

  it('a gateway restarted with a study in its spool sends it after the restart; one gateway per spool', async () => {
    const spool = join(dir, 'spool-restart');
    // First life: a stable time so long that nothing is sent before the gateway stops.
    const first = await gateway(gatewayConfig({ api: srv!.url, spool, rules, stableSeconds: 3600 }), { log: captureLog() });
    gws.push(first);
    await expect(gateway(gatewayConfig({ api: srv!.url, spool, rules }), { log: captureLog() })).rejects.toBeInstanceOf(SpoolLockedError);
    const us = syntheticUltrasound({ seed: 31, rows: 64, columns: 80, frames: 4 });
    const r = await storescu(first.port, [write(us)]);
    expect(r.code, r.output).toBe(0);
    const before = await waitSpool(spool, (x) => x.pending.length === 1, 'spooled');
    expect(before.pending[0]!.state).toBe('receiving');
    await first.close();
    const casesBefore = (await countCases()).length;

    const second = await gateway(gatewayConfig({ api: srv!.url, spool, rules }), { log: captureLog() });
    gws.push(second);
    const s = await waitSpool(spool, (x) => x.sent.count === 1 && x.pending.length === 0, 'sent after the restart');
    const cases = await countCases();
    expect(cases).toHaveLength(casesBefore + 1);
    expect(cases.find((c) => c.caseId === s.sent.last!.caseId)).toMatchObject({ status: 'QUEUED', pool: 'ultrasound', declaredFiles: 1 });
    await second.close();
  });
});

describe('teleread gateway: a submission TeleRead closed before its files arrived', () => {
  it('is sent again as a new submission, so the study is not lost', async () => {
    // TeleRead closes submissions whose files never arrived after 3.6 s here (24 h in production).
    const srv = await startTestServer({ env: { TELEREAD_SWEEP_MS: '100' }, settings: { incompleteAfterHours: 0.001 } });
    const work = tempDir('teleread-gw-incomplete-');
    const spool = join(work, 'spool');
    let calls = 0;
    const gw = await gateway(gatewayConfig({ api: srv.url, spool, rules: writeRules(work, { consent: CONSENT }) }), {
      log: captureLog(),
      hooks: {
        // The gateway is cut off right after the first submission (that attempt fails), long enough
        // for TeleRead to close it; the next attempt finds it closed with nothing received.
        async beforeRecordingSubmission() {
          if (++calls > 1) return;
          await new Promise((r) => setTimeout(r, 4500));
          throw new Error('network cut off');
        },
      },
    });
    try {
      const path = join(work, 'ecg.dcm');
      writeFileSync(path, syntheticEcg({ seed: 41, durationS: 2 }).bytes);
      const r = await storescu(gw.port, [path]);
      expect(r.code, r.output).toBe(0);
      const s = await waitSpool(spool, (x) => x.sent.count === 1 && x.pending.length === 0, 'sent after the re-submission');
      const admin = await Api.login(srv.url, 'admin');
      expect(s.sent.last!.status).toBe('QUEUED');
      const cases = (await admin.call('GET', '/api/cases?limit=50')).json.items as { caseId: string; status: string; rejection: { code: string } | null }[];
      expect(cases).toHaveLength(2);
      const closed = cases.find((c) => c.caseId !== s.sent.last!.caseId)!;
      expect(closed.status).toBe('REJECTED');
      expect(closed.rejection?.code).toBe('SUBMISSION.INCOMPLETE');
      expect(cases.find((c) => c.caseId === s.sent.last!.caseId)!.status).toBe('QUEUED');
    } finally {
      await gw.close();
      await srv.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
