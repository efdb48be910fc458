import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppError } from '../../domain/errors.ts';
import type { BlobStore, PutOptions, StoredObject } from '../../ports/blob-store.ts';

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_KEY_LENGTH = 1024;
const MAX_SEGMENT_LENGTH = 200;
const CHUNK = 64 * 1024;
/** Temp files carry `~`, which no valid key segment can, so they never collide with or list as keys. */
const TEMP_MARK = '~tmp~';

const invalidKey = (key: string, why: string) =>
  new AppError('BLOB.INVALID_KEY', 'invalid', `The object key is not valid: ${why}.`, { key: key.slice(0, 200) });
const notFound = () => new AppError('BLOB.NOT_FOUND', 'not_found', 'No object is stored under this key.');

/** Throws BLOB.INVALID_KEY unless `key` is relative, `/`-separated, of `[A-Za-z0-9._-]` segments, without `.`/`..` or empty segments. */
export function validateBlobKey(key: string): string[] {
  if (typeof key !== 'string' || key.length === 0) throw invalidKey(String(key), 'it is empty');
  if (key.length > MAX_KEY_LENGTH) throw invalidKey(key, `it is longer than ${MAX_KEY_LENGTH} characters`);
  if (key.startsWith('/')) throw invalidKey(key, 'it must be relative (no leading "/")');
  const segments = key.split('/');
  for (const s of segments) {
    if (s.length === 0) throw invalidKey(key, 'it has an empty segment');
    if (s === '.' || s === '..') throw invalidKey(key, 'it has a "." or ".." segment');
    if (!SEGMENT.test(s)) throw invalidKey(key, 'segments may hold only A-Z a-z 0-9 . _ -');
    if (s.length > MAX_SEGMENT_LENGTH) throw invalidKey(key, `a segment is longer than ${MAX_SEGMENT_LENGTH} characters`);
  }
  return segments;
}

const isCode = (e: unknown, ...codes: string[]) =>
  typeof e === 'object' && e !== null && codes.includes((e as NodeJS.ErrnoException).code ?? '');

/** A directory's entries; none when it does not exist (nothing stored under it yet). */
async function entriesOf(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (isCode(e, 'ENOENT', 'ENOTDIR')) return [];
    throw e;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Write every byte of `bufs` (one writev per call; a short write continues where it stopped). */
async function writevAll(fh: FileHandle, bufs: Uint8Array[]): Promise<void> {
  let list = bufs;
  while (list.length > 0) {
    const { bytesWritten } = await fh.writev(list);
    if (bytesWritten <= 0) throw new Error('the disk accepted no bytes');
    let n = bytesWritten;
    const rest: Uint8Array[] = [];
    for (const b of list) {
      if (n >= b.byteLength) {
        n -= b.byteLength;
        continue;
      }
      rest.push(n > 0 ? b.subarray(n) : b);
      n = 0;
    }
    list = rest;
  }
}

/**
 * Batches of incoming chunks, written with one writev each while the next batch fills: a 10 MB
 * upload arriving in 64 KiB chunks takes ~10 disk writes instead of ~160 round trips to the libuv pool,
 * and reading the network overlaps writing the disk. At most one batch in flight plus one filling.
 */
class BatchedWriter {
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private inflight: Promise<void> = Promise.resolve();

  constructor(
    private readonly fh: FileHandle,
    private readonly maxBytes = 1024 * 1024,
    private readonly maxBuffers = 256,
  ) {}

  async push(chunk: Uint8Array): Promise<void> {
    if (chunk.byteLength === 0) return;
    this.batch.push(chunk);
    this.batchBytes += chunk.byteLength;
    if (this.batchBytes >= this.maxBytes || this.batch.length >= this.maxBuffers) await this.flush();
  }

  /** Start writing the current batch once the previous one is done. */
  async flush(): Promise<void> {
    const bufs = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    await this.inflight;
    if (bufs.length) {
      this.inflight = writevAll(this.fh, bufs);
      // Marked handled now; the failure is rethrown where the write is next awaited.
      this.inflight.catch(() => undefined);
    }
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.inflight;
  }
}

/**
 * BlobStore on a local directory. Every write goes to a temp file in the target directory, is
 * fsynced, renamed over the key and the directory fsynced: readers see the old object or the whole
 * new one, and an acknowledged put survives a crash.
 */
export class FsBlobStore implements BlobStore {
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = resolve(rootDir);
  }

  private pathOf(key: string): { segments: string[]; file: string; dir: string } {
    const segments = validateBlobKey(key);
    return { segments, file: join(this.rootDir, ...segments), dir: join(this.rootDir, ...segments.slice(0, -1)) };
  }

  /** mkdir -p, fsyncing the parent of every directory created so the new entries are durable too. */
  /**
   * Directories known to exist (made or seen by this store): a put into a known directory costs no
   * mkdir/stat calls. Forgotten when this store removes one; a put that finds its directory gone
   * anyway (removed from outside) forgets and makes it again.
   */
  private readonly knownDirs = new Set<string>();

  private async ensureDir(segments: string[]): Promise<void> {
    const target = join(this.rootDir, ...segments.slice(0, -1));
    if (this.knownDirs.has(target)) return;
    // One entry per submission directory ever written: start again rather than grow without end.
    if (this.knownDirs.size > 10_000) this.knownDirs.clear();
    if (!this.knownDirs.has(this.rootDir)) {
      await mkdir(this.rootDir, { recursive: true });
      this.knownDirs.add(this.rootDir);
    }
    let parent = this.rootDir;
    for (const s of segments.slice(0, -1)) {
      const dir = join(parent, s);
      if (!this.knownDirs.has(dir)) {
        try {
          await mkdir(dir);
          await fsyncDir(parent);
        } catch (e) {
          if (isCode(e, 'ENOTDIR')) throw conflictWithObject();
          if (!isCode(e, 'EEXIST')) throw e;
          const st = await stat(dir);
          if (!st.isDirectory()) throw conflictWithObject();
        }
        this.knownDirs.add(dir);
      }
      parent = dir;
    }
  }

  /**
   * `op` (which creates an entry in the key's directory) once that directory exists; if it went away
   * behind this store's back (ENOENT), the directory is made again and `op` retried once.
   */
  private async inDir<T>(segments: string[], op: () => Promise<T>): Promise<T> {
    await this.ensureDir(segments);
    try {
      return await op();
    } catch (e) {
      if (!isCode(e, 'ENOENT')) throw e;
      this.forgetDirs(segments);
      await this.ensureDir(segments);
      return await op();
    }
  }

  /** A staging directory is one request's own: once emptied it goes too (rmdir refuses a non-empty one). */
  private async removeIfEmpty(dir: string): Promise<void> {
    if (dir === this.rootDir) return;
    this.knownDirs.delete(dir);
    await rmdir(dir).catch(() => undefined);
  }

  private forgetDirs(segments: string[]): void {
    let dir = this.rootDir;
    this.knownDirs.delete(dir);
    for (const s of segments.slice(0, -1)) this.knownDirs.delete((dir = join(dir, s)));
  }

  private tempPath(file: string): string {
    return `${file}${TEMP_MARK}${randomBytes(8).toString('hex')}`;
  }

  /** fsync the temp file, rename it over the target, fsync the directory. */
  private async commit(temp: string, file: string, dir: string): Promise<void> {
    try {
      await rename(temp, file);
    } catch (e) {
      // A directory where the object should be: rename(2) refuses to replace it.
      if (isCode(e, 'EISDIR', 'ENOTEMPTY', 'EEXIST')) throw conflictWithObject();
      throw e;
    }
    await fsyncDir(dir);
  }

  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<StoredObject> {
    const { segments, file, dir } = this.pathOf(key);
    const max = opts.maxBytes;
    if (body instanceof Uint8Array && max !== undefined && body.byteLength > max) throw tooLarge(max);
    const temp = this.tempPath(file);
    const hash = createHash('sha256');
    let size = 0;
    let fh: FileHandle | undefined;
    let writer: BatchedWriter | undefined;
    try {
      fh = await this.inDir(segments, () => open(temp, 'wx', 0o640));
      writer = new BatchedWriter(fh);
      const chunks: AsyncIterable<Uint8Array> | Uint8Array[] = body instanceof Uint8Array ? [body] : body;
      for await (const chunk of chunks) {
        if (!(chunk instanceof Uint8Array)) throw new AppError('BLOB.INVALID_BODY', 'invalid', 'The body must be bytes.');
        size += chunk.byteLength;
        if (max !== undefined && size > max) throw tooLarge(max);
        hash.update(chunk);
        await writer.push(chunk);
      }
      await writer.finish();
      await fh.sync();
      await fh.close();
      fh = undefined;
      await this.commit(temp, file, dir);
    } catch (e) {
      // A write still in flight must end before the file is closed and removed.
      await writer?.finish().catch(() => undefined);
      if (fh) await fh.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw e;
    }
    return { key, size, sha256: hash.digest('hex') };
  }

  async head(key: string): Promise<{ size: number; lastModified: string } | null> {
    const { file } = this.pathOf(key);
    try {
      const st = await stat(file);
      return st.isFile() ? { size: st.size, lastModified: st.mtime.toISOString() } : null;
    } catch (e) {
      if (isCode(e, 'ENOENT', 'ENOTDIR')) return null;
      throw e;
    }
  }

  private async openForRead(key: string): Promise<FileHandle> {
    const { file } = this.pathOf(key);
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (e) {
      if (isCode(e, 'ENOENT', 'ENOTDIR', 'EISDIR')) throw notFound();
      throw e;
    }
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      throw notFound();
    }
    return fh;
  }

  async readRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      this.pathOf(key);
      throw new AppError('BLOB.INVALID_RANGE', 'invalid', 'offset and length must be non-negative integers.');
    }
    const fh = await this.openForRead(key);
    try {
      const size = (await fh.stat()).size;
      const want = Math.max(0, Math.min(length, size - offset));
      const buf = new Uint8Array(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === want ? buf : buf.subarray(0, got);
    } finally {
      await fh.close();
    }
  }

  stream(key: string): AsyncIterable<Uint8Array> {
    // Validate now so a bad key fails at the call, not at the first iteration.
    this.pathOf(key);
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        const fh = await self.openForRead(key);
        try {
          let pos = 0;
          for (;;) {
            const buf = new Uint8Array(CHUNK);
            const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
            if (bytesRead === 0) return;
            pos += bytesRead;
            yield bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead);
          }
        } finally {
          await fh.close();
        }
      },
    };
  }

  async sha256(key: string): Promise<string> {
    const hash = createHash('sha256');
    for await (const chunk of this.stream(key)) hash.update(chunk);
    return hash.digest('hex');
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const from = this.pathOf(fromKey);
    const to = this.pathOf(toKey);
    if ((await this.head(fromKey)) === null) throw notFound();
    const temp = this.tempPath(to.file);
    try {
      await this.inDir(to.segments, () => copyFile(from.file, temp, fsConstants.COPYFILE_EXCL));
      const fh = await open(temp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.commit(temp, to.file, to.dir);
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      if (isCode(e, 'ENOENT') && (await this.head(fromKey)) === null) throw notFound();
      throw e;
    }
  }

  async move(fromKey: string, toKey: string): Promise<void> {
    const from = this.pathOf(fromKey);
    const to = this.pathOf(toKey);
    if ((await this.head(fromKey)) === null) throw notFound();
    if (from.file === to.file) return;
    await this.inDir(to.segments, async () => {
      try {
        await rename(from.file, to.file);
      } catch (e) {
        if (isCode(e, 'ENOENT') && (await this.head(fromKey)) === null) throw notFound();
        if (isCode(e, 'EISDIR', 'ENOTEMPTY', 'EEXIST')) throw conflictWithObject();
        throw e;
      }
    });
    // Both directory entries on disk before the move is reported done.
    await Promise.all([fsyncDir(to.dir), from.dir === to.dir ? undefined : fsyncDir(from.dir)]);
    if (from.dir !== to.dir) await this.removeIfEmpty(from.dir);
  }

  async delete(key: string): Promise<void> {
    const { file, dir } = this.pathOf(key);
    try {
      await unlink(file);
    } catch (e) {
      if (isCode(e, 'ENOENT', 'ENOTDIR')) return;
      throw e;
    }
    await fsyncDir(dir);
    await this.removeIfEmpty(dir);
  }

  async list(prefix: string): Promise<string[]> {
    if (typeof prefix !== 'string' || prefix.startsWith('/') || !/^[A-Za-z0-9._/-]*$/.test(prefix)) {
      throw invalidKey(String(prefix), 'the prefix must be relative and hold only A-Z a-z 0-9 . _ - /');
    }
    const parts = prefix.split('/');
    const dirParts = parts.slice(0, -1);
    if (dirParts.some((s) => s === '' || s === '.' || s === '..')) {
      throw invalidKey(prefix, 'the prefix has an empty, "." or ".." segment');
    }
    const out: string[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      for (const ent of await entriesOf(dir)) {
        if (ent.name.includes('~')) continue; // in-progress temp file
        const key = rel ? `${rel}/${ent.name}` : ent.name;
        if (ent.isDirectory()) {
          // Only descend where keys could still match the prefix.
          if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix)) await walk(join(dir, ent.name), key);
        } else if (ent.isFile() && key.startsWith(prefix)) {
          out.push(key);
        }
      }
    };
    await walk(join(this.rootDir, ...dirParts), dirParts.join('/'));
    return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * Remove temp files a crash left behind (a put interrupted by kill -9 or power loss), if older than
   * `olderThanMs`. Call at start-up or from a sweeper; never affects stored objects. Returns how many.
   */
  async removeStaleTempFiles(olderThanMs = 60 * 60 * 1000, now: Date = new Date()): Promise<number> {
    let removed = 0;
    const walk = async (dir: string): Promise<void> => {
      for (const ent of await entriesOf(dir)) {
        const p = join(dir, ent.name);
        if (ent.isDirectory()) await walk(p);
        else if (ent.isFile() && ent.name.includes(TEMP_MARK)) {
          const st = await stat(p).catch(() => null);
          if (st && now.getTime() - st.mtimeMs >= olderThanMs) {
            await unlink(p).catch(() => undefined);
            removed++;
          }
        }
      }
    };
    await walk(this.rootDir);
    return removed;
  }
}

function tooLarge(max: number): AppError {
  return new AppError('BLOB.TOO_LARGE', 'too_large', `The body is larger than the ${max} bytes allowed.`, { maxBytes: max });
}

function conflictWithObject(): AppError {
  return new AppError(
    'BLOB.KEY_CONFLICT',
    'conflict',
    'The key collides with an existing object or prefix (an object and a prefix cannot share a name on this store).',
  );
}
