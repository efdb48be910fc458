/**
 * Runs the openssl-only verification recipe of docs/VERIFY.md exactly as written (the fenced bash
 * blocks between the openssl-recipe markers), so the documentation cannot drift from what works.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../../shared/signing/canonical.ts';
import { SealedKeyReportSigner } from '../../../shared/signing/sealed-key-signer.ts';
import { FAST_SCRYPT, MemorySignerKeyStore, PIN, sampleReport } from './support.ts';

const DOC = new URL('../../../docs/VERIFY.md', import.meta.url);
const README = new URL('../../../README.md', import.meta.url);

function recipe(doc: URL = DOC): string {
  const md = readFileSync(doc, 'utf8');
  const section = /<!-- openssl-recipe:begin -->([\s\S]*?)<!-- openssl-recipe:end -->/.exec(md)?.[1];
  if (!section) throw new Error(`${doc.pathname} has no openssl-recipe section`);
  const blocks = [...section.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  if (blocks.length < 4) throw new Error(`${doc.pathname} openssl recipe lost its bash blocks`);
  return blocks.join('\n');
}

it('the README shows the same openssl recipe that is run here', () => {
  expect(recipe(README)).toBe(recipe(DOC));
});

for (const tool of ['openssl', 'jq', 'od', 'bash']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    throw new Error(`The openssl recipe test needs "${tool}" on PATH (Debian: apt-get install openssl jq).`);
  }
}

describe('docs/VERIFY.md openssl recipe', () => {
  let dir: string;
  const script = recipe();
  const run = (files: Record<string, string | Uint8Array>) => {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    return spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, encoding: 'utf8' });
  };
  let good: { 'report.json': Uint8Array; 'report.jws': string; 'jwks.json': string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'teleread-openssl-'));
    const signer = new SealedKeyReportSigner(new MemorySignerKeyStore(), { scrypt: FAST_SCRYPT });
    await signer.enrol('someone-else', PIN); // the JWKS holds more than the signer's key
    await signer.enrol('ecg-reader', PIN);
    const canonical = canonicalBytes(sampleReport());
    const { jws } = await signer.signDetached('ecg-reader', PIN, canonical);
    good = { 'report.json': canonical, 'report.jws': `${jws}\n`, 'jwks.json': JSON.stringify(await signer.jwks(), null, 2) };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies a TeleRead signature with openssl alone', () => {
    const r = run(good);
    expect(r.stderr + r.stdout).toContain('Verified OK');
    expect(r.status).toBe(0);
  });

  it('fails on a report changed by one byte', () => {
    const changed = Buffer.from(good['report.json']);
    const at = changed.indexOf('"critical":false') + '"critical":'.length;
    changed.write('faLse', at); // same length, different bytes
    const r = run({ ...good, 'report.json': changed });
    expect(r.stdout + r.stderr).toContain('Verification failure');
    expect(r.status).not.toBe(0);
  });

  it('verifies signatures whose r or s has the high bit set or starts with a zero byte', async () => {
    const signer = new SealedKeyReportSigner(new MemorySignerKeyStore(), { scrypt: FAST_SCRYPT });
    await signer.enrol('r', PIN);
    const jwks = JSON.stringify(await signer.jwks());
    const wanted = new Map<string, { canonical: Uint8Array; jws: string }>();
    for (let v = 1; v < 5000 && wanted.size < 3; v++) {
      const canonical = canonicalBytes(sampleReport({ version: v }));
      const { jws } = await signer.signDetached('r', PIN, canonical);
      const sig = Buffer.from(jws.split('.')[2]!, 'base64url');
      const kind = sig[0] === 0 || sig[32] === 0 ? 'leading zero' : sig[0]! >= 0x80 && sig[32]! >= 0x80 ? 'both high' : sig[0]! < 0x80 && sig[32]! < 0x80 ? 'both low' : null;
      if (kind && !wanted.has(kind)) wanted.set(kind, { canonical, jws });
    }
    expect([...wanted.keys()].sort()).toEqual(['both high', 'both low', 'leading zero']);
    for (const [kind, { canonical, jws }] of wanted) {
      const r = run({ 'report.json': canonical, 'report.jws': jws, 'jwks.json': jwks });
      expect(r.status, `${kind}: ${r.stderr}`).toBe(0);
    }
  });
});
