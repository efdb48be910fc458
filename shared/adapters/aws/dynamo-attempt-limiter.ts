import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../domain/errors.ts';
import { giveBackAttempt, lockedUntil, takeAttempt, type AttemptDecision, type AttemptPolicy, type AttemptState } from '../../domain/attempts.ts';
import type { AttemptLimiter } from '../../ports/attempt-limiter.ts';
import { documentClient, isConditionFailed } from './dynamo-common.ts';

/** Enough for every reader of a consortium racing on one subject (each round, one of them wins). */
const MAX_ROUNDS = 50;

/**
 * AttemptLimiter in the TeleRead table: `ATTEMPTS#<subject>` / `ATTEMPTS`, read strongly consistent and
 * written conditionally on its version `v` (GetItem and PutItem only, as the functions' role allows); a
 * write that lost a race reads again and retries.
 */
export class DynamoAttemptLimiter implements AttemptLimiter {
  private readonly doc: DynamoDBDocumentClient;
  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = documentClient(client);
  }

  private key(subject: string) {
    return { pk: `ATTEMPTS#${subject}`, sk: 'ATTEMPTS' };
  }

  private async read(subject: string): Promise<{ cur: AttemptState | null; v: number; exists: boolean }> {
    const got = await this.doc.send(new GetCommand({ TableName: this.table, Key: this.key(subject), ConsistentRead: true }));
    const item = got.Item;
    return {
      exists: !!item,
      v: typeof item?.['v'] === 'number' ? item['v'] : 0,
      cur: item ? { failures: Number(item['failures'] ?? 0), lockedUntil: typeof item['lockedUntil'] === 'string' ? item['lockedUntil'] : null } : null,
    };
  }

  /** Read, apply `change`, write if the version is still the one read; again (after a short random pause) on a lost race. */
  private async update<T>(subject: string, change: (cur: AttemptState | null) => { next: AttemptState | null; result: T }): Promise<T> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (round > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 5 * round)));
      const { cur, v, exists } = await this.read(subject);
      const { next, result } = change(cur);
      if (!next) return result;
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...this.key(subject), failures: next.failures, ...(next.lockedUntil ? { lockedUntil: next.lockedUntil } : {}), v: v + 1 },
            ...(exists ? { ConditionExpression: 'v = :v', ExpressionAttributeValues: { ':v': v } } : { ConditionExpression: 'attribute_not_exists(pk)' }),
          }),
        );
        return result;
      } catch (e) {
        if (!isConditionFailed(e)) throw e;
      }
    }
    throw new AppError('ATTEMPTS.CONTENDED', 'conflict', 'Too many attempts at once; try again.');
  }

  async lockedUntil(subject: string, now: Date): Promise<string | null> {
    return lockedUntil((await this.read(subject)).cur, now);
  }

  take(subject: string, now: Date, policy: AttemptPolicy): Promise<AttemptDecision> {
    return this.update(subject, (cur) => {
      const d = takeAttempt(cur, now, policy);
      return { next: d.allowed ? d.next : null, result: d };
    });
  }

  giveBack(subject: string, policy: AttemptPolicy): Promise<void> {
    return this.update(subject, (cur) => ({ next: giveBackAttempt(cur, policy), result: undefined }));
  }

  /** A count of zero, written like any other (the functions may not delete table items). */
  clear(subject: string): Promise<void> {
    return this.update(subject, (cur) => ({ next: cur && (cur.failures > 0 || cur.lockedUntil) ? { failures: 0, lockedUntil: null } : null, result: undefined }));
  }
}
