import { describe, expect, it } from 'vitest';
import { MemoryAttemptLimiter } from '../../../shared/adapters/local/memory-attempt-limiter.ts';
import { SIGN_IN_POLICY, signInSubject } from '../../../shared/domain/attempts.ts';

const T0 = new Date('2026-11-23T08:00:00.000Z').getTime();
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const P = SIGN_IN_POLICY;

describe('MemoryAttemptLimiter', () => {
  it('when full, forgets only a stale entry: a flood of made-up usernames cannot wipe a count or a lock', async () => {
    const l = new MemoryAttemptLimiter(3);
    for (let i = 0; i < P.maxFailures - 1; i++) await l.take('admin', at(0), P); // one short of the lock
    for (let i = 0; i < P.maxFailures; i++) await l.take('reader', at(0), P); // locked
    await l.take('x1', at(0), P);
    // Full of live entries: a new username is refused as locked for one lock period, nothing is forgotten.
    expect(await l.take('x2', at(1), P)).toEqual({ allowed: false, lockedUntil: at(1 + P.lockMinutes).toISOString() });
    expect(await l.lockedUntil('reader', at(1))).not.toBeNull();
    const admin = await l.take('admin', at(1), P);
    expect(admin.allowed && admin.next.lockedUntil).toBeTruthy(); // the 10th: the count survived
    // Later: 'reader''s lock (set at 0) has run out and nobody tried it since: stale, it goes for x3.
    expect((await l.take('x3', at(P.lockMinutes + 0.5), P)).allowed).toBe(true);
    // x1, last tried at 0, is stale too: it goes for x4.
    expect((await l.take('x4', at(P.lockMinutes + 0.6), P)).allowed).toBe(true);
    // Left: 'admin' (locked at 1, until 6), x3 and x4 (just tried): nothing may go, x5 is refused.
    expect((await l.take('x5', at(P.lockMinutes + 0.7), P)).allowed).toBe(false);
    expect(await l.lockedUntil('admin', at(P.lockMinutes + 0.7))).toBe(at(1 + P.lockMinutes).toISOString());
  });

  it('counts a username whatever its case and surrounding spaces', () => {
    expect(signInSubject(' Tech-A ')).toBe(signInSubject('tech-a'));
    expect(signInSubject('tech-a')).not.toBe(signInSubject('tech-b'));
  });
});
