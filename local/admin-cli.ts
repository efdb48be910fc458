/**
 * The administration a consortium run on one machine needs, with the person concerned at the keyboard
 * (on AWS: infra/bin/enrol-signer.ts and the identity provider):
 *
 *   teleread signer enrol <reader id> [--data-dir dir]    a signing key under the PIN the reader types
 *   teleread signer rotate <reader id> [--data-dir dir]   a new key under a new PIN (a forgotten PIN); lifts the signing lock
 *   teleread password <user id> [--data-dir dir]          a new password, written into consortium.json
 *
 * Secrets are typed twice, never echoed, never put on the command line, in the audit log or in logs.
 * The commands work beside a running server (SQLite is shared safely); a new password applies when
 * TeleRead next starts, because the consortium file is read at start.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FileDirectory } from '../shared/adapters/local/file-directory.ts';
import { openSqlite } from '../shared/adapters/local/sqlite.ts';
import { SqliteAttemptLimiter } from '../shared/adapters/local/sqlite-attempt-limiter.ts';
import { SqliteAuditLog } from '../shared/adapters/local/sqlite-audit-log.ts';
import { SqliteSignerKeyStore } from '../shared/adapters/local/sqlite-signer-key-store.ts';
import { setUpSigningKey } from '../shared/application/signer-keys.ts';
import { NewPasswordSchema } from '../shared/contracts/auth.ts';
import { loadLocalConfig } from '../shared/contracts/config.ts';
import type { PasswordHasher } from '../shared/ports/auth.ts';
import { systemClock } from '../shared/ports/clock.ts';
import { SealedKeyReportSigner } from '../shared/signing/sealed-key-signer.ts';
import { consortiumFileIn, readConsortiumFile, writeConsortiumFile } from './consortium-file.ts';

export const SIGNER_USAGE = 'teleread signer enrol|rotate <reader id> [--data-dir dir]   (the reader types the PIN, twice)';
export const PASSWORD_USAGE = 'teleread password <user id> [--data-dir dir]   (the new password is typed twice; applies at the next start)';

export class AdminUsageError extends Error {}

export interface AdminIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Asks for a secret (not echoed). */
  ask: (question: string) => Promise<string>;
  /** The environment the local runtime reads its config from (TELEREAD_DATA_DIR, TELEREAD_SCRYPT_LOG_N). */
  env: Record<string, string | undefined>;
  /** Who runs the command, as the audit log records it. */
  operator: string;
}

const DONE = 0;
const REFUSED = 2;

function dataDirOf(flag: string | undefined, env: AdminIo['env']): string {
  return resolve(flag ?? env.TELEREAD_DATA_DIR ?? './data');
}

async function askTwice(io: AdminIo, what: string, first: string): Promise<string> {
  const a = await io.ask(first);
  const b = await io.ask(`Repeat the ${what}: `);
  if (a !== b) throw new AdminUsageError(`The two ${what}s differ; nothing was changed.`);
  return a;
}

export async function runSignerCommand(args: string[], io: AdminIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'enrol' && sub !== 'rotate') throw new AdminUsageError('signer needs enrol or rotate.');
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { 'data-dir': { type: 'string' } } });
  if (positionals.length !== 1) throw new AdminUsageError(`signer ${sub} needs one <reader id>.`);
  const signerId = positionals[0]!;
  const dataDir = dataDirOf(values['data-dir'], io.env);
  const dbFile = join(dataDir, 'teleread.db');
  if (!existsSync(dbFile)) throw new AdminUsageError(`No TeleRead database at ${dbFile}: start TeleRead once (npm start) to create it, or pass --data-dir.`);
  // The same settings the server runs with (the scrypt cost a new key is sealed with).
  const cfg = loadLocalConfig({ ...io.env, TELEREAD_DATA_DIR: dataDir });
  let directory: FileDirectory;
  try {
    directory = new FileDirectory(consortiumFileIn(dataDir));
  } catch (e) {
    throw new AdminUsageError((e as Error).message);
  }
  const db = openSqlite(dbFile);
  try {
    const keys = new SqliteSignerKeyStore(db);
    const deps = {
      directory,
      signer: new SealedKeyReportSigner(keys, { scrypt: { N: 2 ** cfg.TELEREAD_SCRYPT_LOG_N, r: 8, p: 1 } }),
      attempts: new SqliteAttemptLimiter(db),
      audit: new SqliteAuditLog(db),
      clock: systemClock,
    };
    // Checked before the reader types anything; someone who is not a reader is refused by the use case.
    const user = await directory.getUser(signerId);
    let pin = '';
    if (user?.role === 'reader') {
      if (sub === 'enrol') {
        const current = await keys.current(signerId);
        if (current) return alreadyEnrolled(io, signerId, current.kid);
      }
      pin = await askTwice(io, 'PIN', `Signing PIN for ${signerId} (${user.displayName}), at least 6 digits: `);
      if (!/^\d+$/.test(pin)) throw new AdminUsageError('A signing PIN is digits only (the reading screen asks for digits); nothing was changed.');
    }
    const r = await setUpSigningKey(deps, io.operator, signerId, pin, sub);
    if (!r.changed) return alreadyEnrolled(io, signerId, r.kid);
    io.out(
      sub === 'enrol'
        ? `Enrolled ${signerId}: signing key ${r.kid}.`
        : `${signerId} signs with the new key ${r.kid} from now on; a signing lock is lifted. Reports signed before still verify with the old key.`,
    );
    return DONE;
  } finally {
    db.close();
  }
}

function alreadyEnrolled(io: AdminIo, signerId: string, kid: string): number {
  io.err(`${signerId} already has the signing key ${kid}; nothing was changed. A reader who has forgotten the PIN gets a new key with: teleread signer rotate ${signerId}`);
  return REFUSED;
}

/** Sets a user's password in the consortium file (Argon2id hash) and audits it; applies at the next start. */
export async function runPasswordCommand(args: string[], io: AdminIo, hasher: PasswordHasher): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'data-dir': { type: 'string' } } });
  if (positionals.length !== 1) throw new AdminUsageError('password needs one <user id>.');
  const userId = positionals[0]!;
  const dataDir = dataDirOf(values['data-dir'], io.env);
  const file = consortiumFileIn(dataDir);
  if (!existsSync(file)) throw new AdminUsageError(`No consortium file at ${file}: start TeleRead once (npm start) to create the demo one, or pass --data-dir.`);
  const user = await readUsers(file).then((users) => users.find((u) => u.id === userId));
  if (!user) throw new AdminUsageError(`No user ${userId} in ${file} (ids are the users' "id", not their username).`);
  const password = await askTwice(io, 'password', `New password for ${userId} (${user.username}), at least 12 characters: `);
  const checked = NewPasswordSchema.safeParse(password);
  if (!checked.success) throw new AdminUsageError(`${checked.error.issues[0]!.message}; nothing was changed.`);
  const passwordHash = await hasher.hash(password);
  // Read again just before writing: an edit made to the file while the password was typed is kept.
  let c;
  try {
    c = await readConsortiumFile(file);
  } catch (e) {
    throw new AdminUsageError((e as Error).message);
  }
  if (!c.users.some((u) => u.id === userId)) throw new AdminUsageError(`User ${userId} was removed from ${file} meanwhile; nothing was changed.`);
  await writeConsortiumFile(file, { ...c, users: c.users.map((u) => (u.id === userId ? { ...u, passwordHash } : u)) });
  const dbFile = join(dataDir, 'teleread.db');
  if (existsSync(dbFile)) {
    const db = openSqlite(dbFile);
    try {
      await new SqliteAuditLog(db).append({ at: systemClock.now().toISOString(), actor: io.operator, action: 'auth.password_set', detail: { userId } });
    } finally {
      db.close();
    }
  }
  io.out(`The password of ${userId} (${user.username}) is set in ${file}. It applies when TeleRead next starts (stop npm start and start it again).`);
  return DONE;
}

async function readUsers(file: string) {
  try {
    return (await readConsortiumFile(file)).users;
  } catch (e) {
    throw new AdminUsageError((e as Error).message);
  }
}
