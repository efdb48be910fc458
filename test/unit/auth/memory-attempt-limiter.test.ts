import { describe, expect, it } from 'vitest';
import { MemoryAttemptLimiter } from '../../../shared/adapters/local/memory-attempt-limiter.ts';
import { SIGN_IN_POLICY, signInSubject } from '../../../shared/domain/attempts.ts';

describe('MemoryAttemptLimiter', () => {
  it('remembers at most maxSubjects, forgetting the least recently tried first', async () => {
    const l = new MemoryAttemptLimiter(3);
    const now = new Date('2026-11-23T08:00:00.000Z');
    for (let i = 0; i < SIGN_IN_POLICY.maxFailures; i++) await l.take('a', now, SIGN_IN_POLICY);
    expect(await l.lockedUntil('a', now)).not.toBeNull();
    await l.take('b', now, SIGN_IN_POLICY);
    await l.take('c', now, SIGN_IN_POLICY);
    // 'a' is the least recently tried: a fourth subject pushes it out.
    await l.take('d', now, SIGN_IN_POLICY);
    expect(await l.lockedUntil('a', now)).toBeNull();
    const b = await l.take('b', now, SIGN_IN_POLICY);
    expect(b.allowed && b.next.failures).toBe(2);
  });

  it('counts a username whatever its case and surrounding spaces', () => {
    expect(signInSubject(' Tech-A ')).toBe(signInSubject('tech-a'));
    expect(signInSubject('tech-a')).not.toBe(signInSubject('tech-b'));
  });
});
