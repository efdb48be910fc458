/**
 * Administering a consortium on one machine with `teleread`: a new reader added to consortium.json gets
 * a password (`teleread password`) and a signing key (`teleread signer enrol`) and then signs a report;
 * a reader locked out by wrong PINs gets a new key (`teleread signer rotate`) beside the running server
 * and signs with it at once. Secrets never reach the audit log; every refusal changes nothing.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_PIN_POLICY } from '../../shared/domain/attempts.ts';
import { syntheticEcg } from '../../shared/synth/studies.ts';
import { main } from '../../local/cli.ts';
import { readConsortiumFile, writeConsortiumFile } from '../../local/consortium-file.ts';
import { Api, DEMO_PIN, startTestServer, type TestServer } from '../support/local-server.ts';

const ENV = { TELEREAD_SCRYPT_LOG_N: '12' };

/** Runs `teleread …` in-process with scripted answers; records what was asked and printed. */
async function teleread(args: string[], answers: string[] = [], env: Record<string, string> = ENV) {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  const code = await main(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    fetch,
    env,
    operator: 'cli:test-admin',
    ask: async (q) => {
      asked.push(q);
      const a = answers.shift();
      if (a === undefined) throw new Error(`unexpected question ${q}`);
      return a;
    },
  });
  return { code, out: out.join('\n'), err: err.join('\n'), asked };
}

/** The key id in a detached JWS's protected header. */
const kidOf = (jws: string): string => (JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;

function auditRows(dataDir: string): { actor: string; action: string; detail: string | null }[] {
  const db = new Database(join(dataDir, 'teleread.db'), { readonly: true });
  try {
    return db.prepare('SELECT actor, action, detail FROM audit_log ORDER BY seq').all() as { actor: string; action: string; detail: string | null }[];
  } finally {
    db.close();
  }
}

async function signOne(srv: TestServer, reader: Api, seed: number, pin: string) {
  const tech = await Api.login(srv.url, 'tech-a');
  const sub = await tech.submit([{ name: 'ecg.dcm', bytes: syntheticEcg({ seed }).bytes }]);
  await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
  const next = await reader.call('POST', '/api/reads/next', {});
  expect(next.status, next.text).toBe(200);
  expect(next.json.case.caseId).toBe(sub.caseId);
  expect((await reader.call('PUT', `/api/cases/${sub.caseId}/report`, { findings: '窦性心律。', impression: '正常心电图' })).status).toBe(200);
  return { caseId: sub.caseId, sign: (p = pin) => reader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: p }) };
}

describe('teleread password and teleread signer on one machine', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'teleread-admin-'));
  const consortiumFile = join(dataDir, 'consortium.json');

  beforeAll(async () => {
    // A first start makes the database and the demo consortium.
    await (await startTestServer({ dataDir })).close();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('a reader added to consortium.json gets a password and a signing key, then signs', async () => {
    const { consortium: c, raw } = await readConsortiumFile(consortiumFile);
    // An operator's note and a field this version does not know must survive the rewrite.
    await writeConsortiumFile(consortiumFile, {
      ...raw,
      _note: '县医院 IT 科 维护',
      users: [...c.users, { id: 'ecg-reader-2', username: 'dr-wang', displayName: '王医生', role: 'reader', pools: ['ecg'], passwordHash: '!not-set', phone: 'ext. 2041' }],
    });
    const before = JSON.parse(readFileSync(consortiumFile, 'utf8'));

    const pw = await teleread(['password', 'ecg-reader-2', '--data-dir', dataDir], ['correct horse battery', 'correct horse battery']);
    expect(pw, pw.err).toMatchObject({ code: 0 });
    expect(pw.out).toContain('applies when TeleRead next starts');
    const after = JSON.parse(readFileSync(consortiumFile, 'utf8'));
    const hash = after.users.find((u: { id: string }) => u.id === 'ecg-reader-2').passwordHash;
    expect(hash).toMatch(/^\$argon2id\$/);
    // Only that hash changed: every other key, known or not, is as it was, in the same order.
    before.users.find((u: { id: string }) => u.id === 'ecg-reader-2').passwordHash = hash;
    expect(readFileSync(consortiumFile, 'utf8')).toBe(`${JSON.stringify(before, null, 2)}\n`);
    expect(statSync(consortiumFile).mode & 0o777).toBe(0o600);

    const enrol = await teleread(['signer', 'enrol', 'ecg-reader-2', '--data-dir', dataDir], ['135792', '135792']);
    expect(enrol, enrol.err).toMatchObject({ code: 0 });
    const kid = /signing key (\S+)\./.exec(enrol.out)?.[1];
    expect(kid).toBeTruthy();

    const srv = await startTestServer({ dataDir });
    try {
      await expect(Api.login(srv.url, 'dr-wang')).rejects.toThrow();
      const reader = await Api.login(srv.url, 'dr-wang', 'correct horse battery');
      const { sign } = await signOne(srv, reader, 7301, '135792');
      const signed = await sign();
      expect(signed.status, signed.text).toBe(200);
      expect(kidOf(signed.json.jws)).toBe(kid);
      const keys = await reader.call('GET', '/api/keys');
      expect(keys.json.keys.map((k: { kid: string }) => k.kid)).toContain(kid);
    } finally {
      await srv.close();
    }

    const rows = auditRows(dataDir);
    expect(rows).toContainEqual({ actor: 'cli:test-admin', action: 'auth.password_set', detail: JSON.stringify({ userId: 'ecg-reader-2' }) });
    expect(rows).toContainEqual({ actor: 'cli:test-admin', action: 'signing.key_enrolled', detail: JSON.stringify({ kid, signerId: 'ecg-reader-2' }) });
    const all = JSON.stringify(rows);
    expect(all).not.toContain('135792');
    expect(all).not.toContain('correct horse');
  });

  it('rotate gives a locked-out reader a new key beside the running server: the new PIN signs at once, the old one no longer does', async () => {
    const srv = await startTestServer({ dataDir });
    try {
      const reader = await Api.login(srv.url, 'ecg-reader');
      const keysBefore = (await reader.call('GET', '/api/keys')).json.keys.length as number;
      const first = await signOne(srv, reader, 7302, DEMO_PIN);
      for (let i = 1; i < SIGNING_PIN_POLICY.maxFailures; i++) await first.sign('000000');
      const locked = await first.sign('000000');
      expect([locked.status, locked.json.error.code]).toEqual([429, 'SIGN.PIN_LOCKED']);
      const refused = await reader.call('POST', '/api/reads/next', {});
      expect([refused.status, refused.json.error.code]).toEqual([429, 'SIGN.PIN_LOCKED']);

      const rot = await teleread(['signer', 'rotate', 'ecg-reader', '--data-dir', dataDir], ['864209', '864209']);
      expect(rot, rot.err).toMatchObject({ code: 0 });
      expect(rot.asked[0]).toContain('ecg-reader');
      const newKid = /new key (\S+) /.exec(rot.out)?.[1];

      // The lock is lifted: the case (back in the queue at the lock) comes to the reader again.
      const next = await reader.call('POST', '/api/reads/next', {});
      expect(next.status, next.text).toBe(200);
      expect(next.json.case.caseId).toBe(first.caseId);
      const old = await first.sign(DEMO_PIN);
      expect([old.status, old.json.error.code]).toEqual([403, 'SIGN.BAD_PIN']);
      const ok = await first.sign('864209');
      expect(ok.status, ok.text).toBe(200);
      expect(kidOf(ok.json.jws)).toBe(newKid);
      // The old key stays published: reports signed with it still verify.
      expect((await reader.call('GET', '/api/keys')).json.keys.length).toBe(keysBefore + 1);
    } finally {
      await srv.close();
    }
    const rotated = auditRows(dataDir).filter((r) => r.action === 'signing.key_rotated');
    expect(rotated.map((r) => r.actor)).toEqual(['cli:test-admin']);
    expect(JSON.stringify(auditRows(dataDir))).not.toContain('864209');
  });

  it('rotate for a reader who never had a key enrols one (and says so); a mistake elsewhere in the environment does not matter', async () => {
    const { raw } = await readConsortiumFile(consortiumFile);
    const users = raw['users'] as Record<string, unknown>[];
    await writeConsortiumFile(consortiumFile, { ...raw, users: [...users, { id: 'ecg-reader-3', username: 'dr-sun', displayName: '孙医生', role: 'reader', pools: ['ecg'], passwordHash: '!unset' }] });
    const r = await teleread(['signer', 'rotate', 'ecg-reader-3', '--data-dir', dataDir], ['975310', '975310'], { ...ENV, PORT: 'not-a-port', TELEREAD_DEMO_PIN: '12' });
    expect(r, r.err).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/^Enrolled ecg-reader-3: signing key \S+\.$/);
    expect(auditRows(dataDir).filter((x) => x.detail?.includes('"ecg-reader-3"')).map((x) => x.action)).toEqual(['signing.key_enrolled']);
    const bad = await teleread(['signer', 'rotate', 'ecg-reader-3', '--data-dir', dataDir], [], { TELEREAD_SCRYPT_LOG_N: '99' });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('TELEREAD_SCRYPT_LOG_N');
  });

  it('the rewritten consortium file keeps its permissions and owner (a server running as that user still reads it)', async () => {
    // Giving the file to another user needs root (as in CI); otherwise the permissions alone are checked.
    const root = process.getuid?.() === 0;
    const me = statSync(consortiumFile);
    chmodSync(consortiumFile, 0o640);
    if (root) chownSync(consortiumFile, 4321, 4322);
    try {
      const r = await teleread(['password', 'tech-b', '--data-dir', dataDir], ['another long password', 'another long password']);
      expect(r, r.err).toMatchObject({ code: 0 });
      const st = statSync(consortiumFile);
      expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o640, root ? 4321 : me.uid, root ? 4322 : me.gid]);
    } finally {
      if (root) chownSync(consortiumFile, me.uid, me.gid);
      chmodSync(consortiumFile, 0o600);
    }
  });

  it('refusals say what to do and change nothing', async () => {
    const fileBefore = readFileSync(consortiumFile);
    const keyRows = () => {
      const db = new Database(join(dataDir, 'teleread.db'), { readonly: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM signer_keys').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    const keysBefore = keyRows();
    const auditBefore = auditRows(dataDir).length;
    const d = ['--data-dir', dataDir];

    const again = await teleread(['signer', 'enrol', 'ecg-reader', ...d]);
    expect([again.code, again.asked]).toEqual([2, []]);
    expect(again.err).toContain('already has the signing key');
    expect(again.err).toContain('teleread signer rotate ecg-reader');

    const tech = await teleread(['signer', 'enrol', 'tech-a', ...d]);
    expect([tech.code, tech.asked]).toEqual([2, []]);
    expect(tech.err).toContain('only readers');
    const nobody = await teleread(['signer', 'rotate', 'nobody', ...d]);
    expect([nobody.code, nobody.asked]).toEqual([2, []]);
    expect(nobody.err).toContain('No user nobody');

    const differ = await teleread(['signer', 'rotate', 'ecg-reader', ...d], ['111111', '111112']);
    expect(differ.code).toBe(2);
    expect(differ.err).toContain('The two PINs differ; nothing was changed.');
    const letters = await teleread(['signer', 'rotate', 'ecg-reader', ...d], ['12ab56', '12ab56']);
    expect(letters.code).toBe(2);
    expect(letters.err).toContain('digits only');
    const short = await teleread(['signer', 'rotate', 'ecg-reader', ...d], ['12345', '12345']);
    expect(short.code).toBe(2);
    expect(short.err).toContain('at least 6');

    const weak = await teleread(['password', 'tech-a', ...d], ['short', 'short']);
    expect(weak.code).toBe(2);
    expect(weak.err).toContain('at least 12 characters; nothing was changed.');
    const spaces = await teleread(['password', 'tech-a', ...d], [' twelve chars here', ' twelve chars here']);
    expect(spaces.code).toBe(2);
    expect(spaces.err).toContain('space');
    const unknown = await teleread(['password', 'nobody', ...d]);
    expect([unknown.code, unknown.asked]).toEqual([2, []]);
    expect(unknown.err).toContain('No user nobody');

    expect(readFileSync(consortiumFile)).toEqual(fileBefore);
    expect(keyRows()).toBe(keysBefore);
    expect(auditRows(dataDir)).toHaveLength(auditBefore);

    const empty = mkdtempSync(join(tmpdir(), 'teleread-admin-empty-'));
    try {
      const none = await teleread(['signer', 'enrol', 'ecg-reader', '--data-dir', empty]);
      expect(none.code).toBe(2);
      expect(none.err).toContain(`No ${join(empty, 'teleread.db')}: start TeleRead once on this data directory`);
      const noFile = await teleread(['password', 'tech-a', '--data-dir', empty]);
      expect(noFile.code).toBe(2);
      expect(noFile.err).toContain('start TeleRead once on this data directory (npm start) to create it, or pass --data-dir.');
      expect(existsSync(join(empty, 'teleread.db'))).toBe(false);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('node bin/teleread.mjs reads the PIN from piped stdin and the scrypt cost from the environment', async () => {
    const { raw } = await readConsortiumFile(consortiumFile);
    await writeConsortiumFile(consortiumFile, {
      ...raw,
      users: [...(raw['users'] as object[]), { id: 'us-reader-2', username: 'dr-zhao', displayName: '赵医生', role: 'reader', pools: ['ultrasound'], passwordHash: '!not-set' }],
    });
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../bin/teleread.mjs'), 'signer', 'enrol', 'us-reader-2'], {
      cwd: tmpdir(),
      env: { ...process.env, TELEREAD_DATA_DIR: dataDir, TELEREAD_SCRYPT_LOG_N: '11' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end('24681357\n24681357\n');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('Signing PIN for us-reader-2 (赵医生)');
    expect(stdout).toMatch(/Enrolled us-reader-2: signing key \S+\./);
    expect(stdout + stderr).not.toContain('24681357');
    const db = new Database(join(dataDir, 'teleread.db'), { readonly: true });
    try {
      const doc = JSON.parse((db.prepare("SELECT doc FROM signer_keys WHERE signer_id = 'us-reader-2'").get() as { doc: string }).doc) as { sealed: { N: number } };
      expect(doc.sealed.N).toBe(2 ** 11);
    } finally {
      db.close();
    }
  });

  it('a consortium file that is not valid is reported with its reason, not overwritten', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'teleread-admin-bad-'));
    try {
      const file = join(copy, 'consortium.json');
      const bad = readFileSync(consortiumFile, 'utf8').replace('"role": "reader"', '"role": "surgeon"');
      writeFileSync(file, bad, { mode: 0o600 });
      copyFileSync(join(dataDir, 'teleread.db'), join(copy, 'teleread.db'));
      const r = await teleread(['password', 'tech-a', '--data-dir', copy]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/consortium file .* is invalid/);
      expect(readFileSync(file, 'utf8')).toBe(bad);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
