import { signingPinSubject } from '../domain/attempts.ts';
import { AppError } from '../domain/errors.ts';
import { newSigningPinProblem } from '../domain/signing-pin-rule.ts';
import type { UserRecord } from '../contracts/consortium.ts';
import type { Deps } from './deps.ts';

export type SignerKeyDeps = Pick<Deps, 'directory' | 'signer' | 'attempts' | 'audit' | 'clock'>;

export interface SignerKeyResult {
  kid: string;
  /** enrolled: a first key; rotated: a new key replaced the current one; kept: the reader already had a key (enrol only). */
  outcome: 'enrolled' | 'rotated' | 'kept';
}

/**
 * The reader a signing key is for: SIGN.NOT_A_READER (with what to do) for anyone else. Lets a tool
 * refuse before the reader has typed a PIN.
 */
export async function signerToSetUp(deps: Pick<Deps, 'directory'>, signerId: string): Promise<UserRecord> {
  const user = await deps.directory.getUser(signerId);
  if (user?.role === 'reader') return user;
  throw new AppError(
    'SIGN.NOT_A_READER',
    'invalid',
    user
      ? `${signerId} is a ${user.role}; only readers sign reports, so only readers get a signing key.`
      : `No user ${signerId} in the consortium; add the reader to the consortium first (ids are the users' "id", not their username).`,
  );
}

/**
 * Gives a reader of the consortium a signing key sealed under the PIN they typed (`enrol`: once; a
 * reader who has a key keeps it), or a new key under a new PIN (`rotate`: a forgotten PIN; a reader
 * without a key is enrolled), which also lifts their signing lock: the lock guarded the old PIN's key,
 * which can no longer sign. Run by an operator with the reader present. Audited with the key's id,
 * never the PIN.
 */
export async function setUpSigningKey(deps: SignerKeyDeps, operator: string, signerId: string, pin: string, mode: 'enrol' | 'rotate'): Promise<SignerKeyResult> {
  await signerToSetUp(deps, signerId);
  const problem = newSigningPinProblem(pin);
  if (problem) throw new AppError('SIGN.WEAK_PIN', 'invalid', `${problem}; nothing was changed.`);
  const first = await deps.signer.enrol(signerId, pin);
  let result: SignerKeyResult;
  if (first.created) result = { kid: first.kid, outcome: 'enrolled' };
  else if (mode === 'enrol') return { kid: first.kid, outcome: 'kept' };
  else result = { kid: (await deps.signer.rotate(signerId, pin)).kid, outcome: 'rotated' };
  if (mode === 'rotate') await deps.attempts.clear(signingPinSubject(signerId));
  await deps.audit.append({
    at: deps.clock.now().toISOString(),
    actor: operator,
    action: result.outcome === 'enrolled' ? 'signing.key_enrolled' : 'signing.key_rotated',
    detail: { signerId, kid: result.kid },
  });
  return result;
}
