import { signingPinSubject } from '../domain/attempts.ts';
import { AppError } from '../domain/errors.ts';
import type { Deps } from './deps.ts';

export type SignerKeyDeps = Pick<Deps, 'directory' | 'signer' | 'attempts' | 'audit' | 'clock'>;

export interface SignerKeyResult {
  kid: string;
  /** enrol: false when the reader already had a key (it is kept; nothing changed). */
  changed: boolean;
}

/**
 * Gives a reader of the consortium a signing key sealed under the PIN they typed (`enrol`: once; a
 * reader who has a key keeps it), or a new key under a new PIN (`rotate`: a forgotten PIN), which also
 * lifts their signing lock: the lock guarded the old PIN's key, which can no longer sign. Run by an
 * operator with the reader present. Audited with the key's id; never the PIN.
 */
export async function setUpSigningKey(deps: SignerKeyDeps, operator: string, signerId: string, pin: string, mode: 'enrol' | 'rotate'): Promise<SignerKeyResult> {
  const user = await deps.directory.getUser(signerId);
  if (!user || user.role !== 'reader') {
    throw new AppError(
      'SIGN.NOT_A_READER',
      'invalid',
      user
        ? `${signerId} is a ${user.role}; only readers sign reports, so only readers get a signing key.`
        : `No user ${signerId} in the consortium; add the reader to the consortium first (ids are the users' "id", not their username).`,
    );
  }
  if (mode === 'enrol') {
    const { kid, created } = await deps.signer.enrol(signerId, pin);
    if (created) await deps.audit.append({ at: deps.clock.now().toISOString(), actor: operator, action: 'signing.key_enrolled', detail: { signerId, kid } });
    return { kid, changed: created };
  }
  const { kid } = await deps.signer.rotate(signerId, pin);
  await deps.attempts.clear(signingPinSubject(signerId));
  await deps.audit.append({ at: deps.clock.now().toISOString(), actor: operator, action: 'signing.key_rotated', detail: { signerId, kid } });
  return { kid, changed: true };
}
