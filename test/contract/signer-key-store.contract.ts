import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SealedSignerKey, SignerKeyStore } from '../../shared/ports/signer.ts';
import { expectAppError } from './support/expect-error.ts';

export interface SignerKeyStoreFixture {
  keys: SignerKeyStore;
  cleanup(): Promise<void>;
}

const key = (signerId: string, kid: string, createdAt: string): SealedSignerKey => ({
  signerId,
  kid,
  publicJwk: { kty: 'EC', crv: 'P-256', x: `x-${kid}`, y: `y-${kid}`, kid },
  sealed: { alg: 'scrypt+A256GCM', N: 32768, r: 8, p: 1, salt: 'c2FsdA', iv: 'aXY', tag: 'dGFn', ciphertext: `ct-${kid}` },
  createdAt,
});

/** The SignerKeyStore port's contract: create-once on (signerId, kid); current = newest. */
export function signerKeyStoreContract(name: string, make: () => Promise<SignerKeyStoreFixture>): void {
  describe(`SignerKeyStore contract: ${name}`, () => {
    let f: SignerKeyStoreFixture;
    let keys: SignerKeyStore;
    beforeEach(async () => {
      f = await make();
      keys = f.keys;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    it('stores keys once, answers the newest as current and keeps old ones', async () => {
      expect(await keys.current('ecg-reader')).toBeNull();
      expect(await keys.all()).toEqual([]);
      const k2 = key('ecg-reader', 'kid-2', '2026-05-02T00:00:00.000Z');
      const k1 = key('ecg-reader', 'kid-1', '2026-05-01T00:00:00.000Z');
      const other = key('rad-reader', 'kid-r', '2026-05-03T00:00:00.000Z');
      await keys.put(k2);
      await keys.put(k1); // inserted later but older
      await keys.put(other);
      expect(await keys.current('ecg-reader')).toEqual(k2);
      expect(await keys.current('rad-reader')).toEqual(other);
      const all = await keys.all();
      expect(all).toHaveLength(3);
      expect(all).toEqual(expect.arrayContaining([k1, k2, other]));
    });

    it('refuses a second key with the same (signerId, kid)', async () => {
      const k = key('ecg-reader', 'kid-1', '2026-05-01T00:00:00.000Z');
      await keys.put(k);
      await expectAppError(keys.put({ ...k, sealed: { ...k.sealed, ciphertext: 'replaced' } }), 'SIGN.KEY_EXISTS', 'conflict');
      expect(await keys.current('ecg-reader')).toEqual(k);
      // The same kid under another signer is a different key.
      await keys.put({ ...k, signerId: 'rad-reader' });
      expect(await keys.all()).toHaveLength(2);
    });
  });
}
