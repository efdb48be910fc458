import { giveBackAttempt, lockedUntil, takeAttempt, type AttemptDecision, type AttemptPolicy, type AttemptState } from '../../domain/attempts.ts';
import type { AttemptLimiter } from '../../ports/attempt-limiter.ts';

interface Entry {
  state: AttemptState;
  /** Last attempt (ms) and how long a count is worth keeping after it (the policy's lock time). */
  lastAt: number;
  keepMs: number;
}

/** How many of the least recently tried entries are looked at for one that may be forgotten. */
const EVICTION_SCAN = 64;

/**
 * AttemptLimiter in this process's memory, for password sign-in on one machine: every username typed
 * is counted (an unknown one locks like a real one, so a lock says nothing about who exists), and
 * nothing of an attacker's guesses reaches the disk. At most `maxSubjects` are remembered; when full,
 * the least recently tried entry that is stale (not locked, last tried longer ago than a lock lasts)
 * is forgotten first, then one that is not locked, then the oldest. So wiping a real username's count
 * or lock takes a flood of `maxSubjects` made-up ones, each costing the server a password check — far
 * more than waiting out the lock — while a new username is never refused for want of room. A restart
 * forgets everything.
 */
export class MemoryAttemptLimiter implements AttemptLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxSubjects = 100_000) {}

  /** Forget one entry if full: the first stale one of the least recently tried, else an unlocked one, else the oldest. */
  private makeRoom(now: Date): void {
    if (this.entries.size < this.maxSubjects) return;
    let unlocked: string | null = null;
    let oldest: string | null = null;
    let scanned = 0;
    for (const [subject, e] of this.entries) {
      if (scanned++ >= EVICTION_SCAN) break;
      oldest ??= subject;
      if (lockedUntil(e.state, now) !== null) continue;
      if (now.getTime() - e.lastAt >= e.keepMs) {
        this.entries.delete(subject);
        return;
      }
      unlocked ??= subject;
    }
    this.entries.delete((unlocked ?? oldest)!);
  }

  async take(subject: string, now: Date, policy: AttemptPolicy): Promise<AttemptDecision> {
    const known = this.entries.get(subject);
    if (!known) this.makeRoom(now);
    const d = takeAttempt(known?.state ?? null, now, policy);
    if (d.allowed) {
      // Re-inserted: the map's order is least recently tried first.
      this.entries.delete(subject);
      this.entries.set(subject, { state: d.next, lastAt: now.getTime(), keepMs: policy.lockMinutes * 60_000 });
    }
    return d;
  }

  async lockedUntil(subject: string, now: Date): Promise<string | null> {
    return lockedUntil(this.entries.get(subject)?.state ?? null, now);
  }

  async giveBack(subject: string, policy: AttemptPolicy): Promise<void> {
    const e = this.entries.get(subject);
    const next = giveBackAttempt(e?.state ?? null, policy);
    if (e && next) e.state = next;
  }

  async clear(subject: string): Promise<void> {
    this.entries.delete(subject);
  }
}
