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
import { setUpSigningKey } from '../../shared/application/signer-keys.ts';
import { systemClock } from '../../shared/ports/clock.ts';
import { SealedKeyReportSigner } from '../../shared/signing/sealed-key-signer.ts';
import { secretPrompt } from '../../local/prompt.ts';

const { values } = parseArgs({ options: { table: { type: 'string' }, signer: { type: 'string' }, region: { type: 'string' }, rotate: { type: 'boolean' } } });
if (!values.table || !values.signer) {
  process.stderr.write('usage: enrol-signer --table <table name> --signer <reader user id> [--rotate] [--region <region>]\n');
  process.exit(2);
}

const prompt = secretPrompt();
const pin = await prompt.ask(`Signing PIN for ${values.signer}: `);
const again = await prompt.ask('Repeat the PIN: ');
prompt.close();
if (again !== pin) {
  process.stderr.write('The PINs differ; nothing was stored.\n');
  process.exit(1);
}
const client = new DynamoDBClient(values.region ? { region: values.region } : {});
const deps = {
  directory: await DynamoDirectory.load(client, values.table),
  signer: new SealedKeyReportSigner(new DynamoSignerKeyStore(client, values.table)),
  attempts: new DynamoAttemptLimiter(client, values.table),
  audit: new DynamoAuditLog(client, values.table),
  clock: systemClock,
};
const { kid, changed } = await setUpSigningKey(deps, `cli:${userInfo().username}`, values.signer, pin, values.rotate ? 'rotate' : 'enrol');
if (values.rotate) process.stdout.write(`${values.signer} signs with a new key ${kid} from now on\n`);
else if (changed) process.stdout.write(`enrolled ${values.signer}: key ${kid}\n`);
else process.stdout.write(`${values.signer} already has key ${kid}; nothing changed (a forgotten PIN: --rotate)\n`);
