/**
 * Cross-checks of a written file by readers other than dicom-parser:
 *  - always: the strict independent walker (part10-walk.ts);
 *  - when dcmtk's dcmdump is installed: dcmdump must read the file without any error or warning,
 *    and its top-level values are returned for assertions.
 * Without dcmtk the walker alone still checks the structure; nothing is skipped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { walkPart10, type Walked } from './part10-walk.ts';

export const dcmdumpAvailable: boolean = (() => {
  const r = spawnSync('dcmdump', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
})();

export interface DcmdumpResult {
  /** Top-level data set and meta values by 'gggg,eeee' (lower-case), as dcmdump prints them. */
  values: Map<string, string>;
  output: string;
}

/** Runs dcmdump on a file; throws on any error/warning. Returns null when dcmtk is absent. */
export function dcmdump(path: string, extraArgs: string[] = []): DcmdumpResult | null {
  if (!dcmdumpAvailable) return null;
  const r = spawnSync('dcmdump', ['-M', '+U8', ...extraArgs, path], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const problems = `${r.stderr}`.split('\n').filter((l) => /^[EWF]:/.test(l));
  if (r.status !== 0 || problems.length > 0) {
    throw new Error(`dcmdump rejected ${path} (status ${r.status}): ${problems.join(' | ') || r.stderr}`);
  }
  const values = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^\(([0-9a-f]{4},[0-9a-f]{4})\) [A-Z]{2} (.*?)\s+#/.exec(line);
    if (m) values.set(m[1]!, m[2]!.replace(/^\[(.*)\]$/, '$1'));
  }
  return { values, output: r.stdout };
}

let dir: string | undefined;

/** Walks the bytes strictly and, with dcmtk, dumps them too. */
export function crossCheck(bytes: Uint8Array, name: string, sequenceTags: string[] = []): { walked: Walked; dump: DcmdumpResult | null } {
  const walked = walkPart10(bytes, sequenceTags);
  let dump: DcmdumpResult | null = null;
  if (dcmdumpAvailable) {
    dir ??= mkdtempSync(join(tmpdir(), 'synth-xcheck-'));
    const path = join(dir, name);
    writeFileSync(path, bytes);
    dump = dcmdump(path);
  }
  return { walked, dump };
}

/** The bytes of a stream, concatenated. */
export async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
