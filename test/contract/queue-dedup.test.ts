import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../shared/adapters/local/sqlite.ts';
import { SqliteJobQueue } from '../../shared/adapters/local/sqlite-queue.ts';

describe('SqliteJobQueue deduplication ids (local queues honour them, as SQS FIFO does)', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('a live message with the same id makes a second send a no-op; once deleted, the id is free again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'teleread-dedup-'));
    dirs.push(dir);
    const db = openSqlite(join(dir, 'q.db'));
    const q = new SqliteJobQueue(db);
    const a = await q.send('ingest', { type: 'ingest', key: 'uploads/c/sub-aaaaaaa/0' }, { deduplicationId: 'k1' });
    const b = await q.send('ingest', { type: 'ingest', key: 'uploads/c/sub-aaaaaaa/0' }, { deduplicationId: 'k1' });
    expect(b.messageId).toBe(a.messageId);
    await q.send('ingest', { type: 'ingest', key: 'other' }, { deduplicationId: 'k2' });
    await q.send('ingest', { type: 'ingest', key: 'no-dedup' });
    await q.send('ingest', { type: 'ingest', key: 'no-dedup' });
    expect((await q.depth('ingest')).visible).toBe(4);
    // Another queue may carry the same id.
    await q.send('delivery', { type: 'deliver', caseId: 'case-x', version: 1 }, { deduplicationId: 'k1' });
    expect((await q.depth('delivery')).visible).toBe(1);
    const [m] = await q.receive(['ingest'], { visibilityTimeoutSeconds: 30 });
    expect(m!.messageId).toBe(a.messageId);
    // In flight, still live: deduplicated.
    expect((await q.send('ingest', { type: 'ingest', key: 'x' }, { deduplicationId: 'k1' })).messageId).toBe(a.messageId);
    await q.delete(m!.queue, m!.receipt);
    const c = await q.send('ingest', { type: 'ingest', key: 'x' }, { deduplicationId: 'k1' });
    expect(c.messageId).not.toBe(a.messageId);
    db.close();
  });
});
