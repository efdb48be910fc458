import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStaticSite } from '../../local/static.ts';

describe('local/static.ts serves web/dist', () => {
  const root = mkdtempSync(join(tmpdir(), 'teleread-static-'));
  const dist = join(root, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(dist, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(dist, 'assets', 'codec-abc.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(root, 'secret.txt'), 'secret');
  const site = createStaticSite(dist);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('answers files with their content type; hashed assets are cached for good, the page is not', async () => {
    const js = (await site('/assets/index-abc.js'))!;
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    const wasm = (await site('/assets/codec-abc.wasm'))!;
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(new Uint8Array(await wasm.arrayBuffer())).toEqual(new Uint8Array([0, 97, 115, 109]));
    const page = (await site('/'))!;
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
  });

  it('falls back to index.html for app routes, but not for missing assets', async () => {
    expect(await (await site('/reader/read/case-1'))!.text()).toContain('<title>app</title>');
    expect(await site('/assets/missing.js')).toBeNull();
  });

  it('refuses to leave the root', async () => {
    for (const p of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/..%5c..%5csecret.txt', '/%00', '/%E0%A4%A']) {
      const r = await site(p);
      if (r) expect(await r.text(), p).not.toContain('secret');
    }
  });

  it('says how to build when web/dist is missing', async () => {
    const none = createStaticSite(join(root, 'nowhere'));
    const r = (await none('/'))!;
    expect(r.status).toBe(503);
    expect(await r.text()).toContain('npm run build:web');
  });
});
