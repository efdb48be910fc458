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
import { setUpSigningKey, signerToSetUp } from '../shared/application/signer-keys.ts';
import { NewPasswordSchema } from '../shared/contracts/auth.ts';
import { LocalConfigSchema } from '../shared/contracts/config.ts';
import { describeIssues } from '../shared/contracts/describe.ts';
import type { PasswordHasher } from '../shared/ports/auth.ts';
import { systemClock } from '../shared/ports/clock.ts';
import { SealedKeyReportSigner } from '../shared/signing/sealed-key-signer.ts';
import { assertCanRewrite, consortiumFileIn, readConsortiumFile, setUserPasswordHash } from './consortium-file.ts';

export const SIGNER_USAGE = 'teleread signer enrol|rotate <reader id> [--data-dir dir]   (the reader types the PIN, twice)';
export const PASSWORD_USAGE = 'teleread password <user id> [--data-dir dir]   (the new password is typed twice; applies at the next start)';

export class AdminUsageError extends Error {}

export interface AdminIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Asks for a secret (not echoed); rejects when the person cancels. */
  ask: (question: string) => Promise<string>;
  /** The environment the local runtime reads its config from (TELEREAD_DATA_DIR, TELEREAD_SCRYPT_LOG_N). */
  env: Record<string, string | undefined>;
  /** Who runs the command, as the audit log records it. */
  operator: string;
}

const DONE = 0;
const REFUSED = 2;

/** The data directory and its database, which must exist (TeleRead has started on it once). */
function dataDirOf(flag: string | undefined, env: AdminIo['env']): { dataDir: string; dbFile: string; consortiumFile: string } {
  const dataDir = resolve(flag ?? env.TELEREAD_DATA_DIR ?? './data');
  const dbFile = join(dataDir, 'teleread.db');
  const consortiumFile = consortiumFileIn(dataDir);
  for (const f of [dbFile, consortiumFile]) {
    if (!existsSync(f)) throw new AdminUsageError(`No ${f}: start TeleRead once on this data directory (npm start) to create it, or pass --data-dir.`);
  }
  return { dataDir, dbFile, consortiumFile };
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
  const { dbFile, consortiumFile } = dataDirOf(values['data-dir'], io.env);
  // Only the setting this command needs: a mistake elsewhere in the environment is not its business.
  const scrypt = LocalConfigSchema.pick({ TELEREAD_SCRYPT_LOG_N: true }).safeParse(io.env);
  if (!scrypt.success) throw new AdminUsageError(describeIssues(scrypt.error));
  let directory: FileDirectory;
  try {
    directory = new FileDirectory(consortiumFile);
  } catch (e) {
    throw new AdminUsageError((e as Error).message);
  }
  const db = openSqlite(dbFile);
  try {
    const keys = new SqliteSignerKeyStore(db);
    const deps = {
      directory,
      // This command's own TELEREAD_SCRYPT_LOG_N (default the product's): the cost is stored with the
      // sealed key, so a server with another setting still opens it.
      signer: new SealedKeyReportSigner(keys, { scrypt: { N: 2 ** scrypt.data.TELEREAD_SCRYPT_LOG_N, r: 8, p: 1 } }),
      attempts: new SqliteAttemptLimiter(db),
      audit: new SqliteAuditLog(db),
      clock: systemClock,
    };
    // Refused before the reader types anything; the use case checks again.
    const user = await signerToSetUp(deps, signerId);
    const current = await keys.current(signerId);
    if (current && sub === 'enrol') return alreadyEnrolled(io, signerId, current.kid);
    const pin = await askTwice(io, 'PIN', `Signing PIN for ${signerId} (${user.displayName}), 6 or more digits: `);
    const r = await setUpSigningKey(deps, io.operator, signerId, pin, sub);
    if (r.outcome === 'kept') return alreadyEnrolled(io, signerId, r.kid);
    io.out(
      r.outcome === 'enrolled'
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
  const { dbFile, consortiumFile } = dataDirOf(values['data-dir'], io.env);
  let user;
  try {
    user = (await readConsortiumFile(consortiumFile)).consortium.users.find((u) => u.id === userId);
    await assertCanRewrite(consortiumFile);
  } catch (e) {
    throw new AdminUsageError((e as Error).message);
  }
  if (!user) throw new AdminUsageError(`No user ${userId} in ${consortiumFile} (ids are the users' "id", not their username).`);
  const password = await askTwice(io, 'password', `New password for ${userId} (${user.username}), 12 or more characters: `);
  const checked = NewPasswordSchema.safeParse(password);
  if (!checked.success) throw new AdminUsageError(`${checked.error.issues[0]!.message}; nothing was changed.`);
  const passwordHash = await hasher.hash(password);
  // The file is read again and only this user's hash is changed: an edit made while the password was
  // being typed, and keys the schema does not know, are kept.
  let found: boolean;
  try {
    found = await setUserPasswordHash(consortiumFile, userId, passwordHash);
  } catch (e) {
    throw new AdminUsageError((e as Error).message);
  }
  if (!found) throw new AdminUsageError(`User ${userId} was removed from ${consortiumFile} meanwhile; nothing was changed.`);
  const db = openSqlite(dbFile);
  try {
    await new SqliteAuditLog(db).append({ at: systemClock.now().toISOString(), actor: io.operator, action: 'auth.password_set', detail: { userId } });
  } catch (e) {
    io.err(`The password of ${userId} is changed, but the audit log could not record it: ${(e as Error).message}`);
    return REFUSED;
  } finally {
    db.close();
  }
  io.out(`The password of ${userId} (${user.username}) is set in ${consortiumFile}. It applies when TeleRead next starts (stop npm start and start it again).`);
  return DONE;
}
