/**
 * Acceptance 3 of issue 7: docs/VERIFY.md's openssl-only recipe (steps 1–5: the report signature;
 * steps 6–8: the PDF hash, the content signature, the printed verification code) run exactly as
 * written on a real signed report and its PDF.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealReport } from '../../../shared/application/reports.ts';
import { PdfReportRenderer } from '../../../shared/reports/pdf.ts';
import { canonicalBytes } from '../../../shared/signing/canonical.ts';
import { SealedKeyReportSigner } from '../../../shared/signing/sealed-key-signer.ts';
import { FAST_SCRYPT, MemorySignerKeyStore, PIN } from '../signing/support.ts';
import { sampleContent, testFont } from './support.ts';

const DOC = new URL('../../../docs/VERIFY.md', import.meta.url);

function blocks(marker: string): string[] {
  const md = readFileSync(DOC, 'utf8');
  const section = new RegExp(`<!-- ${marker}:begin -->([\\s\\S]*?)<!-- ${marker}:end -->`).exec(md)?.[1];
  if (!section) throw new Error(`docs/VERIFY.md has no ${marker} section`);
  return [...section.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe('docs/VERIFY.md openssl recipe on a signed report with its PDF', () => {
  let dir: string;
  const script = [...blocks('openssl-recipe'), ...blocks('openssl-report-recipe')].join('\n');
  let good: Record<string, string | Uint8Array>;
  let code: string;

  const run = (files: Record<string, string | Uint8Array>) => {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    return spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, encoding: 'utf8' });
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'teleread-openssl-pdf-'));
    const signer = new SealedKeyReportSigner(new MemorySignerKeyStore(), { scrypt: FAST_SCRYPT });
    await signer.enrol('rad-reader', PIN);
    await signer.enrol('ecg-reader', PIN);
    const content = sampleContent('ultrasound', { findings: '胆囊结石，"强回声" \\ 后伴声影\n随体位移动', advisoryMeasurements: { x: 1e-7, y: 412.5 } });
    const sealed = await sealReport({ signer, renderer: new PdfReportRenderer({ font: () => testFont() }) }, canonicalBytes, 'ecg-reader', PIN, content);
    good = { 'report.json': sealed.canonical, 'report.jws': `${sealed.jws}\n`, 'jwks.json': JSON.stringify(await signer.jwks(), null, 2), 'report.pdf': sealed.pdf };
    code = sealed.verificationCode;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies the report signature, the PDF, the content signature and prints the code on the PDF', () => {
    expect(blocks('openssl-report-recipe').length).toBe(3);
    const r = run(good);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/Verified OK/g)?.length).toBe(2);
    expect(r.stdout).toContain('PDF matches');
    expect(r.stdout).toContain(`verification code: ${code}`);
  });

  it('fails on a PDF changed by one bit', () => {
    const pdf = Buffer.from(good['report.pdf'] as Uint8Array);
    pdf[pdf.length >> 1]! ^= 1;
    const r = run({ ...good, 'report.pdf': pdf });
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toContain('PDF matches');
  });

  it('fails when the content signature was swapped for another one of the same key', async () => {
    const doc = JSON.parse(Buffer.from(good['report.json'] as Uint8Array).toString()) as Record<string, string>;
    const parts = doc.contentSignature!.split('.');
    const sig = Buffer.from(parts[2]!, 'base64url');
    sig[5]! ^= 1;
    const changed = Buffer.from(Buffer.from(good['report.json'] as Uint8Array).toString().replace(doc.contentSignature!, `${parts[0]}..${sig.toString('base64url')}`));
    // Steps 1–5 fail first (the report signature covers the content signature).
    const r = run({ ...good, 'report.json': changed });
    expect(r.status).not.toBe(0);
  });
});
