import { giveBackAttempt, lockedUntil, takeAttempt, type AttemptDecision, type AttemptPolicy, type AttemptState } from '../../domain/attempts.ts';
import type { AttemptLimiter } from '../../ports/attempt-limiter.ts';

/**
 * AttemptLimiter in this process's memory, for password sign-in on one machine: every username typed
 * is counted (an unknown one locks like a real one, so a lock says nothing about who exists), and
 * nothing of an attacker's guesses reaches the disk. At most `maxSubjects` are remembered, the least
 * recently tried forgotten first; a restart forgets them all.
 */
export class MemoryAttemptLimiter implements AttemptLimiter {
  private readonly states = new Map<string, AttemptState>();

  constructor(private readonly maxSubjects = 10_000) {}

  private put(subject: string, s: AttemptState): void {
    this.states.delete(subject);
    this.states.set(subject, s);
    if (this.states.size > this.maxSubjects) this.states.delete(this.states.keys().next().value!);
  }

  async take(subject: string, now: Date, policy: AttemptPolicy): Promise<AttemptDecision> {
    const d = takeAttempt(this.states.get(subject) ?? null, now, policy);
    if (d.allowed) this.put(subject, d.next);
    return d;
  }

  async lockedUntil(subject: string, now: Date): Promise<string | null> {
    return lockedUntil(this.states.get(subject) ?? null, now);
  }

  async giveBack(subject: string, policy: AttemptPolicy): Promise<void> {
    const next = giveBackAttempt(this.states.get(subject) ?? null, policy);
    if (next) this.put(subject, next);
  }

  async clear(subject: string): Promise<void> {
    this.states.delete(subject);
  }
}
