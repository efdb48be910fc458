/**
 * Wrong passwords on a real local server: 10 in a row lock the username for 5 minutes (even the right
 * password is refused), an unknown username locks the same way (a lock says nothing about who exists),
 * other users sign in meanwhile, and the username works again once the lock has run out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGN_IN_POLICY } from '../../shared/domain/attempts.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { DEMO_PASSWORD, startTestServer, type TestServer } from '../support/local-server.ts';

describe('sign-in lock-out', () => {
  let srv: TestServer;
  const clock = new FakeClock();
  beforeAll(async () => {
    srv = await startTestServer({ clock });
  });
  afterAll(async () => srv?.close());

  const login = async (username: string, password: string) => {
    const r = await fetch(`${srv.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    const j = (await r.json()) as { error?: { code: string; details?: { retryAfterSeconds: number } } };
    return { status: r.status, code: j.error?.code ?? 'OK', retryAfter: r.headers.get('retry-after') };
  };

  it('10 wrong passwords in a row lock the username for 5 minutes, known or not', async () => {
    const n = SIGN_IN_POLICY.maxFailures;
    for (const username of ['tech-a', 'no-such-user']) {
      const answers = [];
      for (let i = 0; i < n; i++) answers.push((await login(i % 2 && i < n - 1 ? username.toUpperCase() : username, 'wrong-password')).code);
      expect(answers).toEqual([...Array.from({ length: n - 1 }, () => 'AUTH.BAD_CREDENTIALS'), 'AUTH.LOCKED']);
    }
    const locked = await login('tech-a', DEMO_PASSWORD);
    expect(locked).toEqual({ status: 429, code: 'AUTH.LOCKED', retryAfter: String(SIGN_IN_POLICY.lockMinutes * 60) });
    expect((await login('no-such-user', 'x')).code).toBe('AUTH.LOCKED');
    expect((await login('tech-b', DEMO_PASSWORD)).code).toBe('OK');

    clock.advance(SIGN_IN_POLICY.lockMinutes * 60_000);
    expect((await login('tech-a', DEMO_PASSWORD)).code).toBe('OK');
    // The right password cleared the count: one wrong one now is only that.
    expect((await login('tech-a', 'wrong-password')).code).toBe('AUTH.BAD_CREDENTIALS');

    const audit = await srv.sys.deps.audit.list({ limit: 100 });
    expect(audit.filter((e) => e.action === 'auth.locked').map((e) => e.actor).sort()).toEqual(['tech-a', 'unknown-user']);
  });
});
