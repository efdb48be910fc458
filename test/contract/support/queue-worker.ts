/**
 * A separate process receiving from a shared SQLite queue file until it is empty, deleting each
 * message it gets. Prints the bodies' `n` it received as JSON. Used by local.test.ts.
 */
import { openSqlite } from '../../../shared/adapters/local/sqlite.ts';
import { SqliteQueue } from '../../../shared/adapters/local/sqlite-queue.ts';

const [file, queueName, workers] = process.argv.slice(2);
if (!file || !queueName || !workers) throw new Error('usage: queue-worker <db file> <queue> <number of workers>');
const db = openSqlite(file);
const q = new SqliteQueue<{ n: number }>(db, 'job_queue');
// Start together, so the processes really contend for the same rows: a barrier in a test-only table.
db.prepare('INSERT INTO worker_ready (pid) VALUES (?)').run(process.pid);
const ready = db.prepare('SELECT COUNT(*) FROM worker_ready').pluck();
while ((ready.get() as number) < Number(workers)) await new Promise((r) => setTimeout(r, 5));
const got: number[] = [];
let empty = 0;
while (empty < 3) {
  const batch = await q.receive([queueName], { visibilityTimeoutSeconds: 600, max: 3 });
  if (batch.length === 0) {
    empty++;
    await new Promise((r) => setTimeout(r, 20));
    continue;
  }
  empty = 0;
  for (const m of batch) {
    got.push(m.body.n);
    await q.delete(queueName, m.receipt);
  }
  // "Process" the batch: let the other processes at the lock.
  await new Promise((r) => setTimeout(r, 3));
}
db.close();
process.stdout.write(JSON.stringify(got));
