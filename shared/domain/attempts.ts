/**
 * Lock-out after wrong secrets (a reader's signing PIN, a password). `maxFailures` wrong in a row lock the subject
 * out for `lockMinutes`. An attempt counts as a failure from the moment it is taken, and a right
 * secret clears the count: attempts sent in parallel are each counted before any of them is checked,
 * so they cannot slip past the limit while the first ones are being checked. The price, for requests
 * sent at once: one may be refused as locked by attempts still in flight that turn out right (the lock
 * is then gone a moment later), and a right one clears the count of wrong ones still in flight.
 */
export interface AttemptPolicy {
  maxFailures: number;
  lockMinutes: number;
}

/** Signing with a PIN: 5 wrong in a row lock signing for 15 minutes (a 6-digit PIN: ~480 guesses a day at most). */
export const SIGNING_PIN_POLICY: Readonly<AttemptPolicy> = Object.freeze({ maxFailures: 5, lockMinutes: 15 });

/** Whose attempts a signing PIN's are: the signer's own. */
export const signingPinSubject = (signerId: string) => `signing-pin:${signerId}`;

/**
 * Password sign-in (one machine; Cognito has its own on AWS): 10 wrong in a row lock the username for 5
 * minutes. Shorter than the PIN's lock because anyone who knows a username can set it off.
 */
export const SIGN_IN_POLICY: Readonly<AttemptPolicy> = Object.freeze({ maxFailures: 10, lockMinutes: 5 });

/** Sign-in attempts count per username as typed (case and spacing aside), whether or not it exists. */
export const signInSubject = (username: string) => `sign-in:${username.normalize('NFC').trim().toLowerCase()}`;

export interface AttemptState {
  /** Attempts taken since the last right one (or since the last lock ended). */
  failures: number;
  /** ISO time until which the subject is locked out; set by the attempt that reached maxFailures. */
  lockedUntil: string | null;
}

export type AttemptDecision =
  | { allowed: true; next: AttemptState; /** Attempts left before the lock if this one is wrong too. */ left: number }
  | { allowed: false; lockedUntil: string };

/** One more attempt at `now`: refused while locked; otherwise counted (and the lock set when it is the last one allowed). */
export function takeAttempt(cur: AttemptState | null, now: Date, policy: AttemptPolicy): AttemptDecision {
  const locked = lockedUntil(cur, now);
  if (locked) return { allowed: false, lockedUntil: locked };
  // A lock that has run out starts a new count.
  const failures = (cur && !cur.lockedUntil ? cur.failures : 0) + 1;
  const until = failures >= policy.maxFailures ? new Date(now.getTime() + policy.lockMinutes * 60_000).toISOString() : null;
  return { allowed: true, next: { failures, lockedUntil: until }, left: Math.max(0, policy.maxFailures - failures) };
}

/** Whole seconds from `now` until a lock ends (at least 1): what a Retry-After says. */
export const secondsUntil = (lockedUntil: string, now: Date): number => Math.max(1, Math.ceil((Date.parse(lockedUntil) - now.getTime()) / 1000));

/** When the subject's lock ends, if it is locked out at `now`. */
export function lockedUntil(cur: AttemptState | null, now: Date): string | null {
  return cur?.lockedUntil && Date.parse(cur.lockedUntil) > now.getTime() ? cur.lockedUntil : null;
}

/**
 * An attempt that never reached the secret (the signer has no key, the store failed): it stops
 * counting. The lock goes too when the count falls below the limit (it can only have been set by the
 * attempt that reached it).
 */
export function giveBackAttempt(cur: AttemptState | null, policy: AttemptPolicy): AttemptState | null {
  if (!cur || cur.failures <= 0) return cur;
  const failures = cur.failures - 1;
  return { failures, lockedUntil: failures >= policy.maxFailures ? cur.lockedUntil : null };
}
