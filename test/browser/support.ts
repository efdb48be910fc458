import { execFileSync } from 'node:child_process';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { syntheticEcg } from '../../shared/synth/studies.ts';
import { Api } from '../support/local-server.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SCREENSHOTS = join(ROOT, 'test-output', 'screenshots');
export const CHROMIUM = process.env.TELEREAD_CHROMIUM ?? '/usr/bin/chromium';

// Flags that keep Debian's chromium quiet on a closed network (no background fetches, no QUIC, no sync).
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function newest(p: string): number {
  const s = statSync(p);
  return s.isDirectory() ? Math.max(s.mtimeMs, ...readdirSync(p).map((n) => newest(join(p, n)))) : s.mtimeMs;
}

/** Build web/dist when missing or stale; a lock directory keeps parallel test files from building at once. */
export async function ensureWebBuilt(): Promise<void> {
  const web = join(ROOT, 'web');
  const index = join(web, 'dist', 'index.html');
  const sources = [join(web, 'src'), join(web, 'index.html'), join(web, 'vite.config.ts'), join(ROOT, 'shared', 'contracts')];
  const stale = () => !existsSync(index) || Math.max(...sources.map(newest)) > statSync(index).mtimeMs;
  if (!stale()) return;
  const lock = join(ROOT, '.tmp', 'web-build.lock');
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i > 600) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
      if (!stale()) return;
    }
  }
  try {
    if (!stale()) return;
    // A separate process with NODE_ENV=production: vitest sets NODE_ENV=test, which would make Vite bundle
    // React's development build.
    execFileSync(process.execPath, [join(web, 'build-if-stale.mjs')], { env: { ...process.env, NODE_ENV: 'production' }, stdio: 'ignore' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface BrowserSession {
  ctx: BrowserContext;
  close(): Promise<void>;
}

/** Debian's chromium with a fresh profile directory, in the given UI locale. */
export async function launch(locale: string, opts: { deviceScaleFactor?: number; timezoneId?: string; viewport?: { width: number; height: number } } = {}): Promise<BrowserSession> {
  const dir = mkdtempSync(join(tmpdir(), 'teleread-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    locale,
    viewport: opts.viewport ?? { width: 1400, height: 900 },
    deviceScaleFactor: opts.deviceScaleFactor ?? 1,
    ...(opts.timezoneId ? { timezoneId: opts.timezoneId } : {}),
    acceptDownloads: true,
  });
  return {
    ctx,
    async close() {
      await ctx.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Screens the README shows: with TELEREAD_DOCS_SCREENSHOTS=1 the tests refresh their small copies in docs/screenshots. */
const DOCS = new Set([
  'zh-CN-technician-upload',
  'zh-CN-technician-rejected',
  'zh-CN-technician-report',
  'zh-CN-reader-worklist',
  'zh-CN-reader-ecg',
  'zh-CN-reader-xray',
  'zh-CN-reader-ultrasound',
  'en-reader-ecg',
  'en-admin-dashboard',
  'zh-CN-admin-dashboard',
]);

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const png = await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  if (process.env.TELEREAD_DOCS_SCREENSHOTS && DOCS.has(name)) {
    // Halve it in the page itself (no image library needed): 700 px wide is enough for the README.
    const small = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = Math.round(img.width / 2);
      c.height = Math.round(img.height / 2);
      const ctx = c.getContext('2d')!;
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(img, 0, 0, c.width, c.height);
      return c.toDataURL('image/png').split(',')[1]!;
    }, png.toString('base64'));
    const dir = join(ROOT, 'docs', 'screenshots');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.png`), Buffer.from(small, 'base64'));
  }
}

export async function login(page: Page, base: string, username: string, password = 'teleread-demo'): Promise<void> {
  await page.goto(`${base}/login`);
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(password);
  await page.locator('form.login button[type=submit]').click();
  await page.locator('[data-testid=who]').waitFor();
}

/** Statistics of the pixels of a canvas (device pixels). */
export async function canvasStats(page: Page, selector: string): Promise<{ mean: number; std: number; hash: number; w: number; h: number }> {
  return page.locator(selector).evaluate((cv: HTMLCanvasElement) => {
    const ctx = cv.getContext('2d')!;
    const d = ctx.getImageData(0, 0, cv.width, cv.height).data;
    let s = 0;
    let s2 = 0;
    let hash = 0;
    const n = d.length / 4;
    for (let i = 0; i < d.length; i += 4) {
      const v = (d[i]! + d[i + 1]! + d[i + 2]!) / 3;
      s += v;
      s2 += v * v;
      if (i % 397 === 0) hash = (hash * 31 + d[i]! + d[i + 1]! * 7 + d[i + 2]! * 13) >>> 0;
    }
    const mean = s / n;
    return { mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)), hash, w: cv.width, h: cv.height };
  });
}

/**
 * A technician (tech-a) submits a synthetic ECG; the ECG reader signs in on a new page, its timers on
 * Playwright's clock (so heartbeats come when the test says), and takes the next case. `caseId` is the
 * case on the screen: the oldest waiting one, which may be an earlier test's given back.
 */
export async function readNextEcgOnClock(browser: BrowserSession, base: string, seed: number): Promise<{ page: Page; tech: Api; caseId: string; submitted: string }> {
  const tech = await Api.login(base, 'tech-a');
  const sub = await tech.submit([{ name: 'ecg.dcm', bytes: syntheticEcg({ seed }).bytes }]);
  await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
  const page = await browser.ctx.newPage();
  await page.clock.install();
  await login(page, base, 'ecg-reader');
  await page.locator('[data-testid=read-next]').click();
  await page.locator('[data-testid=reading]').waitFor();
  const caseId = (await page.locator('[data-testid=reading]').getAttribute('data-case'))!;
  return { page, tech, caseId, submitted: sub.caseId };
}
