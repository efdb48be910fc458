/**
 * Time to first image in the browser viewer, for `npm run bench` (acceptance: the 4 MB JPEG 2000 DX).
 * Serves web/dist with local/static.ts, opens /dev/viewer in Debian's chromium and loads the file from
 * disk (no network in the figure); each run is a fresh page, so worker start and WASM compilation count.
 *
 *   import { webFirstImage } from '../test/browser/first-image.ts';
 *   const r = await webFirstImage({ file: join(SAMPLES, 'xray-dx-16bit-jpeg2000-lossless.dcm'), runs: 5 });
 *
 * `firstImageMs`: from choosing the file to the first frame on the canvas (page clock);
 * `decodeMs`: the worker's share (parse + decode + render of frame 0).
 */
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { statSync } from 'node:fs';
import { createStaticSite, WEB_DIST } from '../../local/static.ts';
import { ensureWebBuilt, launch } from './support.ts';

export interface FirstImageResult {
  file: string;
  bytes: number;
  runs: { firstImageMs: number; decodeMs: number }[];
  medianFirstImageMs: number;
  medianDecodeMs: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function webFirstImage(opts: { file: string; runs?: number }): Promise<FirstImageResult> {
  await ensureWebBuilt();
  const site = createStaticSite(WEB_DIST);
  let server: ReturnType<typeof serve> | null = null;
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: async (req) => (await site(new URL(req.url).pathname)) ?? new Response('not found', { status: 404 }), port: 0, hostname: '127.0.0.1' }, (i: AddressInfo) =>
      resolve(i.port),
    );
  });
  const browser = await launch('en');
  const runs: FirstImageResult['runs'] = [];
  try {
    for (let i = 0; i < (opts.runs ?? 5); i++) {
      const page = await browser.ctx.newPage();
      await page.goto(`http://127.0.0.1:${port}/dev/viewer`);
      const t0 = await page.evaluate(() => performance.now());
      await page.locator('input[name=local-dicom]').setInputFiles(opts.file);
      const v = page.locator('[data-testid=viewer][data-ready="1"]');
      await v.waitFor({ timeout: 60_000 });
      const t1 = await page.evaluate(() => performance.now());
      runs.push({ firstImageMs: t1 - t0, decodeMs: Number(await v.getAttribute('data-first-frame-ms')) });
      await page.close();
    }
  } finally {
    await browser.close();
    await new Promise<void>((r) => (server ? (server as { close(cb: () => void): void }).close(() => r()) : r()));
  }
  return {
    file: basename(opts.file),
    bytes: statSync(opts.file).size,
    runs,
    medianFirstImageMs: median(runs.map((r) => r.firstImageMs)),
    medianDecodeMs: median(runs.map((r) => r.decodeMs)),
  };
}
