/** `teleread font extract` and `teleread verify --code` (issue 7). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fontkit from 'fontkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../local/cli.ts';
import { sealReport } from '../../../shared/application/reports.ts';
import { CJK_FACE } from '../../../shared/reports/font.ts';
import { PdfReportRenderer } from '../../../shared/reports/pdf.ts';
import { canonicalBytes } from '../../../shared/signing/canonical.ts';
import { SealedKeyReportSigner } from '../../../shared/signing/sealed-key-signer.ts';
import { FAST_SCRYPT, MemorySignerKeyStore, PIN } from '../signing/support.ts';
import { sampleContent, testFont } from './support.ts';

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), fetch });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('teleread font / verify --code', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'teleread-cli-reports-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('font extract writes the standalone SC face, refuses to overwrite, and reports a missing collection', async () => {
    const out = join(dir, 'face.otf');
    const r = await cli(['font', 'extract', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const f = fontkit.create(new Uint8Array(readFileSync(out)));
    expect('postscriptName' in f && f.postscriptName).toBe(CJK_FACE);
    expect((await cli(['font', 'extract', '--out', out])).code).toBe(2);
    const missing = await cli(['font', 'extract', '--out', join(dir, 'x.otf'), '--from', join(dir, 'nope.ttc')]);
    expect(missing.code).toBe(2);
    expect((await cli(['font', 'nonsense'])).code).toBe(2);
  });

  it('verify --code accepts the code printed on the PDF and refuses another', async () => {
    const signer = new SealedKeyReportSigner(new MemorySignerKeyStore(), { scrypt: FAST_SCRYPT });
    await signer.enrol('ecg-reader', PIN);
    const s = await sealReport({ signer, renderer: new PdfReportRenderer({ font: () => testFont() }) }, canonicalBytes, 'ecg-reader', PIN, sampleContent('xray'));
    writeFileSync(join(dir, 'r.json'), s.canonical);
    writeFileSync(join(dir, 'r.jws'), s.jws);
    writeFileSync(join(dir, 'r.pdf'), s.pdf);
    writeFileSync(join(dir, 'k.json'), JSON.stringify(await signer.jwks()));
    const base = ['verify', join(dir, 'r.json'), join(dir, 'r.jws'), '--pdf', join(dir, 'r.pdf'), '--keys', join(dir, 'k.json')];
    const ok = await cli([...base, '--code', s.verificationCode]);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain(`verification code ${s.verificationCode}`);
    const wrong = s.verificationCode.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const bad = await cli([...base, '--code', wrong]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('VERIFY.CODE_MISMATCH');
  });
});
