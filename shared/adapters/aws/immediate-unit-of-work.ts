import type { UnitOfWork } from '../../ports/unit-of-work.ts';

/**
 * DynamoDB, S3 and SQS acknowledge a write only once it is durable, so there is nothing to defer or
 * flush at the end of a unit: `run` is `fn()`.
 */
export class ImmediateUnitOfWork implements UnitOfWork {
  async run<T>(fn: () => Promise<T>): Promise<T> {
    // answersFromStored needs nothing either: what a read returns was acknowledged durable.
    return fn();
  }
}
