import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, DEMO_PIN, SAMPLES, startTestServer, type TestServer } from '../support/local-server.ts';
import { canvasStats, ensureWebBuilt, launch, login, shot, type BrowserSession } from './support.ts';

const ECG = 'ecg-12lead-mortara-explicit-le.dcm';
const XRAY = 'xray-cr-chest-16bit-uncompressed-explicit-le.dcm';
const US = 'us-multiframe-30f-jpeg-baseline-ybr422.dcm';
const NOT_DICOM = 'nondicom-small-photo.jpeg';

const TEXT = {
  'zh-CN': { newStudy: '新建检查', readNext: '阅读下一例', backlog: '各诊断池积压', name: '王芳' },
  en: { newStudy: 'New study', readNext: 'Read next', backlog: 'Backlog per pool', name: 'Wang Fang' },
} as const;

/** Drop a file on the drop zone as a browser does (a DragEvent carrying a DataTransfer). */
async function dropFile(page: Page, file: string) {
  const b64 = readFileSync(join(SAMPLES, file)).toString('base64');
  await page.locator('[data-testid=dropzone]').evaluate(
    (el, { name, b64 }) => {
      const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type: 'application/dicom' }));
      el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { name: file, b64 },
  );
  await page.locator('.picked li', { hasText: file }).waitFor();
}

async function submitStudy(page: Page, o: { pid: string; name: string; priority: string; file: string; note?: string; drop?: boolean }) {
  await page.locator('input[name=patientId]').fill(o.pid);
  await page.locator('input[name=patientName]').fill(o.name);
  await page.locator('select[name=priority]').selectOption(o.priority);
  if (o.note) await page.locator('textarea[name=clinicalNote]').fill(o.note);
  await page.locator('input[name=consent]').check();
  if (o.drop) await dropFile(page, o.file);
  else await page.locator('input[name=files]').setInputFiles(join(SAMPLES, o.file));
  const previous = (await page.locator('[data-testid=upload-panel]').count()) ? await page.locator('[data-testid=upload-panel]').getAttribute('data-case') : null;
  await page.locator('form.new-study button[type=submit]').click();
  // The panel of this submission (not the one of the previous).
  await expect.poll(() => page.locator('[data-testid=upload-panel]').getAttribute('data-case'), { timeout: 10_000 }).not.toBe(previous);
  const id = await page.locator('[data-testid=upload-panel]').getAttribute('data-case');
  return page.locator(`[data-testid=upload-panel][data-case="${id}"]`);
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
  describe(`web UI in ${lang}: upload, read, sign, acknowledge`, { timeout: 120_000 }, () => {
    let srv: TestServer;
    let browser: BrowserSession;
    let waveformRoute = false;
    const T = TEXT[lang];

    beforeAll(async () => {
      await ensureWebBuilt();
      srv = await startTestServer();
      browser = await launch(lang);
      // The waveform route arrives with the ECG model: until then the reading screen says the trace is unavailable.
      const admin = await Api.login(srv.url, 'admin');
      waveformRoute = (await admin.call('GET', '/api/cases/none/instances/0/waveform')).json?.error?.code !== 'ROUTE.NOT_FOUND';
    });
    afterAll(async () => {
      await browser?.close();
      await srv?.close();
    });

    it('the technician uploads an ECG, an X-ray and a 30-frame ultrasound, sees progress and status; a rejected file shows its reason', async () => {
      const page = await browser.ctx.newPage();
      await page.goto(`${srv.url}/`);
      await page.locator('input[name=username]').fill('tech-a');
      await page.locator('input[name=password]').fill('wrong-password');
      await page.locator('form.login button[type=submit]').click();
      const refused = page.locator('form.login [role=alert]');
      await refused.waitFor();
      if (lang === 'zh-CN') expect(await refused.innerText()).toContain('用户名或密码错误');
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
        { pid: 'P-XR-1', priority: 'urgent', file: XRAY, drop: true },
        { pid: 'P-US-1', priority: 'routine', file: US, failFirstUpload: true },
      ];
      for (const s of studies) {
        let failed = false;
        if (s.failFirstUpload) {
          // The first PUT of the bytes fails on the network: the row says so and offers a retry.
          await page.route('**/api/uploads/**', (route) => {
            if (failed) return route.continue();
            failed = true;
            return route.abort('connectionreset');
          });
        }
        const panel = await submitStudy(page, { ...s, name: T.name });
        const row = panel.locator('[data-testid=upload-0]');
        if (s.failFirstUpload) {
          await expect.poll(() => row.getAttribute('data-state'), { timeout: 20_000 }).toBe('failed');
          await shot(page, `${lang}-technician-upload-failed`);
          await row.getByRole('button').click();
        }
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

      // The administrator sees the backlog of three pools, one case each.
      const admin = await browser.ctx.newPage();
      await login(admin, srv.url, 'admin');
      await admin.locator('[data-testid=backlog] tr[data-pool=ultrasound]').waitFor();
      await expect.poll(async () => (await admin.locator('[data-testid=backlog] tbody').innerText()).match(/\b1\b/g)?.length ?? 0, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
      await admin.locator('[data-testid=backlog-chart] canvas').waitFor();
      await admin.waitForTimeout(300); // the chart draws on the next frame
      await shot(admin, `${lang}-admin-backlog`); // the dashboard with a simulated day: dashboard.test.ts
      await admin.close();
    });

    it('the ECG reader sees the STAT ECG first, reads it on the calibrated grid and signs a critical report', async () => {
      // Two more ECGs wait behind the STAT one (routine, from another clinic), so the worklist has an order to show.
      const techB = await Api.login(srv.url, 'tech-b');
      for (const [i, f] of ['ecg-12lead-eli250-explicit-le-cabolabs.dcm', 'ecg-12lead-eli250-implicit-le-ecgtoolkit.dcm'].entries()) {
        const sub = await techB.submit([{ name: f, bytes: new Uint8Array(readFileSync(join(SAMPLES, f))) }], { priority: i ? 'urgent' : 'routine', patient: { id: `P-B-${i}`, name: lang === 'en' ? `Li Lei ${i}` : `李雷${i}` } });
        await techB.waitCase(sub.caseId, (c) => c.status !== 'AWAITING_FILES').catch(() => null);
      }
      const page = await browser.ctx.newPage();
      await login(page, srv.url, 'ecg-reader');
      await expect.poll(() => page.locator('[data-testid=worklist] tbody tr').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
      const first = page.locator('[data-testid=worklist] tbody tr').first();
      await first.waitFor();
      expect(await first.getAttribute('data-priority')).toBe('stat');
      // Keyboard: rows take focus and arrows move between them.
      await first.focus();
      await page.keyboard.press('ArrowDown');
      expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('TR');
      await shot(page, `${lang}-reader-worklist`);
      // Enter on a row opens the case read-only; the back link returns to the worklist.
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/reader\/view\//);
      await page.locator('[data-testid=ecg-canvas]').waitFor({ timeout: 20_000 });
      expect(await page.locator('[data-testid=report-form]').count()).toBe(0);
      await page.locator('.reading-head a').click();
      await page.locator('[data-testid=worklist]').waitFor();
      // The lease is kept alive while the reading screen is open and given back when the reader leaves.
      const admin = await Api.login(srv.url, 'admin');
      const claimed = (await readNextAndWait(page))!;
      const lease0 = (await admin.call('GET', `/api/cases/${claimed}`)).json.lease.expiresAt as string;
      await expect.poll(async () => (await admin.call('GET', `/api/cases/${claimed}`)).json.lease?.expiresAt, { timeout: 10_000 }).not.toBe(lease0);
      // A saved draft is resumed when the reader comes back to the case.
      const draftText = lang === 'en' ? 'Draft: sinus rhythm, to be confirmed' : '草稿：窦性心律，待确认';
      await page.locator('textarea[name=findings]').fill(draftText);
      await page.getByRole('button', { name: lang === 'en' ? 'Save draft' : '保存草稿' }).click();
      await page.locator('[data-testid=sign-status]').waitFor();
      await page.locator('.reading-head a').click();
      await expect.poll(async () => (await admin.call('GET', `/api/cases/${claimed}`)).json.status, { timeout: 10_000 }).toBe('QUEUED');
      expect(await readNextAndWait(page)).toBe(claimed);
      await page.locator('[data-testid=draft-restored]').waitFor({ timeout: 10_000 });
      expect(await page.locator('textarea[name=findings]').inputValue()).toBe(draftText);
      await page.locator('[data-testid=measurements]').waitFor();
      // From the waveform route when the server has it, else decoded from the DICOM file in the browser.
      const grid = page.locator('[data-testid=ecg-canvas]');
      await grid.waitFor({ timeout: 20_000 });
      expect(await page.locator('.ecg-scroll + .note').count()).toBe(waveformRoute ? 0 : 1);
      const st = await canvasStats(page, '[data-testid=ecg-canvas]');
      expect(st.std).toBeGreaterThan(5);
      // 12 leads in 3×4 + rhythm strip: 4 rows of 30 mm at 10 mm/mV.
      const px = Number(await page.locator('[data-testid=ecg]').getAttribute('data-px-per-mm'));
      const h10 = (await grid.boundingBox())!.height;
      expect(h10 / px).toBeCloseTo(4 * 30 + 4, 0);
      await page.locator('[data-testid=ecg-gain]').selectOption('20');
      await expect.poll(async () => (await grid.boundingBox())!.height / px, { timeout: 15_000 }).toBeCloseTo(4 * 60 + 4, 0);
      await page.locator('[data-testid=ecg-gain]').selectOption('10');
      // Calipers: two clicks measure an interval.
      await page.getByRole('button', { name: lang === 'en' ? 'Calipers' : '卡尺' }).click();
      const gb = (await grid.boundingBox())!;
      await page.mouse.click(gb.x + 100, gb.y + 50);
      await page.mouse.click(gb.x + 100 + 25 * px, gb.y + 50); // 25 mm = 1 s at 25 mm/s
      const readout = await page.locator('[data-testid=caliper-readout]').innerText();
      expect(Number(/\d+/.exec(readout)![0]), readout).toBeGreaterThan(985); // 1000 ms within the mouse's whole pixels
      expect(Number(/\d+/.exec(readout)![0]), readout).toBeLessThan(1015);
      await shot(page, `${lang}-reader-ecg`);
      // A wrong PIN is refused, in the reader's language.
      await page.locator('select[name=template]').selectOption('ecg-stemi');
      await page.locator('input[name=pin]').fill('000000');
      await page.locator('[data-testid=sign]').click();
      const bad = page.locator('[data-testid=report-form] [data-code="SIGN.BAD_PIN"]');
      await bad.waitFor();
      // …saying how many wrong PINs are left before signing locks.
      expect(await bad.innerText()).toContain(lang === 'zh-CN' ? '签名 PIN 不正确，再错 4 次将锁定签名 15 分钟' : '4 more wrong PINs in a row will lock signing for 15 minutes');
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
      await shot(page, `${lang}-reader-xray`);
      const wl0 = await viewer.getAttribute('data-wl');
      const box = (await page.locator('[data-testid=viewer-canvas]').boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 2 - 120, box.y + box.height / 2 + 60, { steps: 6 });
      await page.mouse.up();
      await expect.poll(() => viewer.getAttribute('data-wl'), { timeout: 15_000 }).not.toBe(wl0);
      await expect.poll(async () => (await canvasStats(page, '[data-testid=viewer-canvas]')).hash, { timeout: 10_000 }).not.toBe(before.hash);
      // Keyboard: the canvas takes focus; arrows change window/level too.
      const wl1 = await viewer.getAttribute('data-wl');
      await page.locator('[data-testid=viewer-canvas]').focus();
      await page.keyboard.press('ArrowRight');
      await expect.poll(() => viewer.getAttribute('data-wl'), { timeout: 15_000 }).not.toBe(wl1);
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

    it('the technician sees the signed critical report standing out and acknowledges it with a read-back; the reader amends it and the clinic acknowledges version 2; the admin sees turnaround', async () => {
      const page = await browser.ctx.newPage();
      await login(page, srv.url, 'tech-a');
      // The clinic's home says a critical result waits, and links to it.
      const waiting = page.locator('[data-testid=critical-waiting]');
      await waiting.waitFor({ timeout: 20_000 });
      await page.locator('[data-testid=case-list] tr.critical', { hasText: 'P-ECG-1' }).waitFor();
      await waiting.locator('a', { hasText: 'P-ECG-1' }).click();
      const detail = page.locator('[data-testid=case-detail]');
      await expect.poll(() => detail.getAttribute('data-status'), { timeout: 20_000 }).toBe('DELIVERED');
      await page.locator('[data-testid=signed-report]').waitFor();
      await page.locator('[data-testid=critical-banner]').waitFor();
      await shot(page, `${lang}-technician-report`);
      const download = page.waitForEvent('download');
      await page.locator('[data-testid=download-pdf]').click();
      expect((await download).suggestedFilename()).toMatch(/\.pdf$/);
      await page.locator('input[name=receivedBy]').fill('值班医生 张三');
      await page.locator('textarea[name=readBack]').fill('急性 ST 段抬高型心肌梗死可能');
      await page.locator('.ack-form button[type=submit]').click();
      await page.locator('[data-testid=acknowledged]').waitFor();
      expect(await page.locator('[data-testid=critical-banner]').count()).toBe(0);

      // The ECG reader amends the signed report (version 2, never an edit of version 1) …
      const reader = await browser.ctx.newPage();
      await login(reader, srv.url, 'ecg-reader');
      await reader.locator('[data-testid=recent] a', { hasText: 'P-ECG-1' }).click();
      await reader.locator('[data-testid=amend-open]').click();
      await reader.locator('[data-testid=amend-form] input[name=reason]').fill('补充：建议急诊 PCI');
      await reader.locator('[data-testid=amend-form] input[name=pin]').fill(DEMO_PIN);
      await reader.locator('[data-testid=amend-sign]').click();
      await reader.locator('[data-testid=amend-status]').waitFor();
      await shot(reader, `${lang}-reader-amend`);
      await reader.close();
      // … and the clinic acknowledges the new version, with its read-back (still critical).
      expect(await page.locator('[data-testid=ack-version]').count()).toBe(0); // version 1 is acknowledged
      const ack = page.locator('[data-testid=ack-version][data-version="2"]');
      await ack.waitFor({ timeout: 20_000 });
      await ack.locator('input[name=receivedBy]').fill('值班医生 张三');
      await ack.locator('textarea[name=readBack]').fill('急性 ST 段抬高型心肌梗死可能，建议急诊 PCI');
      await ack.locator('button[type=submit]').click();
      await expect.poll(() => ack.count(), { timeout: 15_000 }).toBe(0);
      await page.close();

      const admin = await browser.ctx.newPage();
      await login(admin, srv.url, 'admin');
      await admin.locator('[data-testid=backlog]').waitFor();
      await expect(admin.locator('#bl-h').innerText()).resolves.toBe(T.backlog);
      await admin.locator('[data-testid=backlog-chart] canvas').waitFor();
      await admin.locator('[data-testid=turnaround]').waitFor();
      await shot(admin, `${lang}-admin-after`);
      await admin.close();
    });
  });
}
