import type { Principal } from '../contracts/auth.ts';
import { secondsUntil, SIGNING_PIN_POLICY, signingPinSubject } from '../domain/attempts.ts';
import { AppError, isAppError } from '../domain/errors.ts';
import type { ReportSigner, SigningSession } from '../ports/signer.ts';
import type { Deps } from './deps.ts';

/** SIGN.PIN_LOCKED (429): until when, and what to do. */
export function pinLockedError(lockedUntil: string, now: Date, byThisPin: boolean): AppError {
  const { maxFailures, lockMinutes } = SIGNING_PIN_POLICY;
  const retryAfterSeconds = secondsUntil(lockedUntil, now);
  return new AppError(
    'SIGN.PIN_LOCKED',
    'rate_limited',
    `${byThisPin ? 'The signing PIN is not correct. ' : ''}After ${maxFailures} wrong signing PINs in a row, signing is locked for ${lockMinutes} minutes, until ${lockedUntil}. ` +
      'Try again then; if you have forgotten your PIN, ask the administrator for a new signing key.',
    { lockedUntil, retryAfterSeconds },
  );
}

/** Until when the reader's signing is locked, if it is now. */
export function signingLockedUntil(deps: Pick<Deps, 'attempts' | 'clock'>, p: Principal): Promise<string | null> {
  return deps.attempts.lockedUntil(signingPinSubject(p.userId), deps.clock.now());
}

/** Refuses (SIGN.PIN_LOCKED) a reader whose signing is locked: no case is handed to someone who cannot sign it. */
export async function assertSigningNotLocked(deps: Pick<Deps, 'attempts' | 'clock'>, p: Principal): Promise<void> {
  const until = await signingLockedUntil(deps, p);
  if (until) throw pinLockedError(until, deps.clock.now(), false);
}

/**
 * The signer behind the signing-PIN lock-out (SIGNING_PIN_POLICY). Each unsealing is an attempt,
 * counted before the PIN is tried: a right PIN clears the count; a wrong one is audited and answered
 * with the attempts left (SIGN.BAD_PIN) or the lock it set (SIGN.PIN_LOCKED); an unsealing that never
 * reached the PIN (no key, a store failure) is given back.
 */
export function pinLimitedSigner(deps: Pick<Deps, 'signer' | 'attempts' | 'audit' | 'clock' | 'log'>): Pick<ReportSigner, 'openSession'> {
  return {
    async openSession(signerId: string, pin: string): Promise<SigningSession> {
      const subject = signingPinSubject(signerId);
      const now = deps.clock.now();
      const d = await deps.attempts.take(subject, now, SIGNING_PIN_POLICY);
      if (!d.allowed) throw pinLockedError(d.lockedUntil, now, false);
      let session: SigningSession;
      try {
        session = await deps.signer.openSession(signerId, pin);
      } catch (e) {
        if (!isAppError(e) || e.code !== 'SIGN.BAD_PIN') {
          await deps.attempts.giveBack(subject, SIGNING_PIN_POLICY);
          throw e;
        }
        const locked = d.next.lockedUntil;
        await deps.audit.append({
          at: now.toISOString(),
          actor: signerId,
          action: locked ? 'signing.locked' : 'signing.wrong_pin',
          detail: locked ? { lockedUntil: locked } : { attemptsLeft: d.left },
        });
        if (locked) throw pinLockedError(locked, now, true);
        throw new AppError(
          'SIGN.BAD_PIN',
          'forbidden',
          `The signing PIN is not correct. ${d.left} more wrong PIN${d.left === 1 ? '' : 's'} in a row will lock signing for ${SIGNING_PIN_POLICY.lockMinutes} minutes.`,
          { attemptsLeft: d.left, lockMinutes: SIGNING_PIN_POLICY.lockMinutes },
        );
      }
      // The PIN was right: signing goes ahead even if the count cannot be cleared now, rather than failing
      // a signature the signer was entitled to (the count stays until the next right PIN clears it, or
      // the lock it reached runs out).
      await deps.attempts.clear(subject).catch((e: unknown) =>
        deps.log.warn('signing PIN count not cleared', { code: (e as { code?: string })?.code ?? (e as Error)?.name }),
      );
      return session;
    },
  };
}
