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
 * nothing of an attacker's guesses reaches the disk. At most `maxSubjects` are remembered. When full,
 * only a stale entry is forgotten (not locked, last tried longer ago than the lock lasts), so flooding
 * the table with made-up usernames cannot wipe a real one's count or lock; when none is stale, a new
 * username is refused as locked for one lock period (that takes more sign-ins than two cores can check).
 * A restart forgets everything.
 */
export class MemoryAttemptLimiter implements AttemptLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxSubjects = 100_000) {}

  /** Room for one more entry, if a stale one can go. */
  private makeRoom(now: number): boolean {
    if (this.entries.size < this.maxSubjects) return true;
    let scanned = 0;
    for (const [subject, e] of this.entries) {
      if (scanned++ >= EVICTION_SCAN) break;
      const locked = lockedUntil(e.state, new Date(now)) !== null;
      if (!locked && now - e.lastAt >= e.keepMs) {
        this.entries.delete(subject);
        return true;
      }
    }
    return false;
  }

  async take(subject: string, now: Date, policy: AttemptPolicy): Promise<AttemptDecision> {
    const known = this.entries.get(subject);
    if (!known && !this.makeRoom(now.getTime())) {
      return { allowed: false, lockedUntil: new Date(now.getTime() + policy.lockMinutes * 60_000).toISOString() };
    }
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
