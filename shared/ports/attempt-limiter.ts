import type { AttemptDecision, AttemptPolicy } from '../domain/attempts.ts';

/**
 * Counted attempts at a secret, per subject (`signing-pin:<userId>`, `sign-in:<username>`), kept where
 * every instance of the service sees them (signing PINs: SQLite locally, DynamoDB on AWS; passwords on
 * one machine: its memory). Each call applies the domain's rule (`takeAttempt` / `giveBackAttempt`)
 * to the stored state atomically: concurrent calls each count.
 */
export interface AttemptLimiter {
  /** Take one attempt: refused with the lock's end while locked out, otherwise counted. */
  take(subject: string, now: Date, policy: AttemptPolicy): Promise<AttemptDecision>;
  /** When the subject's lock ends, if it is locked out at `now` (read only: nothing is counted). */
  lockedUntil(subject: string, now: Date): Promise<string | null>;
  /** The attempt never reached the secret: stop counting it. */
  giveBack(subject: string, policy: AttemptPolicy): Promise<void>;
  /** The secret was right: the count starts again. */
  clear(subject: string): Promise<void>;
}
