import type { Principal } from '../contracts/auth.ts';
import { secondsUntil, SIGN_IN_POLICY, signInSubject } from '../domain/attempts.ts';
import { AppError } from '../domain/errors.ts';
import type { AttemptLimiter } from '../ports/attempt-limiter.ts';
import type { PasswordHasher, TokenService } from '../ports/auth.ts';
import type { Deps } from './deps.ts';

/**
 * Password login for the single-machine runtime; the same answer shape whatever went wrong, so usernames
 * can't be probed. Each attempt counts against the username typed (SIGN_IN_POLICY) before the password
 * is checked; a right one clears the count.
 */
export async function login(deps: Deps, hasher: PasswordHasher, tokens: TokenService, attempts: AttemptLimiter, username: string, password: string) {
  const subject = signInSubject(username);
  const now = deps.clock.now();
  const d = await attempts.take(subject, now, SIGN_IN_POLICY);
  if (!d.allowed) throw signInLocked(d.lockedUntil, now);
  const u = await deps.directory.findUserByUsername(username);
  // A user without a usable hash (a placeholder such as "!unset", or "!cognito") costs the same check
  // as an unknown one: the answer's timing says nothing about who exists or has a password.
  const usable = u !== null && hasher.recognizes(u.passwordHash);
  const ok = usable ? await hasher.verify(u.passwordHash, password) : await hasher.verify(DUMMY_HASH, password).then(() => false);
  if (!u || !ok) {
    deps.log.warn('login failed', {});
    if (d.next.lockedUntil) {
      await deps.audit.append({ at: now.toISOString(), actor: u?.id ?? 'unknown-user', action: 'auth.locked', detail: { lockedUntil: d.next.lockedUntil } });
      throw signInLocked(d.next.lockedUntil, now);
    }
    throw new AppError('AUTH.BAD_CREDENTIALS', 'unauthenticated', 'Wrong username or password.');
  }
  await attempts.clear(subject);
  const principal: Principal = { userId: u.id, role: u.role, ...(u.clinicId ? { clinicId: u.clinicId } : {}), ...(u.pools ? { pools: u.pools } : {}) };
  const token = await tokens.issue(principal);
  await deps.audit.append({ at: deps.clock.now().toISOString(), actor: u.id, action: 'auth.login' });
  return {
    token,
    user: { id: u.id, role: u.role, displayName: u.displayName, ...(u.clinicId ? { clinicId: u.clinicId } : {}), ...(u.pools ? { pools: u.pools } : {}) },
  };
}

/**
 * The signed-in user as the web UI shows it, for a token issued elsewhere (an OpenID Connect issuer):
 * role, clinic and pools are the token's; the name is the directory's when it knows the user.
 */
export async function sessionUser(deps: Deps, p: Principal) {
  const u = await deps.directory.getUser(p.userId);
  return {
    id: p.userId,
    role: p.role,
    displayName: u?.displayName ?? p.userId,
    ...(p.clinicId ? { clinicId: p.clinicId } : {}),
    ...(p.pools ? { pools: p.pools } : {}),
  };
}

/**
 * Who an identity provider's token may be on a machine whose consortium file lists its users: one of
 * them, in the role the file gives (a provider's group of the same name held by others, e.g. a
 * hospital-wide "admin", does not make a TeleRead administrator); the clinic and pools are the
 * file's. Anyone else is refused with AUTH.NOT_LISTED.
 */
export function admitListedUsers(deps: Pick<Deps, 'directory'>): (p: Principal) => Promise<Principal> {
  return async (p) => {
    const u = await deps.directory.getUser(p.userId);
    if (!u || u.role !== p.role) {
      throw new AppError(
        'AUTH.NOT_LISTED',
        'forbidden',
        'Your account is not a TeleRead user with this role here; ask the administrator to add you to the consortium file.',
      );
    }
    return { userId: u.id, role: u.role, ...(u.clinicId ? { clinicId: u.clinicId } : {}), ...(u.pools ? { pools: u.pools } : {}) };
  };
}

/** AUTH.LOCKED (429): the same for every username, existing or not. */
function signInLocked(lockedUntil: string, now: Date): AppError {
  const retryAfterSeconds = secondsUntil(lockedUntil, now);
  return new AppError(
    'AUTH.LOCKED',
    'rate_limited',
    `Too many failed sign-ins for this username: try again after ${lockedUntil} (${SIGN_IN_POLICY.lockMinutes} minutes after the last of ${SIGN_IN_POLICY.maxFailures} wrong passwords in a row).`,
    { lockedUntil, retryAfterSeconds },
  );
}

// An argon2id hash of a random string: verifying against it costs the same time as a real user.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0dB5P2E8m9bW1CqKk8p1m3m4Y0cOQn8y4m8v0v1XQ0Q';
