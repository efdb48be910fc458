/** Acceptance 6: the Lambda bundles (esbuild, no Docker) are small, hold no SQLite driver, and load. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

  it('every bundle carries its own dependencies: outside the repo, with only the runtime\'s AWS SDK, each loads up to its configuration check', async () => {
    // Lambda has no node_modules but @aws-sdk: a dependency left to a runtime require() (as
    // dicom-parser once was) fails here with "Cannot find module" instead of the configuration error.
    const dir = mkdtempSync(join(tmpdir(), 'teleread-bundles-'));
    try {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(join(REPO_ROOT, 'node_modules', '@aws-sdk'), join(dir, 'node_modules', '@aws-sdk'));
      const saved = process.env['TELEREAD_TABLE'];
      delete process.env['TELEREAD_TABLE'];
      try {
        for (const fn of ['api', 'delivery', 'ingest', 'sweep']) {
          const outfile = join(dir, `${fn}.mjs`);
          await build(lambdaBuildOptions(`${fn}.lambda.ts`, outfile));
          await expect(import(pathToFileURL(outfile).href), fn).rejects.toThrow(/Invalid configuration/);
        }
      } finally {
        if (saved !== undefined) process.env['TELEREAD_TABLE'] = saved;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
