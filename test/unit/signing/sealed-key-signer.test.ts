import { base64url, compactVerify, createLocalJWKSet, decodeProtectedHeader, flattenedVerify, importJWK, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/domain/errors.ts';
import { canonicalBytes } from '../../../shared/signing/canonical.ts';
import { SealedKeyReportSigner } from '../../../shared/signing/sealed-key-signer.ts';
import { FAST_SCRYPT, MemorySignerKeyStore, PIN, sampleReport } from './support.ts';

const appError = async (p: Promise<unknown>): Promise<AppError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an AppError');
};

describe('SealedKeyReportSigner', () => {
  let store: MemorySignerKeyStore;
  let signer: SealedKeyReportSigner;
  let kid: string;
  const canonical = canonicalBytes(sampleReport());

  beforeAll(async () => {
    store = new MemorySignerKeyStore();
    signer = new SealedKeyReportSigner(store, { scrypt: FAST_SCRYPT, now: () => new Date('2026-11-23T00:00:00Z') });
    ({ kid } = await signer.enrol('ecg-reader', PIN));
  });

  it('enrols a P-256 key whose kid is its RFC 7638 thumbprint, sealed with the requested scrypt cost', async () => {
    expect(kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = store.rows[0]!;
    expect(row).toMatchObject({ signerId: 'ecg-reader', kid, createdAt: '2026-11-23T00:00:00.000Z' });
    expect(row.sealed).toMatchObject({ alg: 'scrypt+A256GCM', ...FAST_SCRYPT });
    expect(Buffer.from(row.sealed.salt, 'base64url')).toHaveLength(16);
    expect(Buffer.from(row.sealed.iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(row.sealed.tag, 'base64url')).toHaveLength(16);
    expect(JSON.stringify(row)).not.toMatch(/"d"/); // no private JWK anywhere
    const { calculateJwkThumbprint } = await import('jose');
    expect(await calculateJwkThumbprint(row.publicJwk as JWK)).toBe(kid);
  });

  it('is idempotent: enrolling again returns the same kid and makes no key', async () => {
    expect(await signer.enrol('ecg-reader', PIN)).toEqual({ kid, created: false });
    expect(await signer.enrol('ecg-reader', 'another-pin')).toEqual({ kid, created: false });
    expect(store.rows.filter((r) => r.signerId === 'ecg-reader')).toHaveLength(1);
  });

  it('concurrent enrols of one signer make one key', async () => {
    const s = new SealedKeyReportSigner(new MemorySignerKeyStore(), { scrypt: FAST_SCRYPT });
    const kids = await Promise.all([s.enrol('x', PIN), s.enrol('x', PIN), s.enrol('x', PIN)]);
    expect(new Set(kids.map((k) => k.kid)).size).toBe(1);
    expect(kids.map((k) => k.created)).toEqual([true, false, false]);
    expect((await s.jwks()).keys).toHaveLength(1);
  });

  it('signs a standard detached compact JWS that jose verifies with the payload re-attached', async () => {
    const { jws, kid: usedKid } = await signer.signDetached('ecg-reader', PIN, canonical);
    expect(usedKid).toBe(kid);
    const [h, p, s] = jws.split('.');
    expect(p).toBe('');
    expect(decodeProtectedHeader(jws)).toEqual({ alg: 'ES256', kid });
    expect(base64url.decode(s!)).toHaveLength(64);

    const jwks = await signer.jwks();
    const attached = `${h}.${base64url.encode(canonical)}.${s}`;
    const result = await compactVerify(attached, createLocalJWKSet(jwks as { keys: JWK[] }), { algorithms: ['ES256'] });
    expect(Buffer.from(result.payload).equals(Buffer.from(canonical))).toBe(true);
    // and with the bare public key, as a JWS library without JWKS support would
    const key = await importJWK(jwks.keys[0] as JWK, 'ES256');
    await expect(flattenedVerify({ protected: h!, payload: base64url.encode(canonical), signature: s! }, key)).resolves.toBeTruthy();
  });

  it('publishes every key with kid, alg ES256 and use sig, and no private part', async () => {
    const { keys } = await signer.jwks();
    expect(keys).toEqual([{ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid, alg: 'ES256', use: 'sig' }]);
  });

  it('refuses a wrong PIN with SIGN.BAD_PIN (forbidden)', async () => {
    for (const pin of ['246811', '', 'x'.repeat(1000)]) {
      const e = await appError(signer.signDetached('ecg-reader', pin, canonical));
      expect([e.code, e.kind, e.message]).toEqual(['SIGN.BAD_PIN', 'forbidden', 'The signing PIN is not correct.']);
    }
  });

  it('answers SIGN.NO_KEY (conflict) for a signer without a key', async () => {
    const e = await appError(signer.signDetached('nobody', PIN, canonical));
    expect([e.code, e.kind]).toEqual(['SIGN.NO_KEY', 'conflict']);
  });

  it('refuses a PIN shorter than six characters at enrolment', async () => {
    const e = await appError(signer.enrol('short-pin', '1234'));
    expect([e.code, e.kind]).toEqual(['SIGN.WEAK_PIN', 'invalid']);
  });

  it("a sealed blob of signer A moved to signer B does not unseal, even with A's PIN", async () => {
    const s = new MemorySignerKeyStore();
    const local = new SealedKeyReportSigner(s, { scrypt: FAST_SCRYPT });
    await local.enrol('reader-a', PIN);
    await local.enrol('reader-b', '135790');
    const a = s.rows.find((r) => r.signerId === 'reader-a')!;
    const b = s.rows.find((r) => r.signerId === 'reader-b')!;
    // B's row now carries A's sealed key (same PIN as A's), keeping B's kid and public key
    b.sealed = structuredClone(a.sealed);
    await expect(local.signDetached('reader-a', PIN, canonical)).resolves.toBeTruthy();
    expect((await appError(local.signDetached('reader-b', PIN, canonical))).code).toBe('SIGN.BAD_PIN');
    // and A's whole row copied under B's id (kid and public key of A) fails too
    s.rows.push({ ...structuredClone(a), signerId: 'reader-b', createdAt: '2999-01-01T00:00:00.000Z' });
    expect((await appError(local.signDetached('reader-b', PIN, canonical))).code).toBe('SIGN.BAD_PIN');
  });

  it('rotate makes a new current key; the old one stays published and old signatures still verify', async () => {
    const s = new MemorySignerKeyStore();
    let t = Date.parse('2026-01-01T00:00:00Z');
    const local = new SealedKeyReportSigner(s, { scrypt: FAST_SCRYPT, now: () => new Date((t += 1000)) });
    const { kid: oldKid } = await local.enrol('rad-reader', PIN);
    const old = await local.signDetached('rad-reader', PIN, canonical);
    const { kid: newKid } = await local.rotate('rad-reader', '975310');
    expect(newKid).not.toBe(oldKid);
    expect(await local.enrol('rad-reader', '975310')).toEqual({ kid: newKid, created: false });
    expect((await appError(local.signDetached('rad-reader', PIN, canonical))).code).toBe('SIGN.BAD_PIN');
    const fresh = await local.signDetached('rad-reader', '975310', canonical);
    expect(fresh.kid).toBe(newKid);

    const jwks = await local.jwks();
    expect(jwks.keys.map((k) => k.kid)).toEqual([oldKid, newKid]);
    const keySet = createLocalJWKSet(jwks as { keys: JWK[] });
    for (const { jws, kid: k } of [old, fresh]) {
      const [h, , sig] = jws.split('.');
      const r = await compactVerify(`${h}.${base64url.encode(canonical)}.${sig}`, keySet);
      expect(r.protectedHeader.kid).toBe(k);
    }
  });

  it('refuses a tampered store asking for an absurd scrypt cost (SIGN.KEY_CORRUPT)', async () => {
    const s = new MemorySignerKeyStore();
    const local = new SealedKeyReportSigner(s, { scrypt: FAST_SCRYPT });
    await local.enrol('r', PIN);
    s.rows[0]!.sealed.N = 2 ** 30;
    expect((await appError(local.signDetached('r', PIN, canonical))).code).toBe('SIGN.KEY_CORRUPT');
  });

  it('with the default scrypt cost (N = 2^15) enrol and sign work (their time is measured by npm run bench)', async () => {
    const local = new SealedKeyReportSigner(new MemorySignerKeyStore());
    const { kid: k } = await local.enrol('default-cost', PIN);
    const { jws } = await local.signDetached('default-cost', PIN, canonical);
    expect(decodeProtectedHeader(jws).kid).toBe(k);
  });
});
