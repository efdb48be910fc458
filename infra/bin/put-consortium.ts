/**
 * Store (or replace) the consortium document of a stage in its DynamoDB table:
 *   npx tsx infra/bin/put-consortium.ts --table teleread-prod-data --file consortium.json
 * The file follows shared/contracts/consortium.ts (clinics, pools, routing, users with display names
 * and licence numbers). On AWS, sign-in is Cognito's: each user's `passwordHash` may be "!cognito".
 * Functions read the document at cold start: after a change, publish new versions or wait for recycling.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDirectory } from '../../shared/adapters/aws/dynamo-directory.ts';
import { ConsortiumSchema } from '../../shared/contracts/consortium.ts';

const { values } = parseArgs({ options: { table: { type: 'string' }, file: { type: 'string' }, region: { type: 'string' } } });
if (!values.table || !values.file) {
  process.stderr.write('usage: put-consortium --table <table name> --file <consortium.json> [--region <region>]\n');
  process.exit(2);
}
const consortium = ConsortiumSchema.parse(JSON.parse(readFileSync(values.file, 'utf8')));
await DynamoDirectory.store(new DynamoDBClient(values.region ? { region: values.region } : {}), values.table, consortium);
process.stdout.write(`stored consortium "${consortium.name}" (${consortium.clinics.length} clinics, ${consortium.users.length} users) in ${values.table}\n`);
