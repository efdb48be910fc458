/**
 * Acceptance 2 of issue 7: 1,000 random single-bit flips across the report JSON and the PDF are all
 * detected; swapping two cases' reports is detected; a key not in the JWKS is rejected; an amended
 * report verifies and points to the version it supersedes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sealReport } from '../../../shared/application/reports.ts';
import { contentOf, verificationCode } from '../../../shared/contracts/report.ts';
import { PdfReportRenderer } from '../../../shared/reports/pdf.ts';
import { verifySignedReport, verifySignedReportFiles } from '../../../shared/reports/verify.ts';
import { canonicalBytes } from '../../../shared/signing/canonical.ts';
import { SealedKeyReportSigner } from '../../../shared/signing/sealed-key-signer.ts';
import type { Jwks } from '../../../shared/signing/verify.ts';
import { FAST_SCRYPT, MemorySignerKeyStore, PIN, seededRandom } from '../signing/support.ts';
import { sampleContent, testFont } from './support.ts';

type Sealed = Awaited<ReturnType<typeof sealReport>>;

describe('signed report + PDF: tampering is detected', () => {
  const renderer = new PdfReportRenderer({ font: () => testFont() });
  const signer = new SealedKeyReportSigner(new MemorySignerKeyStore(), { scrypt: FAST_SCRYPT });
  const ports = { signer, renderer };
  let jwks: Jwks;
  let a: Sealed;
  let b: Sealed;

  beforeAll(async () => {
    await signer.enrol('ecg-reader', PIN);
    await signer.enrol('rad-reader', PIN);
    jwks = (await signer.jwks()) as unknown as Jwks;
    a = await sealReport(ports, canonicalBytes, 'ecg-reader', PIN, sampleContent('ecg', { caseId: 'case-AAAAAAAA' }));
    b = await sealReport(ports, canonicalBytes, 'rad-reader', PIN, sampleContent('xray', { caseId: 'case-BBBBBBBB', signer: { id: 'rad-reader', name: '影像医师 王静', licenceNumber: 'DEMO-2', institution: '县医院' } }));
  });

  const files = (s: Sealed) => ({ reportJson: new TextDecoder().decode(s.canonical), jws: s.jws, jwks, pdfBytes: s.pdf });

  it('the untouched report, its content signature, its PDF and its printed code verify', async () => {
    const r = await verifySignedReportFiles({ ...files(a), code: a.verificationCode });
    expect(r).toMatchObject({ ok: true, pdfChecked: true, verificationCode: a.verificationCode });
    expect(a.verificationCode).toBe(verificationCode('case-AAAAAAAA', 1, a.report.contentSignature));
    // The PDF shows the code (content signature prefix) and the report binds the PDF's hash.
    expect(a.report.pdfSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('1,000 random single-bit flips across report JSON and PDF: 100 % detected', async () => {
    const rnd = seededRandom(7);
    const json = a.canonical;
    let detected = 0;
    const missed: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const inJson = i % 2 === 0;
      const target = new Uint8Array(inJson ? json : a.pdf);
      const at = Math.floor(rnd() * target.length);
      const bit = Math.floor(rnd() * 8);
      target[at]! ^= 1 << bit;
      const r = await verifySignedReportFiles({
        reportJson: new TextDecoder().decode(inJson ? target : json),
        jws: a.jws,
        jwks,
        pdfBytes: inJson ? a.pdf : target,
      });
      if (!r.ok) detected++;
      else missed.push(`${inJson ? 'json' : 'pdf'}@${at} bit ${bit}`);
    }
    expect(missed).toEqual([]);
    expect(detected).toBe(1000);
  });

  it('swapping the reports of two cases is detected', async () => {
    // A's report with B's signature, PDF or printed code: each fails.
    expect((await verifySignedReportFiles({ ...files(a), jws: b.jws })).ok).toBe(false);
    const pdfSwap = await verifySignedReportFiles({ ...files(a), pdfBytes: b.pdf });
    expect(pdfSwap).toMatchObject({ ok: false, code: 'VERIFY.PDF_MISMATCH' });
    expect(await verifySignedReportFiles({ ...files(a), code: b.verificationCode })).toMatchObject({ ok: false, code: 'VERIFY.CODE_MISMATCH' });
    // Grafting A's content signature into B's report (re-signed envelope impossible without B's key): fails.
    const grafted = { ...b.report, contentSignature: a.report.contentSignature };
    expect((await verifySignedReport({ report: grafted, jws: b.jws, jwks })).ok).toBe(false);
    // A complete, valid report of another case verifies, but names its own case: the caller compares.
    const whole = await verifySignedReportFiles(files(b));
    expect(whole.ok && whole.report.caseId).toBe('case-BBBBBBBB');
  });

  it('a report signed by a key that is not in the JWKS is rejected', async () => {
    const rogue = new SealedKeyReportSigner(new MemorySignerKeyStore(), { scrypt: FAST_SCRYPT });
    await rogue.enrol('ecg-reader', PIN); // same signer id, a key the server never published
    const forged = await sealReport({ signer: rogue, renderer }, canonicalBytes, 'ecg-reader', PIN, sampleContent('ecg', { caseId: 'case-AAAAAAAA' }));
    const r = await verifySignedReportFiles(files(forged));
    expect(r).toMatchObject({ ok: false, code: 'VERIFY.UNKNOWN_KEY' });
    // The rogue key presented under a published kid does not verify either.
    const [h, , s] = forged.jws.split('.');
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>;
    const lying = `${Buffer.from(JSON.stringify({ ...header, kid: (jwks.keys[0] as { kid: string }).kid })).toString('base64url')}..${s}`;
    expect(await verifySignedReportFiles({ ...files(forged), jws: lying })).toMatchObject({ ok: false, code: 'VERIFY.BAD_SIGNATURE' });
  });

  it('a content signature by another published key is rejected', async () => {
    // B's signer re-seals A's content under their own key: the envelope and content keys must match.
    const content = contentOf(a.report as unknown as Record<string, unknown>);
    const other = await signer.signDetached('rad-reader', PIN, canonicalBytes(content));
    const report = { ...a.report, contentSignature: other.jws };
    const { jws } = await signer.signDetached('ecg-reader', PIN, canonicalBytes(report));
    expect(await verifySignedReport({ report, jws, jwks })).toMatchObject({ ok: false, code: 'VERIFY.CONTENT_SIGNATURE' });
  });

  it('an amended report verifies and points to the version it supersedes', async () => {
    const v2 = await sealReport(
      ports,
      canonicalBytes,
      'ecg-reader',
      PIN,
      sampleContent('ecg', {
        caseId: 'case-AAAAAAAA',
        version: 2,
        supersedes: 1,
        impression: '窦性心律，偶发房性早搏',
        amendment: { kind: 'correction', reason: '复核后补充房性早搏' },
        signedAt: '2026-11-23T02:00:00.000Z',
      }),
    );
    const r = await verifySignedReportFiles(files(v2));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.report).toMatchObject({ version: 2, supersedes: 1, amendment: { kind: 'correction', reason: '复核后补充房性早搏' } });
    // Version 1 still verifies unchanged beside it.
    expect((await verifySignedReportFiles(files(a))).ok).toBe(true);
  });
});
