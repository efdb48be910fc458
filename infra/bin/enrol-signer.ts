/**
 * Enrol a reader's signing key on AWS, with the reader present: the reader types their signing PIN
 * (twice, not echoed); a P-256 key pair is created and stored sealed under it in the stage's table.
 *   npx tsx infra/bin/enrol-signer.ts --table teleread-prod-data --signer ecg-reader
 * With --rotate, a new key under a new PIN replaces the current one (a forgotten PIN; earlier reports
 * still verify with the old public key) and the reader's wrong-PIN count and lock are cleared.
 * The signer must be a reader of the consortium stored in the table; the change is audited (key id,
 * never the PIN). The PIN never leaves this process; nothing can sign for the reader without it.
 * (One machine: `teleread signer enrol|rotate <reader id>`.)
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAttemptLimiter } from '../../shared/adapters/aws/dynamo-attempt-limiter.ts';
import { DynamoAuditLog } from '../../shared/adapters/aws/dynamo-audit-log.ts';
import { DynamoDirectory } from '../../shared/adapters/aws/dynamo-directory.ts';
import { DynamoSignerKeyStore } from '../../shared/adapters/aws/dynamo-signer-key-store.ts';
import { setUpSigningKey, signerToSetUp } from '../../shared/application/signer-keys.ts';
import { isAppError } from '../../shared/domain/errors.ts';
import { systemClock } from '../../shared/ports/clock.ts';
import { SealedKeyReportSigner } from '../../shared/signing/sealed-key-signer.ts';
import { PromptCancelled, secretPrompt } from '../../shared/terminal/secret-prompt.ts';

const { values } = parseArgs({ options: { table: { type: 'string' }, signer: { type: 'string' }, region: { type: 'string' }, rotate: { type: 'boolean' } } });
if (!values.table || !values.signer) {
  process.stderr.write('usage: enrol-signer --table <table name> --signer <reader user id> [--rotate] [--region <region>]\n');
  process.exit(2);
}
const signerId = values.signer;
const client = new DynamoDBClient(values.region ? { region: values.region } : {});
const keys = new DynamoSignerKeyStore(client, values.table);
const deps = {
  directory: await DynamoDirectory.load(client, values.table),
  signer: new SealedKeyReportSigner(keys),
  attempts: new DynamoAttemptLimiter(client, values.table),
  audit: new DynamoAuditLog(client, values.table),
  clock: systemClock,
};
const refuse = (message: string): never => {
  process.stderr.write(`${message}\n`);
  process.exit(2);
};
let operator = 'cli:unknown';
try {
  operator = `cli:${userInfo().username}`;
} catch {
  // No passwd entry for the uid (some containers).
}

const prompt = secretPrompt();
try {
  // Refused before the reader types anything.
  const user = await signerToSetUp(deps, signerId);
  const current = await keys.current(signerId);
  if (current && !values.rotate) refuse(`${signerId} already has key ${current.kid}; nothing changed (a forgotten PIN: --rotate)`);
  const pin = await prompt.ask(`Signing PIN for ${signerId} (${user.displayName}), 6 or more digits: `);
  if ((await prompt.ask('Repeat the PIN: ')) !== pin) refuse('The PINs differ; nothing was stored.');
  const r = await setUpSigningKey(deps, operator, signerId, pin, values.rotate ? 'rotate' : 'enrol');
  if (r.outcome === 'kept') refuse(`${signerId} already has key ${r.kid}; nothing changed (a forgotten PIN: --rotate)`);
  process.stdout.write(r.outcome === 'rotated' ? `${signerId} signs with a new key ${r.kid} from now on\n` : `enrolled ${signerId}: key ${r.kid}\n`);
} catch (e) {
  if (e instanceof PromptCancelled || isAppError(e)) refuse((e as Error).message);
  throw e;
} finally {
  prompt.close();
}
