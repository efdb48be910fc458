/**
 * Writes cases, queue messages and blobs as fast as it can, printing each id once its write was
 * acknowledged, until it is killed (kill -9). local.test.ts then checks every acknowledged write survived.
 */
import { join } from 'node:path';
import { FsBlobStore } from '../../../shared/adapters/local/fs-blob-store.ts';
import { openSqlite } from '../../../shared/adapters/local/sqlite.ts';
import { SqliteCaseRepository } from '../../../shared/adapters/local/sqlite-case-repository.ts';
import { SqliteJobQueue } from '../../../shared/adapters/local/sqlite-queue.ts';
import { makeCase } from './case-fixture.ts';

const [dir] = process.argv.slice(2);
if (!dir) throw new Error('usage: crash-writer <dir>');
const db = openSqlite(join(dir, 'teleread.db'));
const repo = new SqliteCaseRepository(db);
const jobs = new SqliteJobQueue(db);
const blobs = new FsBlobStore(join(dir, 'blobs'));
const body = Buffer.alloc(256 * 1024, 7);
for (let i = 0; ; i++) {
  const id = `case-${String(i).padStart(6, '0')}`;
  await repo.create(makeCase({ caseId: id }));
  await jobs.send('ingest', { type: 'ingest', key: `uploads/c/${id}/0` });
  await blobs.put(`uploads/c/${id}/0`, body);
  process.stdout.write(`${id}\n`);
}
