import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLES, startTestServer, type TestServer } from '../support/local-server.ts';
import { canvasStats, ensureWebBuilt, launch, ROOT, shot, type BrowserSession } from './support.ts';

/** One file per transfer syntax (and photometric variant) among the samples. */
const SAMPLES_BY_SYNTAX = [
  ['xray-cr-chest-16bit-uncompressed-explicit-le.dcm', 'Explicit VR LE, MONOCHROME1'],
  ['xray-cr-chest-16bit-raw-no-part10-header.dcm', 'Implicit VR LE without Part 10 header'],
  ['us-rgb-explicit-big-endian-small.dcm', 'Explicit VR big endian'],
  ['us-palette-rle-single-frame.dcm', 'RLE lossless, palette colour'],
  ['us-multiframe-10f-palette-rle-echo.dcm', 'RLE lossless, 10 frames'],
  ['us-ybr-jpeg-baseline-single-frame-philips.dcm', 'JPEG baseline (1.2.840.10008.1.2.4.50)'],
  ['us-multiframe-8f-jpeg-baseline-no-bot.dcm', 'JPEG baseline, several fragments per frame, no offset table'],
  ['us-ybr-jpeg-extended-single-frame.dcm', 'JPEG extended (4.51), colour'],
  ['xray-cr-nema-rg2-jpeg-extended-12bit.dcm', 'JPEG extended (4.51), 12 bit'],
  ['xray-cr-16bit-jpeg-lossless-sv1.dcm', 'JPEG lossless SV1 (4.70)'],
  ['xray-cr-nema-rg2-jpegls-near-lossless.dcm', 'JPEG-LS near-lossless (4.81)'],
  ['xray-cr-nema-rg3-jpeg2000-lossy.dcm', 'JPEG 2000 (4.91)'],
  ['us-ybr-jpeg2000-lossy-single-frame-nema-us1.dcm', 'JPEG 2000 (4.91), colour'],
  ['xray-dx-16bit-jpeg2000-lossless.dcm', 'JPEG 2000 lossless (4.90), 4 MB DX'],
  ['xray-dx-8bit-uncompressed-highdicom.dcm', 'DX 8 bit MONOCHROME1'],
  ['other-ct-small.dcm', 'CT, explicit VR LE'],
] as const;

async function open(page: Page, file: string) {
  await page.locator('input[name=local-dicom]').setInputFiles(join(SAMPLES, file));
  const v = page.locator(`[data-testid=local-viewer][data-name="${file}"] [data-testid=viewer]`);
  await v.waitFor();
  await expect.poll(async () => (await v.getAttribute('data-ready')) === '1' || (await page.locator('.viewer [role=alert]').count()) > 0, { timeout: 30_000 }).toBe(true);
  const err = page.locator('.viewer [role=alert]');
  if (await err.count()) throw new Error(`${file}: ${await err.innerText()}`);
  return v;
}

describe('the viewer in the browser', { timeout: 120_000 }, () => {
  let srv: TestServer;
  let browser: BrowserSession;
  let page: Page;
  const timings: Record<string, number> = {};
  const calib: { pxPerMm: number; heightMm: number; lengthMm: number }[] = [];

  beforeAll(async () => {
    await ensureWebBuilt();
    srv = await startTestServer();
    browser = await launch('en');
    page = await browser.ctx.newPage();
    await page.goto(`${srv.url}/dev/viewer`);
  });
  afterAll(async () => {
    mkdirSync(join(ROOT, 'test-output'), { recursive: true });
    writeFileSync(join(ROOT, 'test-output', 'viewer-timings.json'), JSON.stringify({ firstImageMs: timings, ecgCalibration: calib }, null, 2));
    await browser?.close();
    await srv?.close();
  });

  it('renders every transfer syntax of the samples (pixels on the canvas, not blank)', async () => {
    for (const [file] of SAMPLES_BY_SYNTAX) {
      const v = await open(page, file);
      const st = await canvasStats(page, '[data-testid=local-viewer] [data-testid=viewer-canvas]');
      expect(st.std, file).toBeGreaterThan(3);
      timings[file] = Number(await v.getAttribute('data-first-frame-ms'));
    }
    // Time to first image of the 4 MB JPEG 2000 DX, decoded in the browser's worker (WASM codecs).
    expect(timings['xray-dx-16bit-jpeg2000-lossless.dcm']).toBeGreaterThan(0);
  });

  it('shows the first frame of the 30-frame ultrasound before all frames are decoded, and plays at its frame time', async () => {
    const v = await open(page, 'us-multiframe-30f-jpeg-baseline-ybr422.dcm');
    expect(await v.getAttribute('data-frames')).toBe('30');
    await expect.poll(() => v.getAttribute('data-decoded'), { timeout: 20_000 }).toBe('30');
    const first = Number(await v.getAttribute('data-first-frame-ms'));
    const all = Number(await v.getAttribute('data-all-frames-ms'));
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(all);
    expect(Number(await v.getAttribute('data-first-drawn-decoded'))).toBeLessThan(30);
    expect(Number(await v.getAttribute('data-frame-time'))).toBeCloseTo(33.333, 2);
    // Keyboard: space plays, "." steps.
    await page.locator('[data-testid=local-viewer] [data-testid=viewer-canvas]').focus();
    await page.keyboard.press('Space');
    // Frame index sampled in the page for ~0.6 s: the cine advances at about the file's 30 frames a second.
    const samples = await v.evaluate(async (el) => {
      const out: [number, number][] = [];
      const t0 = performance.now();
      while (performance.now() - t0 < 600) {
        out.push([performance.now(), Number(el.getAttribute('data-frame'))]);
        await new Promise((r) => setTimeout(r, 10));
      }
      return out;
    });
    await page.keyboard.press('Space');
    expect(await v.getAttribute('data-playing')).toBe('0');
    let advanced = 0;
    for (let i = 1; i < samples.length; i++) advanced += (samples[i]![1] - samples[i - 1]![1] + 30) % 30;
    const fps = advanced / ((samples.at(-1)![0] - samples[0]![0]) / 1000);
    // Never faster than the file's 30 fps; well above a slideshow even on a busy 2-core CI machine.
    expect(fps).toBeGreaterThan(10);
    expect(fps).toBeLessThan(36);
    const f0 = Number(await v.getAttribute('data-frame'));
    await page.keyboard.press('.');
    expect(Number(await v.getAttribute('data-frame'))).toBe((f0 + 1) % 30);
    await shot(page, 'viewer-ultrasound-cine');
  });

  it('plays a cine larger than its frame memory budget: frames outside it are decoded again on the way', async () => {
    await page.evaluate(() => localStorage.setItem('teleread.viewerCacheMB', '1')); // 1 MB: 4 frames of 320×240 RGBA
    await page.reload();
    try {
      const v = await open(page, 'us-multiframe-30f-jpeg-baseline-ybr422.dcm');
      await expect.poll(() => v.getAttribute('data-decoded'), { timeout: 20_000 }).toBe('30');
      expect(Number(await v.getAttribute('data-cached'))).toBeLessThanOrEqual(4);
      await page.locator('[data-testid=local-viewer] [data-testid=play]').click();
      const seen = await v.evaluate(async (el) => {
        const s = new Set<string>();
        const t0 = performance.now();
        while (performance.now() - t0 < 1500) {
          s.add(el.getAttribute('data-frame')!);
          await new Promise((r) => setTimeout(r, 10));
        }
        return s.size;
      });
      await page.locator('[data-testid=local-viewer] [data-testid=play]').click();
      expect(seen).toBeGreaterThan(12); // 45 frame times in 1.5 s: most frames shown even when re-decoded (busy CI allowed for)
      expect(Number(await v.getAttribute('data-cached'))).toBeLessThanOrEqual(4);
      expect((await canvasStats(page, '[data-testid=local-viewer] [data-testid=viewer-canvas]')).std).toBeGreaterThan(3);
    } finally {
      await page.evaluate(() => localStorage.removeItem('teleread.viewerCacheMB'));
      await page.reload();
    }
  });

  it('windows, zooms, pans and inverts a CR with the mouse, the keyboard and the toolbar', async () => {
    const v = await open(page, 'xray-cr-nema-rg3-jpeg2000-lossy.dcm');
    const sel = '[data-testid=local-viewer] [data-testid=viewer-canvas]';
    const s0 = await canvasStats(page, sel);
    await page.locator('[data-testid=local-viewer] [data-testid=wl-preset]').selectOption('narrow');
    await expect.poll(async () => (await canvasStats(page, sel)).hash, { timeout: 15_000 }).not.toBe(s0.hash);
    const s1 = await canvasStats(page, sel);
    await page.getByRole('button', { name: 'Invert' }).click();
    await expect.poll(async () => (await canvasStats(page, sel)).hash, { timeout: 15_000 }).not.toBe(s1.hash);
    const s2 = await canvasStats(page, sel);
    expect(Math.abs(s2.mean - s1.mean)).toBeGreaterThan(5);
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await page.locator(sel).focus();
    await page.keyboard.press('Shift+ArrowLeft');
    await page.keyboard.press('r');
    await expect.poll(() => v.getAttribute('data-wl'), { timeout: 15_000 }).toBeTruthy();
    // Distance: with the file's pixel spacing, in mm.
    await page.locator('[data-testid=local-viewer] [data-testid=measure]').click();
    const box = (await page.locator(sel).boundingBox())!;
    await page.mouse.move(box.x + box.width / 2 - 100, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 100, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    expect(await v.getAttribute('data-ruler')).toMatch(/^\d+(\.\d)? (mm|px)$/);
    const ruler = (await v.getAttribute('data-ruler'))!;
    expect(parseFloat(ruler)).toBeGreaterThan(10);
    await shot(page, 'viewer-cr-jpeg2000');
  });

  it('ECG calibration: a 1 mV, 1 s square pulse measures 10 mm high and 25 mm long at the calibrated scale (±2 %)', async () => {
    for (const pxPerMm of [4, 6.3]) {
      await page.evaluate((v) => localStorage.setItem('teleread.pxPerMm', String(v)), pxPerMm);
      await page.goto(`${srv.url}/dev/ecg-calibration`);
      const cv = page.locator('[data-testid=ecg-test-canvas]');
      await cv.waitFor();
      expect(Number(await page.locator('[data-testid=ecg-test]').getAttribute('data-px-per-mm'))).toBe(pxPerMm);
      const m = await cv.evaluate((c: HTMLCanvasElement) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        const dark = (x: number, y: number) => {
          const i = (y * c.width + x) * 4;
          const [r, g, b] = [d[i]!, d[i + 1]!, d[i + 2]!];
          // The trace is black (anti-aliased to greys); the grid is pink and the labels blue.
          return r < 200 && g < 200 && b < 200 && Math.abs(r - b) < 40;
        };
        // Rows and columns crossed by the long horizontal and vertical runs of the trace.
        const rows: number[] = [];
        for (let y = 0; y < c.height; y++) {
          let n = 0;
          for (let x = 0; x < c.width; x++) if (dark(x, y)) n++;
          rows.push(n);
        }
        const cols: number[] = [];
        for (let x = 0; x < c.width; x++) {
          let n = 0;
          for (let y = 0; y < c.height; y++) if (dark(x, y)) n++;
          cols.push(n);
        }
        // Weighted centres of the runs: the top of the pulse and the baseline; the rising and falling edges.
        const centre = (a: number[], from: number, to: number) => {
          let s = 0;
          let w = 0;
          for (let i = from; i < to; i++) {
            s += i * a[i]!;
            w += a[i]!;
          }
          return s / w;
        };
        const peaks = (a: number[], min: number) => {
          const out: [number, number][] = [];
          let i = 0;
          while (i < a.length) {
            if (a[i]! >= min) {
              const start = i;
              while (i < a.length && a[i]! >= min) i++;
              out.push([start, i]);
            } else i++;
          }
          return out;
        };
        const maxRow = Math.max(...rows);
        const rowRuns = peaks(rows, maxRow * 0.3);
        const maxCol = Math.max(...cols);
        const colRuns = peaks(cols, maxCol * 0.5);
        return {
          rowRuns: rowRuns.map(([a, b]) => centre(rows, a, b)),
          colRuns: colRuns.map(([a, b]) => centre(cols, a, b)),
          dpr: window.devicePixelRatio,
        };
      });
      expect(m.rowRuns.length, JSON.stringify(m)).toBe(2);
      expect(m.colRuns.length, JSON.stringify(m)).toBe(2);
      const k = pxPerMm * m.dpr;
      const heightMm = (m.rowRuns[1]! - m.rowRuns[0]!) / k;
      const lengthMm = (m.colRuns[1]! - m.colRuns[0]!) / k;
      calib.push({ pxPerMm, heightMm, lengthMm });
      expect(Math.abs(heightMm - 10) / 10, `height ${heightMm} mm`).toBeLessThan(0.02);
      expect(Math.abs(lengthMm - 25) / 25, `length ${lengthMm} mm`).toBeLessThan(0.02);
    }
    await shot(page, 'ecg-calibration');
  });
});
