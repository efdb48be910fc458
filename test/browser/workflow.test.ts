import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PIN, SAMPLES, startTestServer, type TestServer } from '../support/local-server.ts';
import { canvasStats, ensureWebBuilt, launch, login, shot, type BrowserSession } from './support.ts';

const ECG = 'ecg-12lead-mortara-explicit-le.dcm';
const XRAY = 'xray-cr-chest-16bit-uncompressed-explicit-le.dcm';
const US = 'us-multiframe-30f-jpeg-baseline-ybr422.dcm';
const NOT_DICOM = 'nondicom-small-photo.jpeg';

const TEXT = {
  'zh-CN': { newStudy: '新建检查', readNext: '阅读下一例', backlog: '各诊断池积压', name: '王芳' },
  en: { newStudy: 'New study', readNext: 'Read next', backlog: 'Backlog per pool', name: 'Wang Fang' },
} as const;

async function submitStudy(page: Page, o: { pid: string; name: string; priority: string; file: string; note?: string }) {
  await page.locator('input[name=patientId]').fill(o.pid);
  await page.locator('input[name=patientName]').fill(o.name);
  await page.locator('select[name=priority]').selectOption(o.priority);
  if (o.note) await page.locator('textarea[name=clinicalNote]').fill(o.note);
  await page.locator('input[name=consent]').check();
  await page.locator('input[name=files]').setInputFiles(join(SAMPLES, o.file));
  await page.locator('form.new-study button[type=submit]').click();
  const panel = page.locator(`[data-testid=upload-panel]`);
  await panel.waitFor();
  return panel;
}

async function readNextAndWait(page: Page) {
  await page.locator('[data-testid=read-next]').click();
  await page.locator('[data-testid=reading]').waitFor();
  return page.locator('[data-testid=reading]').getAttribute('data-case');
}

async function sign(page: Page, template: string) {
  await page.locator('select[name=template]').selectOption(template);
  await page.locator('input[name=pin]').fill(DEMO_PIN);
  await page.locator('[data-testid=sign]').click();
  await page.locator('[data-testid=sign-status]').waitFor();
  await page.waitForURL(/\/reader$/);
}

for (const lang of ['zh-CN', 'en'] as const) {
  describe(`web UI in ${lang}: upload, read, sign, acknowledge`, () => {
    let srv: TestServer;
    let browser: BrowserSession;
    let waveformRoute = false;
    const T = TEXT[lang];

    beforeAll(async () => {
      await ensureWebBuilt();
      srv = await startTestServer();
      browser = await launch(lang);
      const probe = await fetch(`${srv.url}/api/cases/none/instances/0/waveform`);
      waveformRoute = ((await probe.json()) as { error?: { code?: string } }).error?.code !== 'ROUTE.NOT_FOUND';
    });
    afterAll(async () => {
      await browser?.close();
      await srv?.close();
    });

    it('the technician uploads an ECG, an X-ray and a 30-frame ultrasound, sees progress and status; a rejected file shows its reason', async () => {
      const page = await browser.ctx.newPage();
      await login(page, srv.url, 'tech-a');
      await expect(page.locator('#new-h').innerText()).resolves.toBe(T.newStudy);
      if (lang === 'zh-CN') {
        // Switchable: English and back.
        await page.locator('[data-testid=lang]').selectOption('en');
        await expect(page.locator('#new-h').innerText()).resolves.toBe('New study');
        await page.locator('[data-testid=lang]').selectOption('zh-CN');
        await expect(page.locator('#new-h').innerText()).resolves.toBe('新建检查');
      }
      await shot(page, `${lang}-technician-home`);
      const studies = [
        { pid: 'P-ECG-1', priority: 'stat', file: ECG, note: '胸痛 2 小时' },
        { pid: 'P-XR-1', priority: 'urgent', file: XRAY },
        { pid: 'P-US-1', priority: 'routine', file: US },
      ];
      for (const s of studies) {
        const panel = await submitStudy(page, { ...s, name: T.name });
        const row = panel.locator('[data-testid=upload-0]');
        await expect.poll(() => row.getAttribute('data-state'), { timeout: 20_000 }).toBe('done');
        expect(await row.locator('progress').getAttribute('value')).toBe('100');
        await expect.poll(() => row.getAttribute('data-outcome'), { timeout: 20_000 }).toBe('accepted');
        await panel.locator('[data-status=QUEUED]').waitFor({ timeout: 20_000 });
        if (s.file === US) await shot(page, `${lang}-technician-upload`);
      }
      const bad = await submitStudy(page, { pid: 'P-BAD-1', name: T.name, priority: 'routine', file: NOT_DICOM });
      const rejection = bad.locator('[data-testid=rejection]');
      await rejection.waitFor({ timeout: 20_000 });
      expect(await bad.locator('[data-testid=upload-0]').getAttribute('data-outcome')).toBe('rejected');
      expect((await rejection.innerText()).length).toBeGreaterThan(20);
      expect(await rejection.locator('code').innerText()).toMatch(/^[A-Z]+\.[A-Z_]+$/);
      await shot(page, `${lang}-technician-rejected`);
      // The clinic's list shows every case with its status timeline.
      await expect.poll(() => page.locator('[data-testid=case-list] tbody tr').count(), { timeout: 10_000 }).toBe(4);
      await page.close();
    });

    it('the ECG reader sees the STAT ECG first, reads it on the calibrated grid and signs a critical report', async () => {
      const page = await browser.ctx.newPage();
      await login(page, srv.url, 'ecg-reader');
      const first = page.locator('[data-testid=worklist] tbody tr').first();
      await first.waitFor();
      expect(await first.getAttribute('data-priority')).toBe('stat');
      // Keyboard: rows take focus and arrows move between them.
      await first.focus();
      await page.keyboard.press('ArrowDown');
      expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('TR');
      await shot(page, `${lang}-reader-worklist`);
      await readNextAndWait(page);
      await page.locator('[data-testid=measurements]').waitFor();
      if (waveformRoute) {
        const grid = page.locator('[data-testid=ecg-canvas]');
        await grid.waitFor({ timeout: 20_000 });
        const st = await canvasStats(page, '[data-testid=ecg-canvas]');
        expect(st.std).toBeGreaterThan(5);
      } else {
        await page.locator('[data-testid=ecg-unavailable]').waitFor();
      }
      await shot(page, `${lang}-reader-ecg`);
      await sign(page, 'ecg-stemi');
      await page.close();
    });

    it('the radiography reader windows the X-ray, plays the ultrasound cine and signs both', async () => {
      const page = await browser.ctx.newPage();
      await login(page, srv.url, 'rad-reader');
      await page.locator('[data-testid=worklist]').waitFor();
      await readNextAndWait(page);
      const viewer = page.locator('[data-testid=viewer]');
      await expect.poll(() => viewer.getAttribute('data-ready'), { timeout: 20_000 }).toBe('1');
      const before = await canvasStats(page, '[data-testid=viewer-canvas]');
      expect(before.std).toBeGreaterThan(5); // not blank
      const wl0 = await viewer.getAttribute('data-wl');
      const box = (await page.locator('[data-testid=viewer-canvas]').boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 2 - 120, box.y + box.height / 2 + 60, { steps: 6 });
      await page.mouse.up();
      await expect.poll(() => viewer.getAttribute('data-wl')).not.toBe(wl0);
      await expect.poll(async () => (await canvasStats(page, '[data-testid=viewer-canvas]')).hash, { timeout: 10_000 }).not.toBe(before.hash);
      // Keyboard: the canvas takes focus; arrows change window/level too.
      const wl1 = await viewer.getAttribute('data-wl');
      await page.locator('[data-testid=viewer-canvas]').focus();
      await page.keyboard.press('ArrowRight');
      await expect.poll(() => viewer.getAttribute('data-wl')).not.toBe(wl1);
      await shot(page, `${lang}-reader-xray`);
      await sign(page, 'chest-normal');

      await readNextAndWait(page);
      await expect.poll(() => viewer.getAttribute('data-ready'), { timeout: 20_000 }).toBe('1');
      expect(await viewer.getAttribute('data-frames')).toBe('30');
      expect(Number(await viewer.getAttribute('data-frame-time'))).toBeCloseTo(33.333, 2);
      await expect.poll(() => viewer.getAttribute('data-decoded'), { timeout: 20_000 }).toBe('30');
      await page.locator('[data-testid=play]').click();
      const seen = new Set<string>();
      for (let i = 0; i < 10; i++) {
        seen.add((await viewer.getAttribute('data-frame'))!);
        await page.waitForTimeout(60);
      }
      expect(seen.size).toBeGreaterThan(3);
      await page.locator('[data-testid=play]').click();
      expect(await viewer.getAttribute('data-playing')).toBe('0');
      await shot(page, `${lang}-reader-ultrasound`);
      await sign(page, 'abdomen-normal');
      await page.close();
    });

    it('the technician sees the signed critical report standing out and acknowledges it with a read-back; the admin sees the backlog', async () => {
      const page = await browser.ctx.newPage();
      await login(page, srv.url, 'tech-a');
      const row = page.locator('[data-testid=case-list] tbody tr', { hasText: 'P-ECG-1' });
      await row.waitFor();
      await row.locator('a').click();
      const detail = page.locator('[data-testid=case-detail]');
      await expect.poll(() => detail.getAttribute('data-status'), { timeout: 20_000 }).toBe('DELIVERED');
      await page.locator('[data-testid=signed-report]').waitFor();
      await page.locator('[data-testid=critical-banner]').waitFor();
      await shot(page, `${lang}-technician-report`);
      await page.locator('input[name=receivedBy]').fill('值班医生 张三');
      await page.locator('textarea[name=readBack]').fill('急性 ST 段抬高型心肌梗死可能');
      await page.locator('.ack-form button[type=submit]').click();
      await page.locator('[data-testid=acknowledged]').waitFor();
      expect(await page.locator('[data-testid=critical-banner]').count()).toBe(0);
      await page.close();

      const admin = await browser.ctx.newPage();
      await login(admin, srv.url, 'admin');
      await admin.locator('[data-testid=backlog]').waitFor();
      await expect(admin.locator('#bl-h').innerText()).resolves.toBe(T.backlog);
      await admin.locator('[data-testid=backlog-chart] canvas').waitFor();
      await shot(admin, `${lang}-admin-dashboard`);
      await admin.close();
    });
  });
}
