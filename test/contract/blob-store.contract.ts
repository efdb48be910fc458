import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../shared/ports/blob-store.ts';
import { expectAppError } from './support/expect-error.ts';

export interface BlobStoreFixture {
  store: BlobStore;
  cleanup(): Promise<void>;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function* chunked(b: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < b.byteLength; i += size) yield b.subarray(i, Math.min(b.byteLength, i + size));
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

const INVALID_KEYS = [
  '',
  '/abs/key',
  '../escape',
  'a/../b',
  'a/..',
  'a//b',
  'a/',
  '.',
  'a/./b',
  'a b',
  'a\\b',
  'a/b?c',
  'ü/x',
];

/** The BlobStore port's contract; run on every adapter (local filesystem, S3). */
export function blobStoreContract(name: string, make: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let f: BlobStoreFixture;
    let store: BlobStore;
    beforeEach(async () => {
      f = await make();
      store = f.store;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    it('stores bytes and returns their size and SHA-256', async () => {
      const body = randomBytes(100_000);
      const r = await store.put('uploads/clinic-a/sub-1/0', body);
      expect(r).toEqual({ key: 'uploads/clinic-a/sub-1/0', size: body.byteLength, sha256: sha(body) });
      const head = await store.head('uploads/clinic-a/sub-1/0');
      expect(head).toMatchObject({ size: body.byteLength });
      // When the object was stored (the start of a case's turnaround when no event time came with it).
      expect(Math.abs(Date.parse(head!.lastModified!) - Date.now())).toBeLessThan(10 * 60_000);
      expect(Buffer.from(await collect(store.stream('uploads/clinic-a/sub-1/0'))).equals(body)).toBe(true);
      expect(await store.sha256('uploads/clinic-a/sub-1/0')).toBe(sha(body));
    });

    it('stores a streamed body of many chunks, hashing what it wrote', async () => {
      const body = randomBytes(3 * 1024 * 1024 + 17);
      const r = await store.put('uploads/c/s/1', chunked(body, 65_537));
      expect(r.size).toBe(body.byteLength);
      expect(r.sha256).toBe(sha(body));
      expect(await store.sha256('uploads/c/s/1')).toBe(sha(body));
      expect(Buffer.from(await collect(store.stream('uploads/c/s/1'))).equals(body)).toBe(true);
    });

    it('stores an empty object', async () => {
      const r = await store.put('empty/x', new Uint8Array(0));
      expect(r.size).toBe(0);
      expect(r.sha256).toBe(sha(new Uint8Array(0)));
      expect(await store.head('empty/x')).toMatchObject({ size: 0 });
      expect((await store.readRange('empty/x', 0, 10)).byteLength).toBe(0);
    });

    it('reads ranges: middle, past the end (shorter), from the end (empty)', async () => {
      const body = randomBytes(10_000);
      await store.put('r/x', body);
      expect(Buffer.from(await store.readRange('r/x', 0, 132)).equals(body.subarray(0, 132))).toBe(true);
      expect(Buffer.from(await store.readRange('r/x', 4321, 1000)).equals(body.subarray(4321, 5321))).toBe(true);
      expect(Buffer.from(await store.readRange('r/x', 9_990, 100)).equals(body.subarray(9_990))).toBe(true);
      expect((await store.readRange('r/x', 10_000, 5)).byteLength).toBe(0);
      expect((await store.readRange('r/x', 20_000, 5)).byteLength).toBe(0);
      expect((await store.readRange('r/x', 5, 0)).byteLength).toBe(0);
    });

    it('replaces an object on a second put', async () => {
      await store.put('o/k', Buffer.from('first version'));
      await store.put('o/k', Buffer.from('2nd'));
      expect(Buffer.from(await store.readRange('o/k', 0, 100)).toString()).toBe('2nd');
      expect(await store.head('o/k')).toMatchObject({ size: 3 });
    });

    it('concurrent puts to one key leave one whole body, never a mix', async () => {
      const bodies = Array.from({ length: 8 }, () => randomBytes(256 * 1024));
      await Promise.all(bodies.map((b) => store.put('race/k', chunked(b, 8192))));
      const stored = await store.sha256('race/k');
      expect(bodies.map(sha)).toContain(stored);
      expect(await store.list('race/')).toEqual(['race/k']);
    });

    it('accepts a body of exactly maxBytes', async () => {
      const body = randomBytes(1000);
      const r = await store.put('m/exact', chunked(body, 100), { maxBytes: 1000 });
      expect(r.size).toBe(1000);
    });

    it('refuses an oversized streamed body with BLOB.TOO_LARGE and stores nothing', async () => {
      const body = randomBytes(200_000);
      await expectAppError(store.put('m/big', chunked(body, 10_000), { maxBytes: 100_000 }), 'BLOB.TOO_LARGE', 'too_large');
      expect(await store.head('m/big')).toBeNull();
      expect(await store.list('m/')).toEqual([]);
      await expectAppError(store.put('m/big2', body, { maxBytes: 199_999 }), 'BLOB.TOO_LARGE', 'too_large');
      expect(await store.head('m/big2')).toBeNull();
      expect(await store.list('')).toEqual([]);
    });

    it('an oversized or failed put leaves the existing object untouched', async () => {
      const old = Buffer.from('the old object');
      await store.put('keep/k', old);
      await expectAppError(store.put('keep/k', chunked(randomBytes(5000), 1000), { maxBytes: 4000 }), 'BLOB.TOO_LARGE');
      async function* failing(): AsyncIterable<Uint8Array> {
        yield randomBytes(1000);
        throw new Error('client went away');
      }
      await expect(store.put('keep/k', failing())).rejects.toThrow('client went away');
      await expect(store.put('keep/other', failing())).rejects.toThrow('client went away');
      expect(await store.sha256('keep/k')).toBe(sha(old));
      expect(await store.list('keep/')).toEqual(['keep/k']);
    });

    it.each(INVALID_KEYS)('refuses the key %j with BLOB.INVALID_KEY everywhere', async (key) => {
      await store.put('ok/src', Buffer.from('x'));
      await expectAppError(store.put(key, Buffer.from('x')), 'BLOB.INVALID_KEY', 'invalid');
      await expectAppError(() => store.head(key), 'BLOB.INVALID_KEY', 'invalid');
      await expectAppError(() => store.readRange(key, 0, 1), 'BLOB.INVALID_KEY', 'invalid');
      await expectAppError(() => store.sha256(key), 'BLOB.INVALID_KEY', 'invalid');
      await expectAppError(async () => {
        for await (const _ of store.stream(key)) void _;
      }, 'BLOB.INVALID_KEY');
      await expectAppError(() => store.copy('ok/src', key), 'BLOB.INVALID_KEY', 'invalid');
      await expectAppError(() => store.copy(key, 'ok/dst'), 'BLOB.INVALID_KEY', 'invalid');
      expect(await store.list('')).toEqual(['ok/src']);
    });

    it('accepts keys of letters, digits, dot, underscore and dash', async () => {
      const key = 'reports/clinic-a/CASE_01.v2/report-1.pdf';
      await store.put(key, Buffer.from('pdf'));
      expect(await store.head(key)).toMatchObject({ size: 3 });
    });

    it('answers BLOB.NOT_FOUND for a missing key (head answers null)', async () => {
      expect(await store.head('no/such')).toBeNull();
      await expectAppError(() => store.readRange('no/such', 0, 1), 'BLOB.NOT_FOUND', 'not_found');
      await expectAppError(() => store.sha256('no/such'), 'BLOB.NOT_FOUND', 'not_found');
      await expectAppError(async () => {
        for await (const _ of store.stream('no/such')) void _;
      }, 'BLOB.NOT_FOUND', 'not_found');
      await expectAppError(() => store.copy('no/such', 'x/y'), 'BLOB.NOT_FOUND', 'not_found');
      expect(await store.head('x/y')).toBeNull();
    });

    it('copies byte for byte, replacing the target and keeping the source', async () => {
      const body = randomBytes(300_000);
      await store.put('uploads/c/s/0', body);
      await store.put('quarantine/c/s/0', Buffer.from('older'));
      await store.copy('uploads/c/s/0', 'quarantine/c/s/0');
      expect(await store.sha256('quarantine/c/s/0')).toBe(sha(body));
      expect(await store.sha256('uploads/c/s/0')).toBe(sha(body));
      await store.copy('uploads/c/s/0', 'elsewhere/new/dir/0');
      expect(await store.head('elsewhere/new/dir/0')).toMatchObject({ size: body.byteLength });
    });

    it('moves byte for byte to a new key (replacing an object there) and the source is gone; a missing source is BLOB.NOT_FOUND', async () => {
      const body = randomBytes(200_000);
      await store.put('stow/c/x/0', body);
      await store.put('uploads/c/s/0', Buffer.from('older'));
      await store.move('stow/c/x/0', 'uploads/c/s/0');
      expect(await store.sha256('uploads/c/s/0')).toBe(sha(body));
      expect(await store.head('stow/c/x/0')).toBeNull();
      await store.move('uploads/c/s/0', 'elsewhere/new/dir/0');
      expect(await store.head('elsewhere/new/dir/0')).toMatchObject({ size: body.byteLength });
      expect(await store.list('uploads/')).toEqual([]);
      await expectAppError(() => store.move('stow/c/x/0', 'uploads/c/s/1'), 'BLOB.NOT_FOUND', 'not_found');
      expect(await store.head('uploads/c/s/1')).toBeNull();
      await expectAppError(() => store.move('../escape', 'ok/dst'), 'BLOB.INVALID_KEY', 'invalid');
    });

    it('deletes an object (a missing one is fine) and leaves its neighbours', async () => {
      await store.put('stow/c/x/0', Buffer.from('staged'));
      await store.put('stow/c/x/1', Buffer.from('kept'));
      await store.delete('stow/c/x/0');
      expect(await store.head('stow/c/x/0')).toBeNull();
      expect(await store.list('stow/c/x/')).toEqual(['stow/c/x/1']);
      await store.delete('stow/c/x/0');
      await store.delete('no/such/key');
      await expectAppError(() => store.delete('../escape'), 'BLOB.INVALID_KEY', 'invalid');
    });

    it('lists keys under a prefix, sorted, by string prefix', async () => {
      const keys = ['uploads/b/2', 'uploads/a/10', 'uploads/a/1', 'uploads/ab/1', 'reports/a/1', 'uploads/a/2'];
      for (const k of keys) await store.put(k, Buffer.from(k));
      expect(await store.list('uploads/a/')).toEqual(['uploads/a/1', 'uploads/a/10', 'uploads/a/2']);
      expect(await store.list('uploads/a')).toEqual(['uploads/a/1', 'uploads/a/10', 'uploads/a/2', 'uploads/ab/1']);
      expect(await store.list('uploads/')).toEqual(['uploads/a/1', 'uploads/a/10', 'uploads/a/2', 'uploads/ab/1', 'uploads/b/2']);
      expect(await store.list('uploads/a/1')).toEqual(['uploads/a/1', 'uploads/a/10']);
      expect(await store.list('')).toEqual([...keys].sort());
      expect(await store.list('nothing/')).toEqual([]);
    });
  });
}
