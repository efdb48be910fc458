/**
 * Enrol a reader's signing key on AWS, with the reader present: the reader types their signing PIN
 * (twice, not echoed); a P-256 key pair is created and stored sealed under it in the stage's table.
 *   npx tsx infra/bin/enrol-signer.ts --table teleread-prod-data --signer ecg-reader
 * With --rotate, a new key under a new PIN replaces the current one (a forgotten PIN; earlier reports
 * still verify with the old public key) and the reader's wrong-PIN count and lock are cleared.
 * The PIN never leaves this process; nothing can sign for the reader without it.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAttemptLimiter } from '../../shared/adapters/aws/dynamo-attempt-limiter.ts';
import { DynamoSignerKeyStore } from '../../shared/adapters/aws/dynamo-signer-key-store.ts';
import { signingPinSubject } from '../../shared/domain/attempts.ts';
import { SealedKeyReportSigner } from '../../shared/signing/sealed-key-signer.ts';

const { values } = parseArgs({ options: { table: { type: 'string' }, signer: { type: 'string' }, region: { type: 'string' }, rotate: { type: 'boolean' } } });
if (!values.table || !values.signer) {
  process.stderr.write('usage: enrol-signer --table <table name> --signer <reader user id> [--rotate] [--region <region>]\n');
  process.exit(2);
}

async function askHidden(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const out = rl as unknown as { _writeToOutput?: (s: string) => void };
  process.stdout.write(prompt);
  out._writeToOutput = () => {};
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stdout.write('\n');
  return answer.trim();
}

const pin = await askHidden(`Signing PIN for ${values.signer}: `);
if ((await askHidden('Repeat the PIN: ')) !== pin) {
  process.stderr.write('The PINs differ; nothing was stored.\n');
  process.exit(1);
}
const client = new DynamoDBClient(values.region ? { region: values.region } : {});
const signer = new SealedKeyReportSigner(new DynamoSignerKeyStore(client, values.table));
if (values.rotate) {
  const { kid } = await signer.rotate(values.signer, pin);
  await new DynamoAttemptLimiter(client, values.table).clear(signingPinSubject(values.signer));
  process.stdout.write(`${values.signer} signs with a new key ${kid} from now on\n`);
} else {
  const { kid } = await signer.enrol(values.signer, pin);
  process.stdout.write(`enrolled ${values.signer}: key ${kid}\n`);
}
