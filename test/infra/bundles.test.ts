/** Acceptance 6: the Lambda bundles (esbuild, no Docker) are small, hold no SQLite driver, and load. */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { BUNDLE_TARGET_BYTES, lambdaBuildOptions, measureBundles } from '../../infra/bundle-report.ts';
import { REPO_ROOT } from '../../infra/constructs/teleread-function.ts';

describe('Lambda bundles', () => {
  it('measureBundles: one minified bundle per functions/*.lambda.ts, each < 1.5 MB, none with SQLite', async () => {
    const m = await measureBundles();
    expect(m.map((x) => x.fn)).toEqual(['api', 'delivery', 'ingest', 'sweep']);
    for (const x of m) {
      expect(x.hasSqlite, x.fn).toBe(false);
      expect(x.bytes, x.fn).toBeLessThan(BUNDLE_TARGET_BYTES);
      expect(x.bytes, x.fn).toBeGreaterThan(50_000);
    }
  });

  it('a bundle loads as ESM and reads its configuration at module scope (fails fast without it)', async () => {
    // Inside the repo, so the runtime-provided AWS SDK (external) resolves from node_modules as on Lambda.
    const dir = join(REPO_ROOT, 'node_modules', '.cache', `teleread-bundle-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      const outfile = join(dir, 'ingest.mjs');
      await build(lambdaBuildOptions('ingest.lambda.ts', outfile));
      const saved = process.env['TELEREAD_TABLE'];
      delete process.env['TELEREAD_TABLE'];
      try {
        await expect(import(pathToFileURL(outfile).href)).rejects.toThrow(/Invalid configuration: .*TELEREAD_TABLE/);
      } finally {
        if (saved !== undefined) process.env['TELEREAD_TABLE'] = saved;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
