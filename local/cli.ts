/**
 * The `teleread` command line (bin/teleread.mjs runs this through tsx).
 *
 *   teleread verify <report.json> <report.jws> [--pdf report.pdf] [--code <printed code>] (--keys jwks.json | --url http://host:port)
 *   teleread canonical <report.json> [--out file]
 *   teleread audit verify [--data-dir dir]
 *   teleread font extract [--out file] [--from collection.ttc]
 *   teleread gateway --port 11112 --aet TELEREAD --api http://127.0.0.1:8080 --username tech-a --password … --spool DIR
 *   teleread gateway status --spool DIR
 *   teleread signer enrol|rotate <reader id> [--data-dir dir]
 *   teleread password <user id> [--data-dir dir]
 *
 * Exit codes: 0 valid / done, 1 the report does not verify, 2 usage or input error.
 * Subcommands live in one dispatch table; add new ones there.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Argon2Hasher } from '../shared/adapters/local/argon2-hasher.ts';
import { openSqlite } from '../shared/adapters/local/sqlite.ts';
import { SqliteAuditLog } from '../shared/adapters/local/sqlite-audit-log.ts';
import { GATEWAY_USAGE, GatewayUsageError, runGatewayCommand } from '../gateway/cli.ts';
import { CJK_FACE, CJK_FACE_FILE, ensureCjkFontFile } from '../shared/reports/font.ts';
import { verifySignedReportFiles } from '../shared/reports/verify.ts';
import { canonicalBytes } from '../shared/signing/canonical.ts';
import type { Jwks } from '../shared/signing/verify.ts';
import { AdminUsageError, PASSWORD_USAGE, runPasswordCommand, runSignerCommand, SIGNER_USAGE, type AdminIo } from './admin-cli.ts';
import { PromptCancelled, secretPrompt } from '../shared/terminal/secret-prompt.ts';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  fetch: typeof fetch;
  /** Asks for a secret; default: the terminal without echo, or the next line of piped stdin. */
  ask?: (question: string) => Promise<string>;
  /** Default process.env. */
  env?: Record<string, string | undefined>;
  /** Who runs the command, for the audit log; default cli:<OS user>. */
  operator?: string;
}
interface Command {
  usage: string;
  summary: string;
  run(args: string[], io: CliIo): Promise<number>;
}

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

class UsageError extends Error {}

const commands: Record<string, Command> = {
  verify: {
    usage: 'teleread verify <report.json> <report.jws> [--pdf report.pdf] [--code <verification code>] (--keys jwks.json | --url http://host:port)',
    summary: 'check a signed report (and its PDF, and the code printed on it) offline against a JWKS file or a server\'s keys',
    run: runVerify,
  },
  audit: {
    usage: 'teleread audit verify [--data-dir dir]   (default: $TELEREAD_DATA_DIR or ./data)',
    summary: 'walk the hash-chained audit log and report the first broken link',
    run: runAudit,
  },
  font: {
    usage: 'teleread font extract [--out NotoSansCJKsc-Regular.otf] [--from NotoSansCJK-Regular.ttc]',
    summary: 'extract the Noto Sans CJK SC face the PDFs embed from Debian\'s fonts-noto-cjk collection (for a bundle)',
    run: runFont,
  },
  gateway: {
    usage: GATEWAY_USAGE,
    summary: 'DICOM C-STORE gateway: receive studies from devices, spool them, send them to TeleRead (status: show the spool)',
    run: (args, io) =>
      runGatewayCommand(args, io, {
        password: process.env.TELEREAD_GATEWAY_PASSWORD,
        stopped: new Promise((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        }),
      }).catch((e: unknown) => {
        throw e instanceof GatewayUsageError ? new UsageError(e.message) : e;
      }),
  },
  signer: {
    usage: SIGNER_USAGE,
    summary: 'give a reader a signing key under the PIN they type (enrol), or a new key for a forgotten PIN (rotate, lifts a signing lock)',
    run: (args, io) => withAdminIo(io, (a) => runSignerCommand(args, a)),
  },
  password: {
    usage: PASSWORD_USAGE,
    summary: "set a user's password in the consortium file (one machine; applies at the next start)",
    run: (args, io) => withAdminIo(io, (a) => runPasswordCommand(args, a, new Argon2Hasher())),
  },
  canonical: {
    usage: 'teleread canonical <report.json> [--out report.canonical.json]',
    summary: 'write the RFC 8785 canonical bytes of a report (what its signature covers), e.g. for openssl',
    run: runCanonical,
  },
};

async function withAdminIo(io: CliIo, run: (io: AdminIo) => Promise<number>): Promise<number> {
  const prompt = io.ask ? null : secretPrompt();
  try {
    return await run({ out: io.out, err: io.err, ask: io.ask ?? prompt!.ask, env: io.env ?? process.env, operator: io.operator ?? `cli:${osUser()}` });
  } catch (e) {
    if (e instanceof PromptCancelled) {
      io.err(e.message);
      return EXIT_USAGE;
    }
    throw e instanceof AdminUsageError ? new UsageError(e.message) : e;
  } finally {
    prompt?.close();
  }
}

function osUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    // No passwd entry for the uid (some containers).
    return 'unknown';
  }
}

async function runVerify(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { pdf: { type: 'string' }, keys: { type: 'string' }, url: { type: 'string' }, code: { type: 'string' } },
  });
  if (positionals.length !== 2) throw new UsageError('verify needs <report.json> and <report.jws>.');
  if ((values.keys === undefined) === (values.url === undefined)) {
    throw new UsageError('verify needs exactly one of --keys <jwks.json> (offline) or --url <http://host:port>.');
  }
  const [reportPath, jwsPath] = positionals as [string, string];
  const reportJson = await readInput(reportPath, 'utf8');
  const jws = (await readInput(jwsPath, 'utf8')).trim();
  const pdfBytes = values.pdf === undefined ? undefined : await readInput(values.pdf);
  const jwks = values.keys !== undefined ? parseJwks(await readInput(values.keys, 'utf8'), values.keys) : await fetchJwks(values.url!, io);

  const result = await verifySignedReportFiles({ reportJson, jws, jwks, pdfBytes, code: values.code });
  if (!result.ok) {
    io.err(`INVALID ${result.code}: ${result.message}`);
    return EXIT_INVALID;
  }
  const r = result.report;
  const signer = (r.signer ?? {}) as Record<string, unknown>;
  const what = [
    typeof r.caseId === 'string' ? `case ${r.caseId}` : null,
    r.version !== undefined ? `version ${String(r.version)}` : null,
  ].filter(Boolean).join(' ');
  const who = [signer.name, signer.id].filter((v) => typeof v === 'string' && v !== '').join(' / ');
  io.out(
    `VALID report${what ? ` (${what})` : ''} signed by kid ${result.kid}` +
      (who ? ` (${who})` : '') +
      (typeof r.signedAt === 'string' ? ` at ${r.signedAt}` : '') +
      (r.supersedes !== undefined && r.supersedes !== null ? `; supersedes version ${String(r.supersedes)}` : '') +
      (result.verificationCode ? `; verification code ${result.verificationCode}` : '') +
      (result.pdfChecked ? '; PDF matches the signed SHA-256' : ''),
  );
  return EXIT_OK;
}

async function runAudit(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'verify') throw new UsageError('audit needs the subcommand verify.');
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { 'data-dir': { type: 'string' } } });
  if (positionals.length) throw new UsageError(`Unexpected ${positionals.join(' ')}.`);
  const dir = resolve(values['data-dir'] ?? process.env.TELEREAD_DATA_DIR ?? './data');
  const file = join(dir, 'teleread.db');
  if (!existsSync(file)) throw new UsageError(`No TeleRead database at ${file}.`);
  const db = openSqlite(file);
  try {
    const v = new SqliteAuditLog(db).verify();
    if (v.ok) {
      io.out(`OK audit log: ${v.checked} records, every link holds (${file})`);
      return EXIT_OK;
    }
    const b = v.firstBroken!;
    const why =
      b.reason === 'hash'
        ? 'its content does not match its recorded hash (the record was edited)'
        : 'it does not link to the record before it (a record before it was deleted, reordered or replaced)';
    io.err(`BROKEN audit log at record #${v.checked + 1} (seq ${b.seq}): ${why}; the ${v.checked} records before it verify.`);
    return EXIT_INVALID;
  } finally {
    db.close();
  }
}

async function runFont(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'extract') throw new UsageError('font needs the subcommand extract.');
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { out: { type: 'string' }, from: { type: 'string' } } });
  if (positionals.length) throw new UsageError(`Unexpected ${positionals.join(' ')}.`);
  const out = resolve(values.out ?? CJK_FACE_FILE);
  if (existsSync(out)) throw new UsageError(`${out} exists; remove it first.`);
  try {
    ensureCjkFontFile(out, values.from);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  io.out(`wrote ${CJK_FACE} to ${out}`);
  return EXIT_OK;
}

async function runCanonical(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError('canonical needs one <report.json>.');
  const text = await readInput(positionals[0]!, 'utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw new UsageError(`${positionals[0]} is not valid JSON.`);
  }
  const bytes = canonicalBytes(doc);
  if (values.out !== undefined) await writeFile(values.out, bytes);
  else io.out(new TextDecoder().decode(bytes));
  return EXIT_OK;
}

async function readInput(path: string): Promise<Uint8Array>;
async function readInput(path: string, encoding: 'utf8'): Promise<string>;
async function readInput(path: string, encoding?: 'utf8'): Promise<string | Uint8Array> {
  try {
    return encoding ? await readFile(path, encoding) : new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`Cannot read ${path}${code ? ` (${code})` : ''}.`);
  }
}

function parseJwks(text: string, source: string): Jwks {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${source} is not valid JSON.`);
  }
  if (!value || typeof value !== 'object' || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw new UsageError(`${source} is not a JWKS ({"keys":[…]}).`);
  }
  return value as Jwks;
}

async function fetchJwks(base: string, io: CliIo): Promise<Jwks> {
  let url: URL;
  try {
    url = new URL('/api/keys', base);
  } catch {
    throw new UsageError(`--url ${base} is not a URL like http://host:port.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--url must be http:// or https://.');
  let res: Response;
  try {
    res = await io.fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new UsageError(`Cannot fetch ${url.href}: ${e instanceof Error ? e.message : String(e)}.`);
  }
  if (!res.ok) throw new UsageError(`Cannot fetch ${url.href}: HTTP ${res.status}.`);
  return parseJwks(await res.text(), url.href);
}

function help(io: CliIo): void {
  io.out('Usage: teleread <command> [options]\n\nCommands:');
  for (const [name, c] of Object.entries(commands)) io.out(`  ${name.padEnd(10)} ${c.summary}\n             ${c.usage}`);
  io.out('\nExit codes: 0 ok, 1 the report (or the audit log) does not verify, 2 usage or input error.');
}

/** Runs one command line (without node and script) and resolves to the exit code. */
export async function main(argv: string[], io: CliIo = { out: console.log, err: console.error, fetch }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    help(io);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    io.err(`Unknown command "${name}". Run "teleread help".`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${(e as Error).message}\nUsage: ${command.usage}`);
      return EXIT_USAGE;
    }
    if (e instanceof Error && e.name === 'AppError') {
      io.err(e.message);
      return EXIT_USAGE;
    }
    throw e;
  }
}
