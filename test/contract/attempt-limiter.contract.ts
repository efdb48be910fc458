import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIGNING_PIN_POLICY, type AttemptPolicy } from '../../shared/domain/attempts.ts';
import type { AttemptLimiter } from '../../shared/ports/attempt-limiter.ts';

export interface AttemptLimiterFixture {
  limiter: AttemptLimiter;
  /** A second instance on the same store (another process / Lambda). */
  another(): Promise<AttemptLimiter>;
  cleanup(): Promise<void>;
}

const T0 = new Date('2026-11-23T08:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const P: AttemptPolicy = SIGNING_PIN_POLICY;

/** The AttemptLimiter port's contract: counted before checked, locked after maxFailures, atomic across instances. */
export function attemptLimiterContract(name: string, make: () => Promise<AttemptLimiterFixture>): void {
  describe(`AttemptLimiter contract: ${name}`, () => {
    let f: AttemptLimiterFixture;
    let l: AttemptLimiter;
    beforeEach(async () => {
      f = await make();
      l = f.limiter;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    it('allows maxFailures attempts in a row, the last one setting the lock; then refuses until the lock ends', async () => {
      const lefts: number[] = [];
      for (let i = 0; i < P.maxFailures; i++) {
        const d = await l.take('signing-pin:r1', at(i), P);
        expect(d.allowed).toBe(true);
        if (d.allowed) lefts.push(d.left);
      }
      expect(lefts).toEqual([4, 3, 2, 1, 0]);
      const lockedUntil = at(P.maxFailures - 1 + P.lockMinutes).toISOString();
      expect(await l.take('signing-pin:r1', at(5), P)).toEqual({ allowed: false, lockedUntil });
      expect(await l.lockedUntil('signing-pin:r1', at(5))).toBe(lockedUntil);
      expect(await l.lockedUntil('signing-pin:r1', at(4 + P.lockMinutes))).toBeNull();
      expect(await l.lockedUntil('signing-pin:r2', at(5))).toBeNull();
      expect(await l.take('signing-pin:r1', at(4 + P.lockMinutes - 0.01), P)).toEqual({ allowed: false, lockedUntil });
      // Other subjects are not affected.
      expect((await l.take('signing-pin:r2', at(6), P)).allowed).toBe(true);
      // Served: a new count of maxFailures.
      const after = await l.take('signing-pin:r1', at(4 + P.lockMinutes), P);
      expect(after).toEqual({ allowed: true, next: { failures: 1, lockedUntil: null }, left: 4 });
    });

    it('a right secret clears the count, even on the attempt that set the lock', async () => {
      for (let i = 0; i < 3; i++) await l.take('s', at(0), P);
      expect(await l.lockedUntil('s', at(0))).toBeNull();
      await l.clear('s');
      for (let i = 0; i < P.maxFailures; i++) expect((await l.take('s', at(1), P)).allowed).toBe(true);
      await l.clear('s');
      const d = await l.take('s', at(2), P);
      expect(d).toEqual({ allowed: true, next: { failures: 1, lockedUntil: null }, left: 4 });
      await l.clear('never-seen');
    });

    it('an attempt given back stops counting, and the lock it set goes with it', async () => {
      for (let i = 0; i < P.maxFailures; i++) await l.take('s', at(0), P);
      await l.giveBack('s', P);
      const d = await l.take('s', at(1), P);
      expect(d.allowed && d.left).toBe(0);
      expect((await l.take('s', at(1), P)).allowed).toBe(false);
      await l.giveBack('never-seen', P);
      expect((await l.take('never-seen', at(1), P)).allowed).toBe(true);
    });

    it('counts attempts made at once, from two instances: exactly maxFailures are allowed', async () => {
      const other = await f.another();
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? other : l).take('signing-pin:race', at(0), P)));
      expect(results.filter((r) => r.allowed)).toHaveLength(P.maxFailures);
      expect(results.filter((r) => r.allowed).map((r) => (r.allowed ? r.left : -1)).sort()).toEqual([0, 1, 2, 3, 4]);
    });
  });
}
