import { describe, expect, it } from 'vitest';
import { SqliteAttemptLimiter } from '../../../shared/adapters/local/sqlite-attempt-limiter.ts';
import { openSqlite } from '../../../shared/adapters/local/sqlite.ts';
import { pinLimitedSigner } from '../../../shared/application/signing-pin.ts';
import { SIGNING_PIN_POLICY } from '../../../shared/domain/attempts.ts';
import { AppError } from '../../../shared/domain/errors.ts';
import type { AuditEntry } from '../../../shared/ports/audit-log.ts';
import type { ReportSigner } from '../../../shared/ports/signer.ts';

/** pinLimitedSigner around a stand-in signer whose answer the test chooses, on a real SQLite limiter. */
function setup(opts: { clearFails?: boolean } = {}) {
  let answer: 'ok' | 'bad-pin' | 'no-key' | 'store-down' = 'ok';
  const signer = {
    async openSession() {
      if (answer === 'bad-pin') throw new AppError('SIGN.BAD_PIN', 'forbidden', 'The signing PIN is not correct.');
      if (answer === 'no-key') throw new AppError('SIGN.NO_KEY', 'conflict', 'no key');
      if (answer === 'store-down') throw new Error('connection refused');
      return { kid: 'k1', signDetached: async () => ({ jws: 'h..s', kid: 'k1' }) };
    },
  } as unknown as ReportSigner;
  const audit: AuditEntry[] = [];
  const now = new Date('2026-11-23T08:00:00.000Z');
  const attempts = new SqliteAttemptLimiter(openSqlite(':memory:'));
  if (opts.clearFails) attempts.clear = async () => Promise.reject(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
  const warnings: { msg: string; fields?: Record<string, unknown> }[] = [];
  const noop = () => {};
  const limited = pinLimitedSigner({
    signer,
    attempts,
    audit: { append: async (e: AuditEntry) => void audit.push(e), list: async () => audit },
    clock: { now: () => now },
    log: { info: noop, error: noop, warn: (msg, fields) => void warnings.push({ msg, fields }) },
  });
  const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string; message: string }) => e.code ?? e.message);
  return { limited, audit, warnings, code, answer: (a: typeof answer) => void (answer = a) };
}

describe('pinLimitedSigner', () => {
  it('an unsealing that never reached the PIN (no key, a store failure) does not count towards the lock', async () => {
    const t = setup();
    t.answer('no-key');
    for (let i = 0; i < 2 * SIGNING_PIN_POLICY.maxFailures; i++) expect(await t.code(t.limited.openSession('r1', '123456'))).toBe('SIGN.NO_KEY');
    t.answer('store-down');
    for (let i = 0; i < 2 * SIGNING_PIN_POLICY.maxFailures; i++) expect(await t.code(t.limited.openSession('r1', '123456'))).toBe('connection refused');
    t.answer('bad-pin');
    expect(await t.code(t.limited.openSession('r1', '123456'))).toBe('SIGN.BAD_PIN');
    expect(t.audit.map((e) => e.detail)).toEqual([{ attemptsLeft: SIGNING_PIN_POLICY.maxFailures - 1 }]);
  });

  it('a right PIN signs even when the count cannot be cleared (a warning, not a failed signature)', async () => {
    const t = setup({ clearFails: true });
    t.answer('bad-pin');
    expect(await t.code(t.limited.openSession('r1', '000000'))).toBe('SIGN.BAD_PIN');
    t.answer('ok');
    expect(await t.code(t.limited.openSession('r1', '246810'))).toBe('ok');
    expect(t.warnings).toEqual([{ msg: 'signing PIN count not cleared', fields: { code: 'ProvisionedThroughputExceededException' } }]);
  });

  it('counts per signer: one reader locked out leaves the others signing', async () => {
    const t = setup();
    t.answer('bad-pin');
    const codes: string[] = [];
    for (let i = 0; i < SIGNING_PIN_POLICY.maxFailures + 1; i++) codes.push(await t.code(t.limited.openSession('r1', '000000')));
    expect(codes).toEqual(['SIGN.BAD_PIN', 'SIGN.BAD_PIN', 'SIGN.BAD_PIN', 'SIGN.BAD_PIN', 'SIGN.PIN_LOCKED', 'SIGN.PIN_LOCKED']);
    t.answer('ok');
    expect(await t.code(t.limited.openSession('r1', '246810'))).toBe('SIGN.PIN_LOCKED');
    expect(await t.code(t.limited.openSession('r2', '246810'))).toBe('ok');
    // The locked-out attempt itself is not audited again (only the five that were tried).
    expect(t.audit.filter((e) => e.actor === 'r1')).toHaveLength(SIGNING_PIN_POLICY.maxFailures);
  });
});
