/**
 * The `teleread gateway` command: options from the command line or a file (validated once), the rule
 * file, the patient mapping, the backoff; and the real command as a child process (SIGTERM stops it).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../../gateway/config.ts';
import { decide, loadRules, RuleFileSchema } from '../../gateway/rules.ts';
import { patientFor, retryDelayMs, Sender, type SenderDeps } from '../../gateway/sender.ts';
import { TeleReadClient, TeleReadError } from '../../gateway/teleread-client.ts';
import { main } from '../../local/cli.ts';
import type { StudyMetadata } from '../../shared/contracts/study.ts';
import { CONSENT, echoscu, tempDir } from './gateway-support.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('gateway options', () => {
  it('reads the command line of the issue, with the documented defaults', async () => {
    const c = await loadGatewayConfig(['--port', '11112', '--aet', 'TELEREAD', '--api', 'http://127.0.0.1:8080', '--username', 'tech-a', '--password', 'pw', '--spool', 'spool-dir']);
    expect(c).toMatchObject({ port: 11112, aet: 'TELEREAD', api: 'http://127.0.0.1:8080', username: 'tech-a', password: 'pw', stableSeconds: 10 });
    expect(c.spool).toBe(resolve('spool-dir'));
    expect(c.modalities).toEqual(expect.arrayContaining(['ECG', 'CR', 'DX', 'US']));
  });

  it('reads a config file (paths relative to it); the command line wins; the environment password is a fallback', async () => {
    const dir = tempDir('gw-cfg-');
    const file = join(dir, 'gateway.json');
    writeFileSync(file, JSON.stringify({ port: 104, aet: 'TOWNSHIP', api: 'https://teleread.example', username: 'tech-b', spool: 'spool', rules: 'rules.json', stableSeconds: 30 }));
    const c = await loadGatewayConfig(['--config', file, '--stable-seconds', '5'], 'from-env');
    expect(c).toMatchObject({ port: 104, aet: 'TOWNSHIP', username: 'tech-b', password: 'from-env', stableSeconds: 5, spool: join(dir, 'spool'), rules: join(dir, 'rules.json') });
    const explicit = await loadGatewayConfig(['--config', file, '--password', 'flag'], 'from-env');
    expect(explicit.password).toBe('flag');
  });

  it('says what is wrong: missing or invalid settings, unknown keys, unreadable files', async () => {
    await expect(loadGatewayConfig(['--username', 'tech-a', '--password', 'x', '--spool', 's'])).rejects.toThrow(/api: is required/);
    await expect(loadGatewayConfig(['--api', 'ftp://x', '--username', 'u', '--password', 'p', '--spool', 's'])).rejects.toThrow(/http/);
    await expect(loadGatewayConfig(['--api', 'http://x', '--username', 'u', '--password', 'p', '--spool', 's', '--aet', 'A'.repeat(17)])).rejects.toThrow(/aet/);
    await expect(loadGatewayConfig(['--api', 'http://x', '--username', 'u', '--spool', 's'])).rejects.toThrow(/password/);
    const dir = tempDir('gw-cfg-');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ api: 'http://x', colour: 'blue' }));
    await expect(loadGatewayConfig(['--config', join(dir, 'bad.json')])).rejects.toThrow(/unknown setting\(s\) colour/);
    await expect(loadGatewayConfig(['--config', join(dir, 'missing.json')])).rejects.toThrow(/Cannot read the config file/);
  });
});

describe('the rule file', () => {
  const file = RuleFileSchema.parse({
    consent: CONSENT,
    rules: [
      { match: { callingAeTitle: 'ECG-CART-1' }, priority: 'stat', clinicalNote: 'Chest pain pathway' },
      { match: { Modality: ['cr', 'DX'], BodyPartExamined: 'chest' }, priority: 'urgent' },
      { match: { Modality: 'US' }, consent: { obtained: true, recordedBy: 'US desk' } },
    ],
  });

  it('first match wins, case-insensitive; no match is routine; consent falls back to the file’s', () => {
    expect(decide(file, { callingAeTitle: 'ecg-cart-1', Modality: 'ECG' })).toMatchObject({ priority: 'stat', clinicalNote: 'Chest pain pathway', rule: 0, consent: CONSENT });
    expect(decide(file, { callingAeTitle: 'DR-1', Modality: 'DX', BodyPartExamined: 'CHEST' })).toMatchObject({ priority: 'urgent', rule: 1 });
    expect(decide(file, { callingAeTitle: 'DR-1', Modality: 'DX', BodyPartExamined: 'HAND' })).toMatchObject({ priority: 'routine', rule: null });
    expect(decide(file, { callingAeTitle: 'US-1', Modality: 'US' }).consent).toEqual({ obtained: true, recordedBy: 'US desk' });
    expect(decide(RuleFileSchema.parse({ rules: [] }), { callingAeTitle: 'X', Modality: 'CR' })).toMatchObject({ priority: 'routine', consent: null });
  });

  it('refuses a rule file that would invent or mistype things', async () => {
    const dir = tempDir('gw-rules-');
    const bad = join(dir, 'rules.json');
    writeFileSync(bad, JSON.stringify({ consent: { obtained: false } }));
    await expect(loadRules(bad)).rejects.toThrow(/consent\.obtained must be true/);
    writeFileSync(bad, JSON.stringify({ rules: [{ match: { modality: 'CR' } }] }));
    await expect(loadRules(bad)).rejects.toThrow(/invalid/);
    writeFileSync(bad, '{');
    await expect(loadRules(bad)).rejects.toThrow(/not valid JSON/);
    expect(await loadRules(undefined)).toEqual({ rules: [] });
  });
});

describe('sender details', () => {
  it('backs off exponentially with jitter, capped', () => {
    const o = { retryBaseMs: 1000, retryMaxMs: 60_000 };
    expect(retryDelayMs(1, o, () => 0)).toBe(500);
    expect(retryDelayMs(1, o, () => 1)).toBe(1000);
    expect(retryDelayMs(4, o, () => 1)).toBe(8000);
    expect(retryDelayMs(50, o, () => 1)).toBe(60_000);
    expect(retryDelayMs(50, o, () => 0)).toBe(30_000);
  });

  it('signs in again once on a 401 (expired token), and says which answers a retry cannot change', async () => {
    const calls: string[] = [];
    let logins = 0;
    const fake = (async (url: URL, init: RequestInit) => {
      const auth = (init.headers as Record<string, string>).authorization ?? '-';
      calls.push(`${init.method} ${url.pathname} ${auth}`);
      const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
      if (url.pathname === '/api/auth/login') return json(200, { token: `t${++logins}` });
      if (auth === 'Bearer t1') return json(401, { error: { code: 'AUTH.TOKEN_EXPIRED', message: 'Sign in again.' } });
      if (url.pathname === '/api/cases/case-x') return json(404, { error: { code: 'CASE.NOT_FOUND', message: 'There is no such case.' } });
      return json(201, { submissionId: 'sub-x', caseId: 'case-x', uploads: [], status: 'QUEUED' });
    }) as unknown as typeof fetch;
    const c = new TeleReadClient('http://teleread.test', 'tech-a', 'pw', fake);
    const body = { patient: { id: 'P1', name: 'A' }, consent: { obtained: true as const }, priority: 'routine' as const, files: [{ name: 'a', size: 1 }] };
    await expect(c.createSubmission(body)).resolves.toMatchObject({ caseId: 'case-x', status: 'QUEUED' });
    expect(calls).toEqual(['POST /api/auth/login -', 'POST /api/submissions Bearer t1', 'POST /api/auth/login -', 'POST /api/submissions Bearer t2']);
    const e = await c.getCase('case-x').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TeleReadError);
    expect(e).toMatchObject({ status: 404, code: 'CASE.NOT_FOUND', retryable: false });
    const down = new TeleReadClient('http://127.0.0.1:9', 'tech-a', 'pw');
    await expect(down.login()).rejects.toMatchObject({ retryable: true, message: expect.stringMatching(/unreachable/) });
  });

  it('after a refused password it does not sign in again for 5 minutes (or the Retry-After of a lock), so a spool full of studies cannot keep the account locked', async () => {
    const logins: string[] = [];
    let answer = 401;
    const fake = (async (url: URL) => {
      logins.push(url.pathname);
      if (answer === 401) return new Response(JSON.stringify({ error: { code: 'AUTH.BAD_CREDENTIALS', message: 'Wrong username or password.' } }), { status: 401 });
      return new Response(JSON.stringify({ error: { code: 'AUTH.LOCKED', message: 'Too many failed sign-ins.' } }), { status: 429, headers: { 'retry-after': '1' } });
    }) as unknown as typeof fetch;
    const c = new TeleReadClient('http://teleread.test', 'tech-a', 'old-password', fake);
    await expect(c.login()).rejects.toMatchObject({ status: 401, code: 'AUTH.BAD_CREDENTIALS', retryable: true });
    for (let i = 0; i < 5; i++) await expect(c.login()).rejects.toMatchObject({ code: 'AUTH.BAD_CREDENTIALS', message: expect.stringMatching(/not signing in again for \d+ s \(check the gateway's username and password\)/) });
    expect(logins).toHaveLength(1);
    // Senders needing a sign-in at the same moment share one request.
    const fresh = new TeleReadClient('http://teleread.test', 'tech-a', 'old-password', fake);
    await Promise.all([fresh.login(), fresh.login(), fresh.login()].map((p) => p.catch(() => undefined)));
    expect(logins).toHaveLength(2);
    logins.pop();

    answer = 429;
    const locked = new TeleReadClient('http://teleread.test', 'tech-a', 'pw', fake);
    await expect(locked.login()).rejects.toMatchObject({ status: 429, code: 'AUTH.LOCKED' });
    await expect(locked.login()).rejects.toMatchObject({ code: 'AUTH.LOCKED' });
    expect(logins).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 1100)); // the lock's Retry-After (1 s) has passed
    await expect(locked.login()).rejects.toMatchObject({ status: 429 });
    expect(logins).toHaveLength(3);
  });

  it('a TeleRead without password sign-in (identity provider) is said so plainly, and not asked again every few seconds', async () => {
    const logins: string[] = [];
    const fake = (async (url: URL) => {
      logins.push(url.pathname);
      return new Response(JSON.stringify({ error: { code: 'ROUTE.NOT_FOUND', message: 'No route POST /api/auth/login.' } }), { status: 404 });
    }) as unknown as typeof fetch;
    const c = new TeleReadClient('http://teleread.test', 'tech-a', 'pw', fake);
    await expect(c.login()).rejects.toMatchObject({ status: 404, code: 'AUTH.NO_PASSWORD_SIGN_IN', message: expect.stringMatching(/no password sign-in/) });
    await expect(c.login()).rejects.toMatchObject({ code: 'AUTH.NO_PASSWORD_SIGN_IN', message: expect.stringMatching(/not signing in again for \d+ s/) });
    expect(logins).toEqual(['/api/auth/login']);
    // On AWS the JWT authorizer answers first, with its own body.
    const aws = new TeleReadClient('http://teleread.test', 'tech-a', 'pw', (async () =>
      new Response(JSON.stringify({ message: 'Unauthorized' }), { status: 401 })) as unknown as typeof fetch);
    await expect(aws.login()).rejects.toMatchObject({ code: 'AUTH.NO_PASSWORD_SIGN_IN' });
  });

  it('a send pass that fails (the spool disk full) is logged and retried, never an unhandled rejection', async () => {
    const errors: string[] = [];
    let calls = 0;
    const spool = {
      async sealStable() {
        calls++;
        throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      },
    };
    const deps = {
      spool,
      log: { info() {}, warn() {}, error: (msg: string, f?: Record<string, unknown>) => errors.push(`${msg} ${String(f?.['error'])}`) },
      now: () => new Date(),
      random: () => 0.5,
    } as unknown as SenderDeps;
    const sender = new Sender(deps, { stableMs: 10, retryBaseMs: 10, retryMaxMs: 100, confirmTimeoutMs: 100, concurrency: 1 });
    await expect(sender.tick()).resolves.toBeUndefined();
    await expect(sender.tick()).resolves.toBeUndefined();
    expect(calls).toBe(2);
    expect(errors).toEqual(['send pass failed; retrying at the next tick ENOSPC', 'send pass failed; retrying at the next tick ENOSPC']);
  });

  it('maps the DICOM patient, and marks a missing identity instead of inventing one', () => {
    const base = { study: { StudyInstanceUID: '1.2' } } as unknown as StudyMetadata;
    const full = patientFor({ ...base, patient: { id: ' P123 ', name: 'Wang^Fang', sex: 'F', birthDate: '19700102' } }, 'abcdef0123456789');
    expect(full).toEqual({ patient: { id: 'P123', name: 'Wang^Fang', sex: 'F', birthDate: '1970-01-02' }, missing: [] });
    const none = patientFor({ ...base, patient: { sex: 'X', birthDate: '1970' } }, 'abcdef0123456789');
    expect(none.missing).toEqual(['PatientID', 'PatientName']);
    expect(none.patient).toEqual({ id: 'UNIDENTIFIED-ABCDEF012345', name: 'UNIDENTIFIED (no PatientName in the DICOM header)' });
  });
});

describe('the command', () => {
  it('`teleread gateway` without its settings is a usage error (exit 2)', async () => {
    const err: string[] = [];
    expect(await main(['gateway', '--port', '11112'], { out: () => undefined, err: (l) => err.push(l), fetch })).toBe(2);
    expect(err.join('\n')).toMatch(/api: is required[\s\S]*Usage: teleread gateway/);
  });

  it('runs as a child process from a config file, answers C-ECHO and stops cleanly on SIGTERM', async () => {
    const dir = tempDir('gw-cli-');
    const cfg = join(dir, 'gateway.json');
    writeFileSync(cfg, JSON.stringify({ port: 0, aet: 'TELEREAD', api: 'http://127.0.0.1:9', username: 'tech-a', spool: 'spool' }));
    const child = spawn(process.execPath, [join(ROOT, 'bin/teleread.mjs'), 'gateway', '--config', cfg], {
      env: { ...process.env, TELEREAD_GATEWAY_PASSWORD: 'secret-from-env' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const port = await new Promise<number>((res, rej) => {
      const t = setInterval(() => {
        const m = /"msg":"gateway listening","port":(\d+)/.exec(out);
        if (m) {
          clearInterval(t);
          res(Number(m[1]));
        }
      }, 50);
      void exited.then((c) => rej(new Error(`gateway exited ${c}: ${out}`)));
    });
    const echo = await echoscu(port);
    expect(echo.code, echo.output).toBe(0);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('"msg":"gateway stopped"');
    expect(out).not.toContain('secret-from-env');
  });
});
