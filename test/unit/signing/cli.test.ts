import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../../shared/signing/canonical.ts';
import { SealedKeyReportSigner } from '../../../shared/signing/sealed-key-signer.ts';
import { FAST_SCRYPT, MemorySignerKeyStore, PIN, sampleReport } from './support.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'teleread.mjs');

/** Spawns `node bin/teleread.mjs …` from a directory outside the repository. */
function teleread(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('teleread CLI (node bin/teleread.mjs)', () => {
  let dir: string;
  let kid: string;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'teleread-cli-'));
    const pdf = Buffer.from('%PDF-1.7\n% stand-in\n');
    const report = sampleReport({ pdfSha256: createHash('sha256').update(pdf).digest('hex') });
    const signer = new SealedKeyReportSigner(new MemorySignerKeyStore(), { scrypt: FAST_SCRYPT });
    await signer.enrol('ecg-reader', PIN);
    const signed = await signer.signDetached('ecg-reader', PIN, canonicalBytes(report));
    kid = signed.kid;
    const jwks = await signer.jwks();
    writeFileSync(join(dir, 'report.json'), JSON.stringify(report, null, 2)); // pretty-printed on purpose
    writeFileSync(join(dir, 'report.jws'), `${signed.jws}\n`);
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify(jwks));
    writeFileSync(join(dir, 'report.pdf'), pdf);
    writeFileSync(join(dir, 'other.pdf'), Buffer.concat([pdf, Buffer.from('x')]));
    writeFileSync(join(dir, 'changed.json'), JSON.stringify({ ...report, impression: 'Atrial fibrillation' }));
    writeFileSync(join(dir, 'empty-jwks.json'), '{"keys":[]}');

    server = createServer((req, res) => {
      if (req.url === '/api/keys') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 and prints VALID for a good report, with --keys and with --pdf', async () => {
    const r = await teleread(['verify', 'report.json', 'report.jws', '--keys', 'jwks.json', '--pdf', 'report.pdf'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^VALID report \\(case case-0001 version 1\\) signed by kid ${kid}`));
    expect(r.stdout).toContain('PDF matches');
  });

  it('fetches the keys from a server with --url', async () => {
    const r = await teleread(['verify', 'report.json', 'report.jws', '--url', url], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`signed by kid ${kid}`);
  });

  it.each([
    [['changed.json', 'report.jws', '--keys', 'jwks.json'], 'VERIFY.BAD_SIGNATURE'],
    [['report.json', 'report.jws', '--keys', 'empty-jwks.json'], 'VERIFY.UNKNOWN_KEY'],
    [['report.json', 'report.jws', '--keys', 'jwks.json', '--pdf', 'other.pdf'], 'VERIFY.PDF_MISMATCH'],
  ])('exits 1 with the code and the reason: %j', async (args, code) => {
    const r = await teleread(['verify', ...args], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^INVALID ${code.replace('.', '\\.')}: \\S`));
  });

  it.each([
    [['verify', 'report.json', 'report.jws']],
    [['verify', 'report.json', 'report.jws', '--keys', 'jwks.json', '--url', 'http://x']],
    [['verify', 'missing.json', 'report.jws', '--keys', 'jwks.json']],
    [['verify', 'report.json', '--keys', 'jwks.json']],
    [['verify', 'report.json', 'report.jws', '--keys', 'jwks.json', '--bogus']],
    [['frobnicate']],
    [[]],
  ])('exits 2 on a usage or input error: %j', async (args) => {
    const r = await teleread(args, dir);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).not.toMatch(/at .*\.ts:\d+/); // no stack traces
  });

  it('canonical writes the canonical bytes the signature covers', async () => {
    const r = await teleread(['canonical', 'report.json'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd()).toBe(new TextDecoder().decode(canonicalBytes(JSON.parse(JSON.stringify(sampleReport({ pdfSha256: createHash('sha256').update(Buffer.from('%PDF-1.7\n% stand-in\n')).digest('hex') }))))));
  });
});
