import { describe, expect, it } from 'vitest';
import { MemoryAttemptLimiter } from '../../../shared/adapters/local/memory-attempt-limiter.ts';
import { login } from '../../../shared/application/auth.ts';
import type { Deps } from '../../../shared/application/deps.ts';
import type { UserRecord } from '../../../shared/contracts/consortium.ts';
import type { PasswordHasher, TokenService } from '../../../shared/ports/auth.ts';

const user = (username: string, passwordHash: string): UserRecord => ({ id: username, username, displayName: username, role: 'technician', clinicId: 'clinic-a', passwordHash });
const users = [user('has-password', '$argon2id$v=19$m=19456,t=2,p=1$real'), user('placeholder', '!unset'), user('cognito', '!cognito'), user('dollar', '$unset')];

function setUp() {
  const checked: string[] = [];
  const hasher: PasswordHasher = {
    hash: async () => 'unused',
    recognizes: (h) => h.startsWith('$argon2'),
    verify: async (h, password) => (checked.push(h), h === users[0]!.passwordHash && password === 'right password'),
  };
  const deps = {
    clock: { now: () => new Date('2026-06-01T08:00:00Z') },
    directory: { findUserByUsername: async (n: string) => users.find((u) => u.username === n) ?? null },
    log: { info() {}, warn() {}, error() {} },
    audit: { append: async () => undefined },
  } as unknown as Deps;
  const tokens = { issue: async () => 'token' } as unknown as TokenService;
  const attempt = (username: string, password: string) => login(deps, hasher, tokens, new MemoryAttemptLimiter(), username, password);
  return { checked, attempt };
}

describe('login: every refusal costs one password check', () => {
  it('a user whose hash is a placeholder is checked against the dummy hash, like an unknown user, and refused', async () => {
    const { checked, attempt } = setUp();
    for (const name of ['placeholder', 'cognito', 'dollar', 'nobody']) {
      await expect(attempt(name, 'right password')).rejects.toMatchObject({ code: 'AUTH.BAD_CREDENTIALS' });
    }
    // Four checks, all against the same dummy hash, none against a placeholder.
    expect(checked).toHaveLength(4);
    expect(new Set(checked).size).toBe(1);
    expect(checked[0]).toMatch(/^\$argon2id\$/);
    expect(checked[0]).not.toBe(users[0]!.passwordHash);
  });

  it('a user with a real hash is checked against it', async () => {
    const { checked, attempt } = setUp();
    await expect(attempt('has-password', 'right password')).resolves.toMatchObject({ token: 'token', user: { id: 'has-password' } });
    await expect(attempt('has-password', 'wrong')).rejects.toMatchObject({ code: 'AUTH.BAD_CREDENTIALS' });
    expect(checked).toEqual([users[0]!.passwordHash, users[0]!.passwordHash]);
  });
});
