import { describe, expect, it } from 'vitest';
import { InProcessDispatcher } from '../../local/workers.ts';

describe('InProcessDispatcher (uploads ingested without the job-queue hop)', () => {
  it('runs at most `concurrency` at once, hands failures to onFail, and drain waits for all', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    const failed: Array<[number, string]> = [];
    const d = new InProcessDispatcher<number>(
      async (n) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5 + (n % 3)));
        running--;
        if (n % 4 === 0) throw new Error(`boom ${n}`);
        done.push(n);
      },
      async (n, e) => {
        failed.push([n, (e as Error).message]);
      },
      3,
    );
    await d.drain(); // nothing submitted: resolves at once
    for (let i = 1; i <= 20; i++) d.submit(i);
    await d.drain();
    expect(peak).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual([1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15, 17, 18, 19]);
    expect(failed.map(([n]) => n).sort((a, b) => a - b)).toEqual([4, 8, 12, 16, 20]);
    expect(failed[0]![1]).toMatch(/^boom/);
  });
});
