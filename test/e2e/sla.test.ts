import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepSla } from '../../shared/application/sla.ts';
import { syntheticEcg } from '../../shared/synth/studies.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { Api, DEMO_PIN, startTestServer, type TestServer } from '../support/local-server.ts';

const MIN = 60_000;
let seed = 5000;
const ecg = () => syntheticEcg({ seed: seed++, heartRate: 75 }).bytes;

describe('SLA clock and the closed loop of critical results (controllable clock, restart)', () => {
  const clock = new FakeClock(Date.parse('2026-03-02T08:00:00.000Z'));
  const dataDir = mkdtempSync(join(tmpdir(), 'teleread-sla-'));
  let srv: TestServer;

  beforeAll(async () => {
    srv = await startTestServer({ clock, dataDir });
  });
  afterAll(async () => {
    await srv?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a STAT ECG left unclaimed: warning at 7 min (readers and admin alerted), breach recorded at 10 min', async () => {
    const tech = await Api.login(srv.url, 'tech-a');
    const sub = await tech.submit([{ name: 'e.dcm', bytes: ecg() }], { priority: 'stat' });
    await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    const deps = srv.sys.deps;
    clock.advance(6 * MIN + 50_000);
    await sweepSla(deps);
    expect((await deps.cases.get(sub.caseId))!.escalations ?? []).toEqual([]);
    clock.advance(10_000);
    await sweepSla(deps);
    let c = (await deps.cases.get(sub.caseId))!;
    expect(c.escalations!.map((e) => e.kind)).toEqual(['sla-warning']);
    expect(c.priority).toBe('stat');
    clock.advance(3 * MIN);
    await sweepSla(deps);
    c = (await deps.cases.get(sub.caseId))!;
    expect(c.escalations!.map((e) => e.kind)).toEqual(['sla-warning', 'sla-breach']);
    const view = await tech.call('GET', `/api/cases/${sub.caseId}`);
    expect(view.json.escalations.map((e: { kind: string }) => e.kind)).toEqual(['sla-warning', 'sla-breach']);
    // STAT ECG: warning 7 min, breach 10 min after it was queued.
    const queuedAt = Date.parse(view.json.timeline.QUEUED);
    expect(Date.parse(view.json.sla.warnAt) - queuedAt).toBe(7 * MIN);
    expect(Date.parse(view.json.sla.breachAt) - queuedAt).toBe(10 * MIN);
    // Read and sign it, so later tests start with an empty queue.
    const reader = await Api.login(srv.url, 'ecg-reader');
    const n = await reader.call('POST', '/api/reads/next', {});
    expect(n.json.case.caseId).toBe(sub.caseId);
    await reader.call('PUT', `/api/cases/${sub.caseId}/report`, { findings: 'f', impression: 'i' });
    expect((await reader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: DEMO_PIN })).status).toBe(200);
  });

  it('an URGENT ECG left unclaimed is raised to STAT at its warning point, then recorded as a breach', async () => {
    const tech = await Api.login(srv.url, 'tech-a');
    const admin = await Api.login(srv.url, 'admin');
    const reader = await Api.login(srv.url, 'ecg-reader');
    const since = new Date(clock.now().getTime() - 1000).toISOString();
    const sub = await tech.submit([{ name: 'e.dcm', bytes: ecg() }], { priority: 'urgent' });
    await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    const deps = srv.sys.deps;
    clock.advance(9 * MIN); // urgent ECG: warning at 10 min, breach at 15
    expect((await sweepSla(deps)).warnings).toBe(0);
    clock.advance(1 * MIN + 1000);
    const w = await sweepSla(deps);
    expect(w.warnings).toBe(1);
    let c = await deps.cases.get(sub.caseId);
    expect(c!.priority).toBe('stat');
    expect(c!.escalations!.map((e) => e.kind)).toEqual(['sla-warning']);
    expect(c!.escalations![0]).toMatchObject({ fromPriority: 'urgent', toPriority: 'stat' });
    expect(c!.escalations![0]!.notified).toEqual(expect.arrayContaining(['ecg-reader', 'admin']));
    // Repeating the sweep does not repeat the escalation.
    expect((await sweepSla(deps)).warnings).toBe(0);
    clock.advance(5 * MIN);
    expect((await sweepSla(deps)).breaches).toBe(1);
    c = await deps.cases.get(sub.caseId);
    expect(c!.escalations!.map((e) => e.kind)).toEqual(['sla-warning', 'sla-breach']);
    const inbox = (await reader.call('GET', '/api/notifications')).json.items as { kind: string; caseId: string }[];
    expect(inbox.filter((n) => n.caseId === sub.caseId).map((n) => n.kind).sort()).toEqual(['case.sla-breach', 'case.sla-warning']);
    expect((await admin.call('GET', '/api/notifications')).json.items.some((n: { kind: string }) => n.kind === 'case.sla-breach')).toBe(true);
    // The breach shows in the figures: signed late → outside the SLA.
    let next = await reader.call('POST', '/api/reads/next', {});
    while (next.status === 200 && next.json.case.caseId !== sub.caseId) next = await reader.call('POST', '/api/reads/next', {});
    expect(next.json.case.caseId).toBe(sub.caseId);
    await reader.call('PUT', `/api/cases/${sub.caseId}/report`, { findings: 'f', impression: 'i' });
    expect((await reader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: DEMO_PIN })).status).toBe(200);
    const t = await admin.call('GET', `/api/metrics/turnaround?groupBy=pool&from=${since}&to=${new Date(clock.now().getTime() + 1000).toISOString()}`);
    expect(t.status).toBe(200);
    const ecgRow = t.json.rows.find((r: { group: string }) => r.group === 'ecg');
    expect(ecgRow.signed).toBe(1);
    expect(ecgRow.slaCompliance).toBe(0);
    const csv = await admin.call('GET', `/api/metrics/turnaround?groupBy=pool&format=csv&from=${since}&to=${new Date(clock.now().getTime() + 1000).toISOString()}`);
    expect(csv.text).toContain(`"ecg",wait,1,${(ecgRow.segments.wait.p50Ms / MIN).toFixed(1)}`);
    expect((await tech.call('GET', '/api/metrics/turnaround')).status).toBe(403);
  });

  it('a critical report unacknowledged for 5 min escalates, again every 5 min, across a restart; read-back closes the loop with all six fields', async () => {
    let tech = await Api.login(srv.url, 'tech-a');
    let reader = await Api.login(srv.url, 'ecg-reader');
    const sub = await tech.submit([{ name: 'e.dcm', bytes: ecg() }], { priority: 'stat' });
    await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    let next = await reader.call('POST', '/api/reads/next', {});
    while (next.status === 200 && next.json.case.caseId !== sub.caseId) next = await reader.call('POST', '/api/reads/next', {});
    await reader.call('PUT', `/api/cases/${sub.caseId}/report`, { findings: '室性心动过速', impression: '危急值：室性心动过速', critical: true });
    expect((await reader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: DEMO_PIN })).status).toBe(200);
    await tech.waitCase(sub.caseId, (c) => c.status === 'DELIVERED');
    expect((await tech.call('GET', '/api/notifications')).json.items.some((n: { kind: string; caseId: string }) => n.kind === 'report.critical' && n.caseId === sub.caseId)).toBe(true);

    clock.advance(4 * MIN);
    expect((await sweepSla(srv.sys.deps)).criticalEscalations).toBe(0);
    clock.advance(1 * MIN + 1000);
    expect((await sweepSla(srv.sys.deps)).criticalEscalations).toBe(1);

    // Restart the server on the same data: the open loop is still there and keeps escalating.
    await srv.close();
    srv = await startTestServer({ clock, dataDir });
    tech = await Api.login(srv.url, 'tech-a');
    reader = await Api.login(srv.url, 'ecg-reader');
    expect((await sweepSla(srv.sys.deps)).criticalEscalations).toBe(0);
    clock.advance(5 * MIN);
    expect((await sweepSla(srv.sys.deps)).criticalEscalations).toBe(1);
    let c = await srv.sys.deps.cases.get(sub.caseId);
    expect(c!.escalations!.filter((e) => e.kind === 'critical-unacknowledged')).toHaveLength(2);
    expect(c!.escalations![0]!.notified).toEqual(expect.arrayContaining(['clinic:clinic-a', 'admin']));

    const ack = await tech.call('POST', `/api/cases/${sub.caseId}/acknowledge`, { receivedBy: '值班医生 张三', readBack: '室性心动过速' });
    expect(ack.status).toBe(200);
    c = await srv.sys.deps.cases.get(sub.caseId);
    expect(c!.status).toBe('ACKNOWLEDGED');
    expect(c!.criticalResult).toMatchObject({
      finding: '危急值：室性心动过速',
      readerId: 'ecg-reader',
      receiver: '值班医生 张三',
      readBack: '室性心动过速',
      method: 'in-app',
    });
    expect(c!.criticalResult!.identifiedAt).toBeTruthy();
    expect(c!.criticalResult!.receivedAt).toBeTruthy();
    // Closed: no more escalations.
    clock.advance(30 * MIN);
    expect((await sweepSla(srv.sys.deps)).criticalEscalations).toBe(0);
  });

  it('every critical report ends acknowledged or with an open escalation: none silently dropped', async () => {
    const deps = srv.sys.deps;
    const all = await deps.cases.list({ limit: 500 });
    let critical = 0;
    for (const c of all.items) {
      const r = await deps.cases.getSignedReport(c.caseId);
      if (!r || (JSON.parse(r.canonical) as { critical?: boolean }).critical !== true) continue;
      critical++;
      const open = (c.escalations ?? []).some((e) => e.kind === 'critical-unacknowledged');
      expect(c.status === 'ACKNOWLEDGED' || open, c.caseId).toBe(true);
    }
    expect(critical).toBeGreaterThan(0);
  });
});
