import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FsBlobStore } from '../../shared/adapters/local/fs-blob-store.ts';
import { durabilityStats, MIGRATIONS, migrate, openSqlite, type Database, type OpenSqliteOptions } from '../../shared/adapters/local/sqlite.ts';
import { MemoryAttemptLimiter } from '../../shared/adapters/local/memory-attempt-limiter.ts';
import { SqliteAttemptLimiter } from '../../shared/adapters/local/sqlite-attempt-limiter.ts';
import { SqliteAuditLog } from '../../shared/adapters/local/sqlite-audit-log.ts';
import { SqliteCaseRepository } from '../../shared/adapters/local/sqlite-case-repository.ts';
import { SqliteNotifier } from '../../shared/adapters/local/sqlite-notifier.ts';
import { SqliteJobQueue, SqliteQueue, SqliteReadQueue } from '../../shared/adapters/local/sqlite-queue.ts';
import { SqliteSignerKeyStore } from '../../shared/adapters/local/sqlite-signer-key-store.ts';
import { SqliteUnitOfWork } from '../../shared/adapters/local/sqlite-unit-of-work.ts';
import { attemptLimiterContract } from './attempt-limiter.contract.ts';
import { auditLogContract } from './audit-log.contract.ts';
import { blobStoreContract } from './blob-store.contract.ts';
import { caseRepositoryContract } from './case-repository.contract.ts';
import { notifierContract } from './notifier.contract.ts';
import { queueContract } from './queue.contract.ts';
import { signerKeyStoreContract } from './signer-key-store.contract.ts';
import { unitOfWorkContract } from './unit-of-work.contract.ts';
import { makeCase } from './support/case-fixture.ts';
import { expectAppError } from './support/expect-error.ts';
import { ManualClock } from './support/manual-clock.ts';

const tempDir = () => mkdtemp(join(tmpdir(), 'teleread-contract-'));

/** A fresh database file in a fresh temp dir; `connect` opens more connections on the same file. */
async function sqliteFixture(opts: OpenSqliteOptions = {}) {
  const dir = await tempDir();
  const file = join(dir, 'teleread.db');
  const dbs: Database[] = [openSqlite(file, opts)];
  return {
    db: dbs[0]!,
    file,
    connect: () => {
      const db = openSqlite(file);
      dbs.push(db);
      return db;
    },
    cleanup: async () => {
      for (const db of dbs) if (db.open) db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

blobStoreContract('FsBlobStore', async () => {
  const dir = await tempDir();
  return { store: new FsBlobStore(join(dir, 'blobs')), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

caseRepositoryContract('SqliteCaseRepository', async () => {
  const s = await sqliteFixture();
  return { repo: new SqliteCaseRepository(s.db), another: async () => new SqliteCaseRepository(s.connect()), cleanup: s.cleanup };
});

queueContract('SqliteJobQueue', async ({ clock, maxReceiveCount }) => {
  const s = await sqliteFixture();
  return {
    queue: new SqliteQueue(s.db, 'job_queue', { clock, maxReceiveCount }),
    connect: async () => new SqliteQueue(s.connect(), 'job_queue', { clock, maxReceiveCount }),
    cleanup: s.cleanup,
  };
});

queueContract('SqliteReadQueue', async ({ clock, maxReceiveCount }) => {
  const s = await sqliteFixture();
  return {
    queue: new SqliteReadQueue(s.db, { clock, maxReceiveCount }),
    connect: async () => new SqliteReadQueue(s.connect(), { clock, maxReceiveCount }),
    cleanup: s.cleanup,
  };
});

auditLogContract('SqliteAuditLog', async () => {
  const s = await sqliteFixture();
  return { log: new SqliteAuditLog(s.db), cleanup: s.cleanup };
});

signerKeyStoreContract('SqliteSignerKeyStore', async () => {
  const s = await sqliteFixture();
  return { keys: new SqliteSignerKeyStore(s.db), cleanup: s.cleanup };
});

attemptLimiterContract('SqliteAttemptLimiter', async () => {
  const s = await sqliteFixture();
  return { limiter: new SqliteAttemptLimiter(s.db), another: async () => new SqliteAttemptLimiter(s.connect()), cleanup: s.cleanup };
});

attemptLimiterContract('MemoryAttemptLimiter', async () => {
  const limiter = new MemoryAttemptLimiter();
  // One process's memory: the "other instance" is the same one.
  return { limiter, another: async () => limiter, cleanup: async () => {} };
});

notifierContract('SqliteNotifier', async () => {
  const s = await sqliteFixture();
  return { notifier: new SqliteNotifier(s.db), cleanup: s.cleanup };
});

unitOfWorkContract('SqliteUnitOfWork', async () => {
  const s = await sqliteFixture();
  const inbox = new SqliteNotifier(s.db);
  return {
    uow: new SqliteUnitOfWork(s.db),
    write: (tag) => inbox.notify({ to: { clinicId: 'clinic-uow' }, kind: 'case.rejected', caseId: tag, at: '2026-06-01T00:00:00.000Z' }),
    written: async () => (await inbox.list({ clinicId: 'clinic-uow' }, 500)).map((n) => n.caseId),
    cleanup: s.cleanup,
  };
});

describe('local adapters: beyond the port contracts', () => {
  let s: Awaited<ReturnType<typeof sqliteFixture>>;
  beforeEach(async () => {
    s = await sqliteFixture();
  });
  afterEach(async () => {
    await s.cleanup();
  });

  it('opens the database WAL, synchronous=NORMAL (fsyncs are the adapters\' own), busy_timeout, foreign keys', () => {
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('synchronous', { simple: true })).toBe(1);
    expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(s.db.pragma('busy_timeout', { simple: true })).toBeGreaterThanOrEqual(1000);
    const other = s.connect();
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(other.pragma('synchronous', { simple: true })).toBe(1);
  });

  it('FsBlobStore: concurrent multi-MiB streams of odd-sized chunks (empty ones too) store and hash exactly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'teleread-blob-hash-'));
    try {
      const store = new FsBlobStore(dir);
      const bodies = Array.from({ length: 5 }, (_, i) => randomBytes(3 * 1024 * 1024 + 17 * i));
      async function* chunked(b: Uint8Array, seed: number) {
        // Chunk sizes from 1 byte to ~200 KiB, different per stream, empty chunks included.
        let at = 0;
        let k = seed;
        while (at < b.length) {
          k = (k * 1103515245 + 12345) % 2 ** 31;
          const n = k % 7 === 0 ? 0 : 1 + (k % 200_000);
          yield b.subarray(at, at + n);
          at += n;
          await new Promise((r) => setImmediate(r));
        }
      }
      const stored = await Promise.all(bodies.map((b, i) => store.put(`uploads/c/s/${i}`, chunked(b, i + 1))));
      stored.forEach((r, i) => {
        expect(r.size).toBe(bodies[i]!.length);
        expect(r.sha256).toBe(createHash('sha256').update(bodies[i]!).digest('hex'));
      });
      for (const [i, b] of bodies.entries()) expect(await store.sha256(`uploads/c/s/${i}`)).toBe(createHash('sha256').update(b).digest('hex'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('closing the connection also closes the WAL file kept open for fsyncs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'teleread-wal-'));
    const walOpen = () =>
      readdirSync('/proc/self/fd').some((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(join(dir, 'w.db-wal'));
        } catch {
          return false;
        }
      });
    try {
      const db = openSqlite(join(dir, 'w.db'));
      await new SqliteCaseRepository(db).create(makeCase({ caseId: 'case-walfd-0001' }));
      expect(walOpen()).toBe(true);
      db.close();
      await new Promise((r) => setTimeout(r, 50));
      expect(walOpen()).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a write resolves only after a WAL fsync that began after it; concurrent writes share fsyncs', async () => {
    const repo = new SqliteCaseRepository(s.db);
    const before = durabilityStats(s.db)!;
    expect(before).not.toBeNull();
    await repo.create(makeCase({ caseId: 'case-durable-0000' }));
    const one = durabilityStats(s.db)!;
    expect(one.requests - before.requests).toBe(1);
    expect(one.fsyncs - before.fsyncs).toBe(1);
    await Promise.all(Array.from({ length: 20 }, (_, i) => repo.create(makeCase({ caseId: `case-durable-${String(i + 1).padStart(4, '0')}` }))));
    const many = durabilityStats(s.db)!;
    expect(many.requests - one.requests).toBe(20);
    // Twenty writes in one turn of the event loop: at most one fsync already running plus one shared.
    expect(many.fsyncs - one.fsyncs).toBeGreaterThanOrEqual(1);
    expect(many.fsyncs - one.fsyncs).toBeLessThanOrEqual(2);
    expect(durabilityStats(openSqlite(':memory:'))).toBeNull();
  });

  it('records migrations once; re-running them is a no-op; a new one applies once', () => {
    const versions = () => s.db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    expect(versions()).toEqual(MIGRATIONS.map((m) => m.version));
    expect(migrate(s.db)).toEqual([]);
    s.connect();
    expect(versions()).toEqual(MIGRATIONS.map((m) => m.version));
    const next = [...MIGRATIONS, { version: 1000, sql: 'CREATE TABLE extra_test (x INTEGER)' }];
    expect(migrate(s.db, next)).toEqual([1000]);
    expect(migrate(s.db, next)).toEqual([]);
    expect(versions()).toEqual([...MIGRATIONS.map((m) => m.version), 1000]);
    // A failing migration leaves nothing behind.
    const bad = [...next, { version: 1001, sql: 'CREATE TABLE half_done (x INTEGER); THIS IS NOT SQL' }];
    expect(() => migrate(s.db, bad)).toThrow();
    expect(versions()).not.toContain(1001);
    expect(s.db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").get()).toBeUndefined();
  });

  it('migration 4 keeps every saved draft, now under its author', async () => {
    const db = new BetterSqlite3(join(s.file, '..', 'v3.db'));
    migrate(db, MIGRATIONS.filter((m) => m.version <= 3));
    const d = { caseId: 'case-1', authorId: 'ecg-reader', body: { findings: '窦性心律' }, updatedAt: '2026-06-01T08:00:00.000Z' };
    const insert = db.prepare('INSERT INTO report_drafts (case_id, updated_at, doc) VALUES (?, ?, ?)');
    insert.run(d.caseId, d.updatedAt, JSON.stringify(d));
    // Rows no reader could get back (no author, not JSON) do not stop the migration.
    insert.run('case-2', d.updatedAt, JSON.stringify({ caseId: 'case-2', body: {} }));
    insert.run('case-3', d.updatedAt, 'not json');
    expect(migrate(db)).toEqual(MIGRATIONS.map((m) => m.version).filter((v) => v >= 4));
    const repo = new SqliteCaseRepository(db);
    expect(await repo.getDraft('case-1', 'ecg-reader')).toEqual(d);
    expect(await repo.getDraft('case-1', 'rad-reader')).toBeNull();
    db.close();
  });

  it('FsBlobStore: failed and oversized puts leave no file behind, not even a temp file', async () => {
    const root = join(s.file, '..', 'blobs');
    const store = new FsBlobStore(root);
    await store.put('uploads/c/s/0', randomBytes(10));
    async function* big(): AsyncIterable<Uint8Array> {
      for (let i = 0; i < 20; i++) yield randomBytes(64 * 1024);
    }
    await expectAppError(store.put('uploads/c/s/1', big(), { maxBytes: 100_000 }), 'BLOB.TOO_LARGE', 'too_large');
    async function* broken(): AsyncIterable<Uint8Array> {
      yield randomBytes(1000);
      throw new Error('connection reset');
    }
    await expect(store.put('uploads/c/s/2', broken())).rejects.toThrow('connection reset');
    await expect(store.put('uploads/c/s/0', broken())).rejects.toThrow('connection reset');
    expect((await walk(root)).map((p) => p.slice(root.length + 1))).toEqual(['uploads/c/s/0']);
  });

  it('FsBlobStore: put, copy and move into a directory removed behind its back make it again', async () => {
    const root = join(s.file, '..', 'blobs');
    const store = new FsBlobStore(root);
    await store.put('src/a', Buffer.from('a'));
    await store.put('src/b', Buffer.from('b'));
    await store.put('dst/x/first', Buffer.from('first'));
    // The store has seen dst/x and would skip making it; an operator's clean-up removes it.
    await rm(join(root, 'dst'), { recursive: true });
    await store.put('dst/x/put', Buffer.from('put'));
    await rm(join(root, 'dst'), { recursive: true });
    await store.copy('src/a', 'dst/x/copied');
    await rm(join(root, 'dst'), { recursive: true });
    await store.move('src/b', 'dst/x/moved');
    expect(await store.list('dst/')).toEqual(['dst/x/moved']);
    await store.put('dst/x/put', Buffer.from('put'));
    await store.copy('src/a', 'dst/x/copied');
    expect(await store.list('')).toEqual(['dst/x/copied', 'dst/x/moved', 'dst/x/put', 'src/a']);
    expect(Buffer.from(await store.readRange('dst/x/copied', 0, 10)).toString()).toBe('a');
    // A source that is gone is still BLOB.NOT_FOUND, not a retry that hides it.
    await expectAppError(store.copy('src/none', 'dst/y/z'), 'BLOB.NOT_FOUND', 'not_found');
  });

  it('FsBlobStore: a key never reaches outside the root, and an in-progress temp file is never listed', async () => {
    const root = join(s.file, '..', 'blobs');
    const store = new FsBlobStore(root);
    await writeFile(join(s.file, '..', 'outside'), 'secret');
    await expectAppError(store.readRange('../outside', 0, 10), 'BLOB.INVALID_KEY');
    await expectAppError(store.readRange('a/../../outside', 0, 10), 'BLOB.INVALID_KEY');
    await store.put('a/b', Buffer.from('x'));
    await writeFile(join(root, 'a', 'c~tmp~0123'), 'partial');
    expect(await store.list('a/')).toEqual(['a/b']);
    // The start-up sweeper removes what a crash left, once it is old enough.
    expect(await store.removeStaleTempFiles(60_000)).toBe(0);
    expect(await store.removeStaleTempFiles(60_000, new Date(Date.now() + 120_000))).toBe(1);
    expect((await walk(root)).map((p) => p.slice(root.length + 1))).toEqual(['a/b']);
  });

  it('FsBlobStore: an object and a prefix cannot share a name here (BLOB.KEY_CONFLICT), and nothing is half-written', async () => {
    const root = join(s.file, '..', 'blobs');
    const store = new FsBlobStore(root);
    await store.put('x/obj', Buffer.from('object'));
    await expectAppError(store.put('x/obj/child', Buffer.from('child')), 'BLOB.KEY_CONFLICT', 'conflict');
    await store.put('y/dir/child', Buffer.from('child'));
    await expectAppError(store.put('y/dir', Buffer.from('object')), 'BLOB.KEY_CONFLICT', 'conflict');
    expect(await store.list('')).toEqual(['x/obj', 'y/dir/child']);
    expect((await walk(root)).length).toBe(2);
  });

  it('SqliteAuditLog: the hash chain verifies, and the first altered or removed row is reported', async () => {
    const log = new SqliteAuditLog(s.db);
    for (let i = 1; i <= 5; i++) {
      await log.append({ at: `2026-04-01T00:00:0${i}.000Z`, actor: 'ecg-reader', action: 'case.view', caseId: `case-${i}`, detail: { i } });
    }
    expect(log.verify()).toEqual({ ok: true, checked: 5 });
    // The table refuses changes through SQL...
    expect(() => s.db.prepare("UPDATE audit_log SET actor = 'someone' WHERE seq = 3").run()).toThrow(/append-only/);
    expect(() => s.db.prepare('DELETE FROM audit_log WHERE seq = 3').run()).toThrow(/append-only/);
    // ...and one who removes the triggers is caught by the chain.
    s.db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete');
    s.db.prepare("UPDATE audit_log SET actor = 'someone' WHERE seq = 3").run();
    expect(log.verify()).toEqual({ ok: false, checked: 2, firstBroken: { seq: 3, reason: 'hash' } });
    s.db.prepare("UPDATE audit_log SET actor = 'ecg-reader' WHERE seq = 3").run();
    expect(log.verify().ok).toBe(true);
    s.db.prepare('DELETE FROM audit_log WHERE seq = 2').run();
    expect(log.verify()).toEqual({ ok: false, checked: 1, firstBroken: { seq: 3, reason: 'prev_hash' } });
  });

  it('SqliteCaseRepository: signed reports cannot be changed even through SQL', async () => {
    const repo = new SqliteCaseRepository(s.db);
    await repo.putSignedReport({ caseId: 'c', version: 1, canonical: '{}', jws: 'a..b', signerId: 'r', signedAt: '2026-01-01T00:00:00.000Z' });
    expect(() => s.db.prepare("UPDATE signed_reports SET doc = '{}'").run()).toThrow(/never changed/);
  });

  it('SqliteQueue: read and job queues are separate tables; dead letters can be listed and redriven', async () => {
    const clock = new ManualClock();
    const reads = new SqliteReadQueue(s.db, { clock, maxReceiveCount: 1 });
    const jobs = new SqliteJobQueue(s.db, { clock, maxReceiveCount: 1 });
    await reads.send('same-name', { caseId: 'c1' });
    await jobs.send('same-name', { type: 'ingest', key: 'uploads/a/b/0' });
    expect((await reads.receive(['same-name'], { visibilityTimeoutSeconds: 10 }))[0]?.body).toEqual({ caseId: 'c1' });
    const [job] = await jobs.receive(['same-name'], { visibilityTimeoutSeconds: 10 });
    expect(job?.body).toEqual({ type: 'ingest', key: 'uploads/a/b/0' });
    clock.advanceSeconds(10);
    expect(await jobs.receive(['same-name'], { visibilityTimeoutSeconds: 10 })).toEqual([]);
    expect(await jobs.depth('same-name')).toEqual({ visible: 0, inFlight: 0, dead: 1 });
    await expectAppError(jobs.delete('same-name', job!.receipt), 'QUEUE.RECEIPT_INVALID');
    expect((await jobs.deadLetters('same-name')).map((d) => d.body)).toEqual([{ type: 'ingest', key: 'uploads/a/b/0' }]);
    expect(await jobs.redrive('same-name')).toBe(1);
    const [again] = await jobs.receive(['same-name'], { visibilityTimeoutSeconds: 10 });
    expect(again?.receiveCount).toBe(1);
    expect(() => new SqliteQueue(s.db, 'cases' as never)).toThrow();
  });

  it('SqliteQueue: four processes draining one queue file receive every message exactly once', async () => {
    const q = new SqliteQueue<{ n: number }>(s.db, 'job_queue');
    const N = 300;
    const insert = s.db.transaction(() => {
      for (let n = 0; n < N; n++) void q.send('ingest', { n });
    });
    insert();
    const worker = fileURLToPath(new URL('./support/queue-worker.ts', import.meta.url));
    const run = promisify(execFile);
    s.db.exec('CREATE TABLE worker_ready (pid INTEGER)');
    const outs = await Promise.all(
      Array.from({ length: 4 }, () =>
        run(process.execPath, ['--import', 'tsx', worker, s.file, 'ingest', '4'], { cwd: process.cwd(), timeout: 50_000 }),
      ),
    );
    const perProcess = outs.map((o) => JSON.parse(o.stdout) as number[]);
    const got = perProcess.flat();
    // They contended: more than one process received work.
    expect(perProcess.filter((p) => p.length > 0).length).toBeGreaterThanOrEqual(2);
    expect(got).toHaveLength(N);
    expect(new Set(got).size).toBe(N);
    expect(await q.depth('ingest')).toEqual({ visible: 0, inFlight: 0, dead: 0 });
  });

  it('kill -9 mid-write: every acknowledged case, message and blob survives; no object is half-written', async () => {
    const dir = join(s.file, '..');
    s.db.close();
    const writer = fileURLToPath(new URL('./support/crash-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: string[] = [];
    let buf = '';
    await new Promise<void>((resolveKill, reject) => {
      child.on('error', reject);
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        acked.push(...lines);
        if (acked.length >= 25 && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', () => resolveKill());
    });
    expect(acked.length).toBeGreaterThanOrEqual(25);
    const db = s.connect();
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const repo = new SqliteCaseRepository(db);
    const jobs = new SqliteJobQueue(db);
    const blobs = new FsBlobStore(join(dir, 'blobs'));
    for (const id of acked) expect((await repo.get(id))?.caseId).toBe(id);
    expect((await jobs.depth('ingest')).visible).toBeGreaterThanOrEqual(acked.length);
    const full = createHash('sha256').update(Buffer.alloc(256 * 1024, 7)).digest('hex');
    const keys = await blobs.list('uploads/');
    for (const id of acked) expect(keys).toContain(`uploads/c/${id}/0`);
    for (const k of keys) expect(await blobs.sha256(k)).toBe(full);
  });
});

/**
 * Holds every FileHandle fsync until released. WalSync keeps the WAL open as a FileHandle and calls
 * `sync()` through the prototype each time, so holding it shows who waits for a WAL fsync.
 */
async function holdFsyncs(anyFile: string) {
  const fh = await open(anyFile, 'r');
  const proto = Object.getPrototypeOf(fh) as { sync: () => Promise<void> };
  await fh.close();
  const real = proto.sync;
  let held: Array<() => void> | null = [];
  let started = 0;
  const spy = vi.spyOn(proto, 'sync').mockImplementation(async function (this: unknown) {
    started++;
    if (held) await new Promise<void>((r) => held!.push(r));
    return real.call(this);
  });
  return {
    /** fsyncs begun (held or not) since the hold started. */
    started: () => started,
    release() {
      const h = held ?? [];
      held = null;
      for (const r of h) r();
    },
    restore: () => spy.mockRestore(),
  };
}

describe('WalSync after a failed fsync', () => {
  it('refuses every later write for good, though a later fsync would succeed (Linux reports a write-back error once)', async () => {
    const fatal: Error[] = [];
    const s = await sqliteFixture({ onFsyncFailure: (e) => fatal.push(e) });
    const repo = new SqliteCaseRepository(s.db);
    await repo.create(makeCase({ caseId: 'case-eio-000001' }));
    const fh = await open(`${s.file}-wal`, 'r');
    const proto = Object.getPrototypeOf(fh) as { sync: () => Promise<void> };
    await fh.close();
    let failures = 1;
    const real = proto.sync;
    const spy = vi.spyOn(proto, 'sync').mockImplementation(async function (this: unknown) {
      if (failures-- > 0) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      return real.call(this);
    });
    try {
      await expect(repo.create(makeCase({ caseId: 'case-eio-000002' }))).rejects.toThrow('EIO');
      await expect(repo.create(makeCase({ caseId: 'case-eio-000003' }))).rejects.toThrow('writes are refused until TeleRead restarts');
      // The runtime is told once, with a code its log shows.
      expect(fatal.map((e) => (e as Error & { code?: string }).code)).toEqual(['STORE.FSYNC_FAILED']);
    } finally {
      spy.mockRestore();
      await s.cleanup();
    }
  });
});

/** Waits (in real time, a few seconds at most) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('SqliteUnitOfWork: one WAL fsync per unit, before the unit settles', () => {
  let s: Awaited<ReturnType<typeof sqliteFixture>>;
  let gate: Awaited<ReturnType<typeof holdFsyncs>> | null = null;
  let repo: SqliteCaseRepository;
  let uow: SqliteUnitOfWork;
  const stats = () => durabilityStats(s.db)!;
  const id = (n: number) => `case-uow-${String(n).padStart(6, '0')}`;
  beforeEach(async () => {
    s = await sqliteFixture();
    repo = new SqliteCaseRepository(s.db);
    uow = new SqliteUnitOfWork(s.db);
    // A first write opens the WAL file WalSync keeps for its fsyncs.
    await repo.create(makeCase({ caseId: id(0) }));
  });
  /** A unit (as in another request) that has written case n and stays open until `close()`. */
  async function openUnitThatWrote(n: number): Promise<{ close: () => Promise<void> }> {
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    let wrote = false;
    const run = uow.run(async () => {
      await repo.create(makeCase({ caseId: id(n) }));
      wrote = true;
      await hold;
    });
    await until(() => wrote);
    return {
      close: async () => {
        release();
        await run;
      },
    };
  }
  afterEach(async () => {
    gate?.release();
    gate?.restore();
    gate = null;
    // Let a released fsync finish before its file is closed under it.
    await new Promise((r) => setTimeout(r, 20));
    await s.cleanup();
  });

  it('N writes inside one run: N requests, all deferred, one fsync, and the run settles only after it completed', async () => {
    const N = 6;
    gate = await holdFsyncs(`${s.file}-wal`);
    const before = stats();
    let settled = false;
    const run = uow
      .run(async () => {
        for (let i = 1; i <= N; i++) await repo.create(makeCase({ caseId: id(i) }));
        const first = (await repo.get(id(1)))!;
        await repo.update({ ...first, priority: 'stat' }, first.version);
        return 'done';
      })
      .finally(() => (settled = true));
    // The writes did not wait for the held fsync (else the unit would never reach its end).
    await until(() => gate!.started() === 1);
    const mid = stats();
    expect(mid.requests - before.requests).toBe(N + 1);
    expect(mid.deferred - before.deferred).toBe(N + 1);
    expect(mid.fsyncs - before.fsyncs).toBe(1);
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).toBe(false);
    gate.release();
    expect(await run).toBe('done');
    expect(stats().fsyncs - before.fsyncs).toBe(1);
    expect(gate.started()).toBe(1);
  });

  it('a run whose fn throws still fsyncs its writes before it rejects', async () => {
    gate = await holdFsyncs(`${s.file}-wal`);
    const before = stats();
    let settled = false;
    const run = uow
      .run(async () => {
        await repo.create(makeCase({ caseId: id(1) }));
        await repo.create(makeCase({ caseId: id(2) }));
        throw new Error('after two writes');
      })
      .finally(() => (settled = true));
    run.catch(() => undefined);
    await until(() => gate!.started() === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).toBe(false);
    gate.release();
    await expect(run).rejects.toThrow('after two writes');
    expect(stats().fsyncs - before.fsyncs).toBe(1);
    expect(stats().deferred - before.deferred).toBe(2);
    expect(await repo.get(id(2))).not.toBeNull();
  });

  it('a write outside any unit still waits for its own fsync, while a unit is open in another request', async () => {
    gate = await holdFsyncs(`${s.file}-wal`);
    const before = stats();
    const inside = await openUnitThatWrote(1);
    let outsideDone = false;
    const outside = repo.create(makeCase({ caseId: id(2) })).then(() => (outsideDone = true));
    await until(() => gate!.started() === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(outsideDone).toBe(false);
    gate.release();
    await outside;
    await inside.close();
    const after = stats();
    expect(after.deferred - before.deferred).toBe(1);
    expect(after.requests - before.requests).toBe(2);
  });

  it('nested runs join the outer unit: the inner end fsyncs nothing; a run without writes fsyncs nothing', async () => {
    const before = stats();
    await uow.run(async () => {
      await uow.run(() => repo.create(makeCase({ caseId: id(1) })));
      expect(stats().fsyncs - before.fsyncs).toBe(0);
      await repo.create(makeCase({ caseId: id(2) }));
    });
    expect(stats().fsyncs - before.fsyncs).toBe(1);
    expect(stats().deferred - before.deferred).toBe(2);
    const idle = stats();
    expect(await uow.run(async () => (await repo.get(id(1)))?.caseId)).toBe(id(1));
    expect(stats().fsyncs).toBe(idle.fsyncs);
  });

  it('a replayable unit (answersFromStored) that only reads what another open unit wrote waits for an fsync; a plain read-only unit does not', async () => {
    const writer = await openUnitThatWrote(1);
    gate = await holdFsyncs(`${s.file}-wal`);
    // Without the option a read-only unit answers at once, fsync or not (no queueing behind others' writes).
    expect(await uow.run(async () => (await repo.get(id(1)))?.caseId)).toBe(id(1));
    expect(gate.started()).toBe(0);
    let settled = false;
    const replay = uow.run(async () => (await repo.get(id(1)))?.caseId, { answersFromStored: true }).finally(() => (settled = true));
    // It wrote nothing, yet answers from a commit no fsync has covered: it must wait for one.
    await until(() => gate!.started() === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).toBe(false);
    gate.release();
    expect(await replay).toBe(id(1));
    await writer.close();
  });

  it('work a unit started but did not await is not covered once the unit ended: its writes wait for their own fsync', async () => {
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    let late!: Promise<void>;
    await uow.run(async () => {
      late = hold.then(() => repo.create(makeCase({ caseId: id(1) })));
    });
    const before = stats();
    release();
    await late;
    expect(stats().deferred - before.deferred).toBe(0);
    expect(stats().fsyncs - before.fsyncs).toBe(1);
  });

  it('SqliteAuditLog: appends from inside and outside a unit share a commit, yet the outside one waits for its fsync', async () => {
    const audit = new SqliteAuditLog(s.db);
    gate = await holdFsyncs(`${s.file}-wal`);
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    let insideDone = false;
    // The unit's append comes first in the turn, so the batch is flushed from the unit's context.
    const run = uow.run(async () => {
      await audit.append({ at: '2026-06-01T00:00:00.000Z', actor: 'u-in', action: 'case.view' });
      insideDone = true;
      await hold;
    });
    let outsideDone = false;
    const outside = audit.append({ at: '2026-06-01T00:00:00.000Z', actor: 'u-out', action: 'case.view' }).then(() => (outsideDone = true));
    await until(() => insideDone && gate!.started() === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(outsideDone).toBe(false);
    gate.release();
    await outside;
    release();
    await run;
    expect((await audit.list({ limit: 10 })).map((e) => e.actor).sort()).toEqual(['u-in', 'u-out']);
  });

  it('SqliteQueue durableReceive: a message sent inside an open unit is handed out only after an fsync', async () => {
    const plain = new SqliteQueue<{ n: number }>(s.db, 'job_queue');
    const durableRx = new SqliteQueue<{ n: number }>(s.db, 'job_queue', { durableReceive: true });
    const idle = stats();
    expect(await durableRx.receive(['hooks'], { visibilityTimeoutSeconds: 30 })).toEqual([]);
    expect(stats().fsyncs).toBe(idle.fsyncs);
    gate = await holdFsyncs(`${s.file}-wal`);
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    let sent = false;
    const run = uow.run(async () => {
      await plain.send('hooks', { n: 1 });
      await plain.send('other', { n: 2 });
      sent = true;
      await hold;
    });
    await until(() => sent);
    // Without the option the message is handed out at once (receives are not synced).
    expect(await plain.receive(['other'], { visibilityTimeoutSeconds: 30 })).toHaveLength(1);
    let got: unknown[] | null = null;
    const rx = durableRx.receive(['hooks'], { visibilityTimeoutSeconds: 30 }).then((m) => (got = m));
    await until(() => gate!.started() === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(got).toBeNull();
    gate.release();
    await rx;
    expect(got).toHaveLength(1);
    release();
    await run;
  });
});
