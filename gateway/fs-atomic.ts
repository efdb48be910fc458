/**
 * Crash-safe file primitives for the spool: a file is written to a temp name, fsynced, renamed into
 * place and its directory fsynced, so after a power cut a reader sees the old file or the new one,
 * never half of one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** fsync a directory so a rename or create in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } catch (e) {
    // Some filesystems (and Windows) refuse fsync on directories; the rename is still atomic there.
    if (!['EINVAL', 'EISDIR', 'EPERM', 'EBADF'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await h.close();
  }
}

/** A temp name next to `path` (same directory, so the final rename never crosses filesystems). */
export const tempNameFor = (path: string) => join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);

/** Write `data` to `path` atomically (temp → fsync → rename → fsync dir). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempNameFor(path);
  const h = await open(tmp, 'w', 0o600);
  try {
    await h.writeFile(data);
    await h.sync();
  } catch (e) {
    await h.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await h.close();
  await rename(tmp, path);
  await syncDir(dirname(path));
}

/** Move an already fsynced file into place atomically and make the move durable. */
export async function moveDurably(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await rename(from, to);
  await syncDir(dirname(to));
  if (dirname(from) !== dirname(to)) await syncDir(dirname(from));
}
