/**
 * A separate process receiving from a shared SQLite queue file until it is empty, deleting each
 * message it gets. Prints the bodies' `n` it received as JSON. Used by local.test.ts.
 */
import { openSqlite } from '../../../shared/adapters/local/sqlite.ts';
import { SqliteQueue } from '../../../shared/adapters/local/sqlite-queue.ts';

const [file, queueName] = process.argv.slice(2);
if (!file || !queueName) throw new Error('usage: queue-worker <db file> <queue>');
const db = openSqlite(file);
const q = new SqliteQueue<{ n: number }>(db, 'job_queue');
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
}
db.close();
process.stdout.write(JSON.stringify(got));
