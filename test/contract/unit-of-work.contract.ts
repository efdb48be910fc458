import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UnitOfWork } from '../../shared/ports/unit-of-work.ts';

export interface UnitOfWorkFixture {
  uow: UnitOfWork;
  /** One write through an adapter of the same technology (the unit groups these). */
  write(tag: string): Promise<void>;
  /** The tags written so far, in any order. */
  written(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** Resolves when `release` is called: lets a test hold one run open while another runs. */
function latch() {
  let release!: () => void;
  const opened = new Promise<void>((r) => (release = r));
  return { opened, release };
}

/**
 * The UnitOfWork port's contract: `run` settles as fn does, runs nest and overlap, and it is not a
 * transaction (writes made before a throw stand). Durability itself is adapter-specific (local.test.ts).
 */
export function unitOfWorkContract(name: string, make: () => Promise<UnitOfWorkFixture>): void {
  describe(`UnitOfWork contract: ${name}`, () => {
    let f: UnitOfWorkFixture;
    beforeEach(async () => {
      f = await make();
    });
    afterEach(async () => {
      await f.cleanup();
    });

    it("answers fn's value, after fn's writes are readable", async () => {
      const value = await f.uow.run(async () => {
        await f.write('a');
        await f.write('b');
        return { n: 42 };
      });
      expect(value).toEqual({ n: 42 });
      expect((await f.written()).sort()).toEqual(['a', 'b']);
    });

    it('a replayable unit (answersFromStored) answers like any other, with or without writes of its own', async () => {
      await f.write('first');
      expect(await f.uow.run(async () => (await f.written()).length, { answersFromStored: true })).toBe(1);
      expect(await f.uow.run(async () => (await f.write('second'), 'ok'), { answersFromStored: true })).toBe('ok');
      expect((await f.written()).sort()).toEqual(['first', 'second']);
    });

    it("rejects with fn's own error, and the writes made before the throw stand (no rollback)", async () => {
      const boom = new Error('boom');
      await expect(
        f.uow.run(async () => {
          await f.write('kept');
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await f.written()).toEqual(['kept']);
    });

    it('rejects (never throws synchronously) when fn throws before returning a promise', async () => {
      const boom = new Error('sync boom');
      let p: Promise<unknown> | undefined;
      expect(() => {
        p = f.uow.run(() => {
          throw boom;
        });
      }).not.toThrow();
      await expect(p).rejects.toBe(boom);
    });

    it('nests: an inner run answers the outer one, its error can be caught there, the outer goes on', async () => {
      const value = await f.uow.run(async () => {
        const inner = await f.uow.run(async () => {
          await f.write('inner');
          return 1;
        });
        const caught = await f.uow
          .run(async () => {
            await f.write('before-inner-throw');
            throw new Error('inner failed');
          })
          .catch((e: Error) => e.message);
        await f.write('outer');
        return { inner, caught };
      });
      expect(value).toEqual({ inner: 1, caught: 'inner failed' });
      expect((await f.written()).sort()).toEqual(['before-inner-throw', 'inner', 'outer']);
    });

    it('overlapping runs both settle, each with its own outcome, and neither waits for the other to end', async () => {
      const hold = latch();
      let aWrote = false;
      const a = f.uow.run(async () => {
        await f.write('a1');
        aWrote = true;
        await hold.opened;
        await f.write('a2');
        return 'a';
      });
      // b starts after a, writes while a is open and ends while a still waits.
      const b = f.uow.run(async () => {
        await f.write('b1');
        throw new Error('b failed');
      });
      await expect(b).rejects.toThrow('b failed');
      expect(aWrote).toBe(true);
      hold.release();
      expect(await a).toBe('a');
      expect((await f.written()).sort()).toEqual(['a1', 'a2', 'b1']);
    });

    it('many concurrent runs all settle with their own values', async () => {
      const values = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          f.uow.run(async () => {
            await f.write(`w${i}`);
            return i;
          }),
        ),
      );
      expect(values).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect((await f.written()).length).toBe(12);
    });
  });
}
