import { createHash } from 'node:crypto';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../../shared/signing/canonical.ts';
import { SealedKeyReportSigner } from '../../../shared/signing/sealed-key-signer.ts';
import { findDuplicateMember, verifyDetached, verifyReportFiles, type Jwks } from '../../../shared/signing/verify.ts';
import { FAST_SCRYPT, MemorySignerKeyStore, PIN, sampleReport, seededRandom } from './support.ts';

describe('verifyDetached / verifyReportFiles', () => {
  const pdf = Buffer.from('%PDF-1.7\n% a stand-in PDF\n');
  const report = sampleReport({ pdfSha256: createHash('sha256').update(pdf).digest('hex') });
  const canonical = canonicalBytes(report);
  let jwks: Jwks;
  let jws: string;
  let kid: string;

  beforeAll(async () => {
    const signer = new SealedKeyReportSigner(new MemorySignerKeyStore(), { scrypt: FAST_SCRYPT });
    await signer.enrol('ecg-reader', PIN);
    ({ jws, kid } = await signer.signDetached('ecg-reader', PIN, canonical));
    jwks = (await signer.jwks()) as unknown as Jwks;
  });

  it('accepts the signature over the canonical bytes', async () => {
    expect(await verifyDetached({ canonical, jws, jwks })).toEqual({ ok: true, kid });
  });

  it('detects 1,000 seeded random single-bit flips over the canonical report bytes', async () => {
    const random = seededRandom(20261123);
    const failures: string[] = [];
    const codes = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const bit = Math.floor(random() * canonical.length * 8);
      const flipped = Uint8Array.from(canonical);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      const r = await verifyDetached({ canonical: flipped, jws, jwks });
      if (r.ok) failures.push(`bit ${bit}`);
      else codes.add(r.code);
    }
    expect(failures).toEqual([]);
    expect([...codes]).toEqual(['VERIFY.BAD_SIGNATURE']);
  });

  it('detects a changed signature or header', async () => {
    const [h, , s] = jws.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[10]! ^= 0x01;
    expect(await verifyDetached({ canonical, jws: `${h}..${sig.toString('base64url')}`, jwks })).toMatchObject({ ok: false, code: 'VERIFY.BAD_SIGNATURE' });
    const h2 = Buffer.from(JSON.stringify({ alg: 'ES256', kid, typ: 'x' })).toString('base64url');
    expect(await verifyDetached({ canonical, jws: `${h2}..${s}`, jwks })).toMatchObject({ ok: false, code: 'VERIFY.BAD_SIGNATURE' });
  });

  it('answers VERIFY.UNKNOWN_KEY for a JWS signed by a key that is not in the JWKS', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const stranger = await new CompactSign(canonical).setProtectedHeader({ alg: 'ES256', kid: 'not-published' }).sign(privateKey);
    const [h, , s] = stranger.split('.');
    const r = await verifyDetached({ canonical, jws: `${h}..${s}`, jwks });
    expect(r).toMatchObject({ ok: false, code: 'VERIFY.UNKNOWN_KEY' });
    // the stranger's key published under our kid does not make our signature verify
    const forged = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };
    expect(await verifyDetached({ canonical, jws, jwks: forged })).toMatchObject({ ok: false, code: 'VERIFY.BAD_SIGNATURE' });
    // an empty key set
    expect(await verifyDetached({ canonical, jws, jwks: { keys: [] } })).toMatchObject({ ok: false, code: 'VERIFY.UNKNOWN_KEY' });
  });

  it('still verifies when the JWKS lists the same kid twice', async () => {
    const doubled = { keys: [...jwks.keys, ...jwks.keys] };
    expect(await verifyDetached({ canonical, jws, jwks: doubled })).toEqual({ ok: true, kid });
  });

  it.each([
    ['not three parts', () => 'abc.def'],
    ['an attached payload', () => jws.replace('..', '.e30.')],
    ['a header that is not JSON', () => `${Buffer.from('nope').toString('base64url')}..${jws.split('.')[2]}`],
    ['alg none', () => `${Buffer.from('{"alg":"none","kid":"x"}').toString('base64url')}..${jws.split('.')[2]}`],
    ['HS256', () => `${Buffer.from(`{"alg":"HS256","kid":"${kid}"}`).toString('base64url')}..${jws.split('.')[2]}`],
    ['no kid', () => `${Buffer.from('{"alg":"ES256"}').toString('base64url')}..${jws.split('.')[2]}`],
    ['b64 false', () => `${Buffer.from(`{"alg":"ES256","kid":"${kid}","b64":false,"crit":["b64"]}`).toString('base64url')}..${jws.split('.')[2]}`],
    ['a non-base64url signature', () => `${jws.split('.')[0]}..a+b/`],
  ])('answers VERIFY.MALFORMED for %s', async (_, make) => {
    expect(await verifyDetached({ canonical, jws: make(), jwks })).toMatchObject({ ok: false, code: 'VERIFY.MALFORMED' });
  });

  it('answers VERIFY.MALFORMED for a key set that is not a JWKS', async () => {
    expect(await verifyDetached({ canonical, jws, jwks: { nope: 1 } as unknown as Jwks })).toMatchObject({ ok: false, code: 'VERIFY.MALFORMED' });
  });

  it('verifies report files: pretty-printed JSON, reordered members, and the PDF hash', async () => {
    const pretty = JSON.stringify(Object.fromEntries(Object.entries(report).reverse()), null, 2) + '\n';
    expect(await verifyReportFiles({ reportJson: pretty, jws: `${jws}\n`, jwks })).toMatchObject({ ok: true, kid, pdfChecked: false });
    expect(await verifyReportFiles({ reportJson: pretty, jws, jwks, pdfBytes: pdf })).toMatchObject({ ok: true, kid, pdfChecked: true });
  });

  it('answers VERIFY.PDF_MISMATCH for another PDF, and when the report records no PDF hash', async () => {
    const reportJson = new TextDecoder().decode(canonical);
    const other = Buffer.concat([pdf, Buffer.from(' ')]);
    expect(await verifyReportFiles({ reportJson, jws, jwks, pdfBytes: other })).toMatchObject({ ok: false, code: 'VERIFY.PDF_MISMATCH' });

    const signer = new SealedKeyReportSigner(new MemorySignerKeyStore(), { scrypt: FAST_SCRYPT });
    await signer.enrol('r', PIN);
    const bare = canonicalBytes(sampleReport());
    const signed = await signer.signDetached('r', PIN, bare);
    const r = await verifyReportFiles({ reportJson: new TextDecoder().decode(bare), jws: signed.jws, jwks: (await signer.jwks()) as unknown as Jwks, pdfBytes: pdf });
    expect(r).toMatchObject({ ok: false, code: 'VERIFY.PDF_MISMATCH' });
  });

  it('detects a changed report value', async () => {
    const changed = JSON.stringify({ ...report, critical: true });
    expect(await verifyReportFiles({ reportJson: changed, jws, jwks })).toMatchObject({ ok: false, code: 'VERIFY.BAD_SIGNATURE' });
  });

  it('refuses report files that are not JSON objects or repeat a member', async () => {
    expect(await verifyReportFiles({ reportJson: '{"a":', jws, jwks })).toMatchObject({ ok: false, code: 'VERIFY.MALFORMED' });
    expect(await verifyReportFiles({ reportJson: '[1]', jws, jwks })).toMatchObject({ ok: false, code: 'VERIFY.MALFORMED' });
    // JSON.parse keeps the last "critical"; a human or another tool may read the first
    const text = new TextDecoder().decode(canonical).replace('"critical":false', '"critical":true,"critical":false');
    expect(await verifyReportFiles({ reportJson: text, jws, jwks })).toMatchObject({ ok: false, code: 'VERIFY.MALFORMED' });
  });

  it('findDuplicateMember finds repeats per object only', () => {
    expect(findDuplicateMember('{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}')).toBeNull();
    expect(findDuplicateMember('{"a":"\\"a\\"","b":{"x":1,"x":2}}')).toBe('x');
    expect(findDuplicateMember('{"\\u0061":1,"a":2}')).toBe('a');
    expect(findDuplicateMember('["a","a"]')).toBeNull();
  });
});
