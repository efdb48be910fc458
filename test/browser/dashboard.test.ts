import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSimulation, type SimSummary } from '../../sim/run.ts';
import * as SIM from '../../sim/run.ts';
import { ScaledClock } from '../../shared/ports/clock.ts';
import { syntheticEcg } from '../../shared/synth/studies.ts';
import { Api, startTestServer, type TestServer } from '../support/local-server.ts';
import { canvasStats, ensureWebBuilt, launch, login, ROOT, shot } from './support.ts';

// The simulation's accounts (sim/run.ts: PASSWORD and PIN are not exported).

const TEXT = {
  'zh-CN': { nearBreach: '临近或已超时病例', critical: '待确认的危急值', csv: '导出 CSV' },
  en: { nearBreach: 'Cases near or past breach', critical: 'Critical results awaiting acknowledgement', csv: 'Export CSV' },
} as const;

/**
 * Acceptance 6.3: the administrator's dashboard with the real data of a simulated county morning.
 * `runSimulation` drives its own server (a child process on a 600× clock) through the public API: a
 * morning burst from 17 township clinics, one ECG and one X-ray reader on duty and no sonographer, so
 * the ultrasound queue escalates and breaches. The day stops at 10:15; its data directory is then
 * served again by an in-process server whose clock continues from the simulated end, and one more
 * critical ECG is signed there so a critical result is certainly awaiting acknowledgement.
 */
describe('administrator dashboard with a simulated county morning', { timeout: 180_000 }, () => {
  let sim: SimSummary;
  let srv: TestServer;
  let dataDir = '';
  let criticalCase = '';
  let laterCase = '';

  beforeAll(async () => {
    const built = ensureWebBuilt();
    sim = await runSimulation({
      studies: 36,
      seed: 3,
      readers: { ecg: 1, radiography: 1, ultrasound: 0 },
      scale: 600,
      arrivalEndHour: 10,
      dayEndHour: 10.25,
      maxWallMs: 100_000,
      keepData: true,
      log: () => {},
      out: join(ROOT, 'test-output', 'dashboard-simulation.json'),
    });
    dataDir = sim.server.dataDir!;
    await built;
    srv = await startTestServer({ dataDir, clock: new ScaledClock(Date.parse(sim.simulated.end), 1) });

    // A STAT ECG from a township, read as critical and signed: delivered, not acknowledged.
    const tech = await Api.login(srv.url, 'tech-01', SIM.PASSWORD);
    const ecg = syntheticEcg({ seed: 990_001, heartRate: 31 });
    const sub = await tech.submit([{ name: 'ecg-critical.dcm', bytes: ecg.bytes }], { priority: 'stat', patient: { id: 'P-DASH-CRIT', name: 'Zhao Min' } });
    await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED', 30_000);
    const reader = await Api.login(srv.url, 'ecg-reader-1', SIM.PASSWORD);
    for (let i = 0; i < 20 && !criticalCase; i++) {
      const next = await reader.call('POST', '/api/reads/next', { pools: ['ecg'] });
      expect(next.status, next.text).toBe(200);
      const id = next.json.case.caseId as string;
      const draft = await reader.call('PUT', `/api/cases/${id}/report`, {
        findings: '显著窦性心动过缓，心室率约 31 次/分。',
        impression: '危急值：严重心动过缓 CRITICAL: profound bradycardia',
        critical: true,
        language: 'zh-CN',
      });
      expect(draft.status, draft.text).toBe(200);
      const signed = await reader.call('POST', `/api/cases/${id}/report/sign`, { pin: SIM.PIN });
      expect(signed.status, signed.text).toBe(200);
      if (id === sub.caseId) criticalCase = id;
    }
    // … and a later routine ECG of the same patient that the reader has just opened (the readers' load;
    // the critical one is its prior).
    const sub2 = await tech.submit([{ name: 'ecg-routine.dcm', bytes: syntheticEcg({ seed: 990_002, heartRate: 72 }).bytes }], { priority: 'routine', patient: { id: 'P-DASH-CRIT', name: 'Zhao Min' } });
    await tech.waitCase(sub2.caseId, (c) => c.status === 'QUEUED', 30_000);
    const claimed = await reader.call('POST', '/api/reads/next', { pools: ['ecg'] });
    expect(claimed.status, claimed.text).toBe(200);
    laterCase = sub2.caseId;
    const admin = await Api.login(srv.url, 'sim-admin', SIM.PASSWORD);
    expect(criticalCase).not.toBe('');
    await admin.waitCase(criticalCase, (c) => c.status === 'DELIVERED' && c.critical === true, 15_000);
  });
  afterAll(async () => {
    await srv?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  for (const lang of ['zh-CN', 'en'] as const) {
    it(`${lang}: charts of turnaround and SLA compliance, backlog, near-breach and critical lists, readers' load, the consortium; CSV export`, async () => {
      const T = TEXT[lang];
      const browser = await launch(lang, { timezoneId: 'Asia/Shanghai', viewport: { width: 1400, height: 1900 } });
      try {
        const page = await browser.ctx.newPage();
        await login(page, srv.url, 'sim-admin', SIM.PASSWORD);
        await page.locator('[data-testid=admin-dashboard]').waitFor();

        // Turnaround of the simulated morning (the server's last 24 h, by its clock): one row per pool.
        const table = page.locator('[data-testid=turnaround]');
        await table.waitFor({ timeout: 20_000 });
        await expect.poll(() => table.locator('tbody tr').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
        expect(await table.locator('tr[data-group=ecg]').count()).toBe(1);
        for (const id of ['turnaround-chart', 'sla-chart', 'backlog-chart']) {
          await expect.poll(() => page.locator(`[data-testid=${id}]`).getAttribute('data-drawn'), { timeout: 15_000 }).toBe('1');
          await page.locator(`[data-testid=${id}] canvas`).first().waitFor();
        }
        await page.waitForTimeout(300); // echarts draws on the next frame
        for (const id of ['turnaround-chart', 'sla-chart', 'backlog-chart']) {
          const st = await canvasStats(page, `[data-testid=${id}] canvas >> nth=0`);
          expect(st.std, id).toBeGreaterThan(5); // not blank
        }

        // The ultrasound queue has nobody reading it: its cases are near or past breach.
        const near = page.locator('[data-testid=near-breach]');
        await near.waitFor({ timeout: 15_000 });
        expect(await page.locator('#nb-h').innerText()).toContain(T.nearBreach);
        expect(await near.locator('tbody tr').count()).toBeGreaterThan(0);
        expect(await near.locator('tbody tr[data-state=breach]').count()).toBeGreaterThan(0);
        expect(await page.locator('[data-testid=backlog] tr[data-pool=ultrasound] td').nth(1).innerText()).not.toBe('0');

        // The critical result signed after the simulation waits for the clinic's read-back.
        const crit = page.locator(`[data-testid=critical-open] tr[data-case="${criticalCase}"]`);
        await crit.waitFor({ timeout: 15_000 });
        expect(await page.locator('#cr-h').innerText()).toContain(T.critical);
        expect(await crit.innerText()).toContain('Zhao Min');
        expect(await crit.locator('[data-testid=since-notified]').innerText()).toMatch(/\d/);

        // Readers' load lists every reader of the consortium; the directory its 17 clinics and 3 pools.
        const load = page.locator('[data-testid=reader-load] tr[data-reader="ecg-reader-1"]');
        await load.waitFor();
        expect(Number(await load.getAttribute('data-load'))).toBeGreaterThanOrEqual(1);
        await page.locator('[data-testid=directory]').waitFor();
        expect(await page.locator('[data-testid=clinics] li').count()).toBe(17);
        expect(await page.locator('[data-testid=pools] li').count()).toBe(3);
        await shot(page, `${lang}-admin-dashboard`);

        // Filters: group by clinic, the waiting segment; the chart follows.
        await page.locator('select[name=groupBy]').selectOption('clinic');
        await expect.poll(() => table.locator('tbody tr[data-group^="clinic-"]').count(), { timeout: 15_000 }).toBeGreaterThan(2);
        await page.locator('select[name=segment]').selectOption('wait');
        await expect.poll(() => table.locator('th.current').innerText()).toContain(lang === 'en' ? 'Waiting' : '排队等待');

        // A rolling 7-day range (by the server's clock) moves with time but does not poll in a loop.
        const range0 = await page.locator('[data-testid=range]').innerText();
        await page.locator('select[name=range]').selectOption('7d');
        await expect.poll(() => page.locator('[data-testid=range]').innerText(), { timeout: 15_000 }).not.toBe(range0);
        let calls = 0;
        page.on('request', (r) => void (r.url().includes('/api/metrics/turnaround') && calls++));
        await page.waitForTimeout(1500);
        expect(calls).toBeLessThanOrEqual(1);

        // CSV export of the figures on screen, fetched with the bearer token and saved as a file.
        const download = page.waitForEvent('download');
        await page.getByRole('button', { name: T.csv }).click();
        const file = await download;
        expect(file.suggestedFilename()).toMatch(/^turnaround-clinic-\d{12}-\d{12}\.csv$/);
        const text = readFileSync((await file.path())!, 'utf8');
        expect(text.split('\n')[0]).toBe('group,segment,n,p50_min,p90_min,p99_min,cases,signed,sla_compliance');
        expect(text).toContain('"clinic-');
        await page.close();
      } finally {
        await browser.close();
      }
    });
  }

  it('the reader sees the critical prior of the same patient beside the current case and opens it', async () => {
    const browser = await launch('en', { timezoneId: 'Asia/Shanghai' });
    try {
      const page = await browser.ctx.newPage();
      // The reading screen counts waiting time on the browser's clock: put it at the simulated morning.
      await page.clock.setFixedTime(new Date(Date.parse(sim.simulated.end) + 60_000));
      await login(page, srv.url, 'ecg-reader-1', SIM.PASSWORD);
      await page.goto(`${srv.url}/reader/view/${laterCase}`);
      const prior = page.locator(`[data-testid=priors] li[data-case="${criticalCase}"]`);
      await prior.waitFor({ timeout: 15_000 });
      expect(await prior.locator('.badge.critical').count()).toBe(1);
      await prior.locator('button').click();
      const open = page.locator(`[data-testid=prior][data-case="${criticalCase}"]`);
      await open.waitFor();
      await expect.poll(() => open.innerText(), { timeout: 10_000 }).toContain('CRITICAL');
      await shot(page, 'en-reader-prior');
    } finally {
      await browser.close();
    }
  });
});
