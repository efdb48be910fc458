/**
 * Bundle sizes of the Lambda functions, as `npm run bench` reports them: each `functions/*.lambda.ts`
 * bundled by esbuild with the settings of the CDK stack (ESM, minified, AWS SDK external: the
 * Lambda runtime provides it), into a temp dir. Target: < 1.5 MB each and no SQLite driver inside.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { BUNDLING, FUNCTIONS_DIR } from './constructs/teleread-function.ts';

export interface BundleMeasure {
  /** Entry name: `ingest`, `api`, `delivery`, `sweep`. */
  fn: string;
  /** Size of the minified bundle (JavaScript only, source map excluded). */
  bytes: number;
  /** Whether any SQLite driver (better-sqlite3, sqlite3, node:sqlite) made it into the bundle. */
  hasSqlite: boolean;
}

export const BUNDLE_TARGET_BYTES = 1.5 * 1024 * 1024;

/** esbuild options that bundle one `functions/*.lambda.ts` exactly as the CDK stack does. */
export function lambdaBuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [join(FUNCTIONS_DIR, entry)],
    outfile,
    bundle: true,
    format: BUNDLING.format,
    platform: BUNDLING.platform,
    target: BUNDLING.target,
    minify: BUNDLING.minify,
    mainFields: BUNDLING.mainFields,
    external: BUNDLING.external,
    banner: { js: BUNDLING.banner },
    alias: BUNDLING.alias,
    logLevel: 'silent',
  };
}

export async function measureBundles(): Promise<Array<{ fn: string; bytes: number; hasSqlite: boolean }>> {
  const entries = (await readdir(FUNCTIONS_DIR)).filter((f) => f.endsWith('.lambda.ts')).sort();
  const out = await mkdtemp(join(tmpdir(), 'teleread-bundles-'));
  try {
    const results: BundleMeasure[] = [];
    for (const entry of entries) {
      const fn = entry.replace(/\.lambda\.ts$/, '');
      const outfile = join(out, `${fn}.mjs`);
      const r = await build({ ...lambdaBuildOptions(entry, outfile), metafile: true });
      const inputs = Object.keys(r.metafile.inputs);
      const code = await readFile(outfile, 'utf8');
      const hasSqlite =
        inputs.some((i) => /node_modules\/(better-sqlite3|sqlite3)\//.test(i)) || /["'](node:sqlite|better-sqlite3)["']/.test(code);
      results.push({ fn, bytes: (await stat(outfile)).size, hasSqlite });
    }
    return results;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

// `npx tsx infra/bundle-report.ts` prints the table.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const m of await measureBundles()) {
    const mb = (m.bytes / 1024 / 1024).toFixed(2);
    console.log(`${m.fn.padEnd(10)} ${mb.padStart(6)} MB ${m.bytes <= BUNDLE_TARGET_BYTES ? 'ok ' : 'BIG'} ${m.hasSqlite ? 'SQLITE INSIDE' : 'no sqlite'}`);
  }
}
