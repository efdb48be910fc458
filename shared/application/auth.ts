import type { Principal } from '../contracts/auth.ts';
import { AppError } from '../domain/errors.ts';
import type { PasswordHasher, TokenService } from '../ports/auth.ts';
import type { Deps } from './deps.ts';

/** Password login for the single-machine runtime; the same answer shape whatever went wrong, so usernames can't be probed. */
export async function login(deps: Deps, hasher: PasswordHasher, tokens: TokenService, username: string, password: string) {
  const u = await deps.directory.findUserByUsername(username);
  const ok = u ? await hasher.verify(u.passwordHash, password) : await hasher.verify(DUMMY_HASH, password).then(() => false);
  if (!u || !ok) {
    deps.log.warn('login failed', {});
    throw new AppError('AUTH.BAD_CREDENTIALS', 'unauthenticated', 'Wrong username or password.');
  }
  const principal: Principal = { userId: u.id, role: u.role, ...(u.clinicId ? { clinicId: u.clinicId } : {}), ...(u.pools ? { pools: u.pools } : {}) };
  const token = await tokens.issue(principal);
  await deps.audit.append({ at: deps.clock.now().toISOString(), actor: u.id, action: 'auth.login' });
  return {
    token,
    user: { id: u.id, role: u.role, displayName: u.displayName, ...(u.clinicId ? { clinicId: u.clinicId } : {}), ...(u.pools ? { pools: u.pools } : {}) },
  };
}

// An argon2id hash of a random string: verifying against it costs the same time as a real user.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0dB5P2E8m9bW1CqKk8p1m3m4Y0cOQn8y4m8v0v1XQ0Q';
