import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConsortiumSchema, type Consortium } from '../shared/contracts/consortium.ts';
import { describeIssues } from '../shared/contracts/describe.ts';

/** The consortium file of a data directory (`<data dir>/consortium.json`), which `npm start` reads at start. */
export const consortiumFileIn = (dataDir: string) => join(dataDir, 'consortium.json');

/** A temp file older than this is a crashed write's (it may hold password hashes): removed by the next write. */
const STALE_TEMP_MS = 60_000;

/**
 * Reads and checks a consortium file. `raw` is the file's JSON as written (keys the schema does not
 * know included), for edits that must keep them; the error says which file and what is wrong.
 */
export async function readConsortiumFile(file: string): Promise<{ raw: Record<string, unknown>; consortium: Consortium }> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code ? `Cannot read the consortium file ${file} (${code}).` : `The consortium file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const r = ConsortiumSchema.safeParse(raw);
  if (!r.success) throw new Error(`The consortium file ${file} is invalid: ${describeIssues(r.error)}`);
  return { raw: raw as Record<string, unknown>, consortium: r.data };
}

/**
 * Refuses, before anything is asked or changed, a file this process could not replace as it is:
 * owned by another user (a rewrite would leave it owned by this one, and a server running as its
 * owner could no longer read it).
 */
export async function assertCanRewrite(file: string): Promise<void> {
  const st = await stat(file);
  const me = process.getuid?.();
  if (me !== undefined && me !== 0 && st.uid !== me) {
    throw new Error(`${file} belongs to another user (uid ${st.uid}); run this command as that user (the one TeleRead runs as) or as root.`);
  }
}

/**
 * Sets one user's password hash and changes nothing else: keys the schema does not know (notes,
 * fields of a newer version) and the order of keys stay as written. False when there is no such user.
 */
export async function setUserPasswordHash(file: string, userId: string, passwordHash: string): Promise<boolean> {
  const target = await realpath(file);
  const { raw } = await readConsortiumFile(target);
  const users = raw['users'] as Record<string, unknown>[];
  const user = users.find((u) => u['id'] === userId);
  if (!user) return false;
  user['passwordHash'] = passwordHash;
  await replaceFile(target, raw);
  return true;
}

/** Writes a whole consortium file (checked against the schema first), as `replaceFile` does. */
export async function writeConsortiumFile(file: string, c: Consortium | Record<string, unknown>): Promise<void> {
  await replaceFile(await realpath(file).catch(() => file), c);
}

/**
 * Replaces the file with `value` as JSON: checked against the schema, written beside it with the old
 * file's permissions and owner (owner-only for a new file: it holds password hashes), flushed, renamed
 * over it and the directory flushed, so a crash leaves the old file or the new one, never half of one.
 */
async function replaceFile(file: string, value: unknown): Promise<void> {
  const r = ConsortiumSchema.safeParse(value);
  if (!r.success) throw new Error(`The new consortium would be invalid: ${describeIssues(r.error)}; ${file} was not changed.`);
  const dir = dirname(file);
  await removeStaleTemps(dir, basename(file));
  const old = await stat(file).catch(() => null);
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  let failed: unknown = null;
  try {
    if (old) {
      await fh.chmod(old.mode & 0o7777);
      if (old.uid !== process.getuid?.() || old.gid !== process.getgid?.()) await fh.chown(old.uid, old.gid);
    }
    await fh.writeFile(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
    await fh.sync();
  } catch (e) {
    failed = e;
  } finally {
    await fh.close().catch((e: unknown) => (failed ??= e));
  }
  try {
    if (failed) throw failed;
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

async function removeStaleTemps(dir: string, name: string): Promise<void> {
  const prefix = `.${name}.`;
  for (const f of await readdir(dir)) {
    if (!f.startsWith(prefix) || !f.endsWith('.tmp')) continue;
    const p = join(dir, f);
    const st = await stat(p).catch(() => null);
    if (st && Date.now() - st.mtimeMs > STALE_TEMP_MS) await rm(p, { force: true });
  }
}
