import { describe, expect, it } from 'vitest';
import { MemoryAttemptLimiter } from '../../../shared/adapters/local/memory-attempt-limiter.ts';
import { SIGN_IN_POLICY, signInSubject } from '../../../shared/domain/attempts.ts';

const T0 = new Date('2026-11-23T08:00:00.000Z').getTime();
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const P = SIGN_IN_POLICY;

describe('MemoryAttemptLimiter', () => {
  it('when full, forgets a stale entry first, then an unlocked one, then the oldest: never refuses a new username', async () => {
    const l = new MemoryAttemptLimiter(3);
    for (let i = 0; i < P.maxFailures; i++) await l.take('reader', at(0), P); // locked until 5
    for (let i = 0; i < P.maxFailures - 1; i++) await l.take('admin', at(1), P); // one short of the lock
    await l.take('x1', at(2), P);
    // Full, nothing stale: the least recently tried unlocked entry goes ('admin'), the lock stays.
    expect((await l.take('x2', at(3), P)).allowed).toBe(true);
    expect(await l.lockedUntil('reader', at(3))).toBe(at(P.lockMinutes).toISOString());
    const again = await l.take('admin', at(3), P); // forgotten: counted from 1 again (pushes out x1)
    expect(again.allowed && again.next.failures).toBe(1);
    // Later, 'reader''s lock has run out and nobody tried it since: stale, it goes before the others.
    expect((await l.take('x3', at(P.lockMinutes + 3), P)).allowed).toBe(true);
    expect(await l.lockedUntil('reader', at(P.lockMinutes + 3))).toBeNull();
    const admin = await l.take('admin', at(P.lockMinutes + 3), P);
    expect(admin.allowed && admin.next.failures).toBe(2);
  });

  it('counts a username whatever its case and surrounding spaces', () => {
    expect(signInSubject(' Tech-A ')).toBe(signInSubject('tech-a'));
    expect(signInSubject('tech-a')).not.toBe(signInSubject('tech-b'));
  });
});
