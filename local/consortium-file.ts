import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConsortiumSchema, type Consortium } from '../shared/contracts/consortium.ts';
import { describeIssues } from '../shared/contracts/describe.ts';

/** The consortium file of a data directory (`<data dir>/consortium.json`), which `npm start` reads at start. */
export const consortiumFileIn = (dataDir: string) => join(dataDir, 'consortium.json');

/** Reads and checks a consortium file; the error says which file and what is wrong with it. */
export async function readConsortiumFile(file: string): Promise<Consortium> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code ? `Cannot read the consortium file ${file} (${code}).` : `The consortium file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const r = ConsortiumSchema.safeParse(raw);
  if (!r.success) throw new Error(`The consortium file ${file} is invalid: ${describeIssues(r.error)}`);
  return r.data;
}

/**
 * Replaces a consortium file as a whole: written beside it (owner-only: it holds password hashes),
 * flushed, renamed over it and the directory flushed, so a crash leaves the old file or the new one.
 */
export async function writeConsortiumFile(file: string, c: Consortium): Promise<void> {
  const checked = ConsortiumSchema.parse(c);
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(checked, null, 2)}\n`, 'utf8');
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
