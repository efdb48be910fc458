/**
 * The `teleread gateway` command (wired into local/cli.ts, which reads the environment):
 *
 *   teleread gateway --port 11112 --aet TELEREAD --api http://127.0.0.1:8080 --username tech-a --password … --spool DIR
 *                    [--stable-seconds 10] [--rules rules.json] [--config gateway.json]
 *   teleread gateway status --spool DIR
 *   teleread gateway set-aside --spool DIR <batch id> --reason "…"   (the gateway stopped)
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { JsonLogger } from '../shared/adapters/local/json-logger.ts';
import { GatewayConfigError, loadGatewayConfig } from './config.ts';
import { startGateway } from './gateway.ts';
import { readSpoolStatus, Spool, SpoolLockedError, SpoolUsageError, type SpoolStatus } from './spool.ts';

export const GATEWAY_USAGE =
  'teleread gateway --port 11112 --aet TELEREAD --api http://127.0.0.1:8080 --username tech-a --password … --spool DIR ' +
  '[--stable-seconds 10] [--rules rules.json] [--config gateway.json]\n             teleread gateway status --spool DIR' +
  '\n             teleread gateway set-aside --spool DIR <batch id> --reason "…"   (with the gateway stopped)';

export interface GatewayIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface GatewayEnv {
  /** TELEREAD_GATEWAY_PASSWORD, so the password need not appear on the command line. */
  password?: string | undefined;
  /** Resolves when the operator asks the gateway to stop (SIGINT/SIGTERM). */
  stopped: Promise<unknown>;
}

/** Thrown for a bad command line or config; the CLI prints it with the usage (exit 2). */
export class GatewayUsageError extends Error {}

export async function runGatewayCommand(args: string[], io: GatewayIo, env: GatewayEnv): Promise<number> {
  if (args[0] === 'status') return printStatus(args.slice(1), io);
  if (args[0] === 'set-aside') return setAside(args.slice(1), io);
  let cfg;
  try {
    cfg = await loadGatewayConfig(args, env.password);
  } catch (e) {
    if (e instanceof GatewayConfigError) throw new GatewayUsageError(e.message);
    throw e;
  }
  const log = new JsonLogger((l) => io.out(l.replace(/\n$/, '')));
  let gw;
  try {
    gw = await startGateway(cfg, { log });
  } catch (e) {
    if (e instanceof SpoolLockedError) {
      io.err(e.message);
      return 2;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      io.err(`Cannot listen on DICOM port ${cfg.port} (${code}).`);
      return 2;
    }
    if (e instanceof Error && /rule file/.test(e.message)) {
      io.err(e.message);
      return 2;
    }
    throw e;
  }
  await env.stopped;
  await gw.close();
  return 0;
}

const age = (fromIso: string, now: number) => {
  const s = Math.max(0, Math.round((now - Date.parse(fromIso)) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
};
const mb = (n: number) => `${(n / 1_000_000).toFixed(n < 10_000_000 ? 2 : 1)} MB`;

/** Prints the spool: ids, counts, sizes, ages, errors and codes only (no PHI is in these files). */
export function formatStatus(s: SpoolStatus, dir: string, now = Date.now()): string[] {
  const lines: string[] = [];
  lines.push(`spool ${dir}${s.lockedBy ? ` (gateway running, pid ${s.lockedBy})` : ' (no gateway running)'}`);
  lines.push(`pending: ${s.pending.length} stud${s.pending.length === 1 ? 'y' : 'ies'}`);
  for (const e of s.pending) {
    const state = e.held ? `HELD: ${e.held}` : e.state === 'receiving' ? 'receiving' : e.attempts === 0 ? 'ready to send' : 'retrying';
    lines.push(
      `  ${e.entryId}  study ${e.studyKey}  ${e.Modality}  ${e.instances.length} instance(s)  ${mb(e.bytes)}  age ${age(e.createdAt, now)}  from ${e.callingAeTitle}  ${state}` +
        (e.submission ? `  case ${e.submission.caseId}` : ''),
    );
    if (e.attempts > 0) {
      lines.push(
        `      attempts ${e.attempts}, last ${e.lastAttemptAt ?? '-'}` +
          (e.lastError ? `, last error: ${e.lastError}` : '') +
          (e.nextAttemptAt && !e.held ? `, next retry ${e.nextAttemptAt}` : ''),
      );
    }
  }
  if (s.unreadable.length) {
    lines.push(`study folders without a readable entry.json (kept, not sent; compare with TeleRead before sending any of their .dcm files again): ${s.unreadable.length}`);
    for (const u of s.unreadable) lines.push(`  studies/${u.id}  ${u.files} file(s)`);
  }
  if (s.setAside.length) {
    lines.push(`set aside by an operator (not sent; to send one again, move it back under studies/ and restart): ${s.setAside.length}`);
    for (const a of s.setAside) lines.push(`  set-aside/${a.id}  ${a.instances} instance(s)  ${a.at}  ${a.reason}`);
  }
  if (s.orphans.length) {
    lines.push(`instance files set aside at start, not in their batch's manifest (kept; the device was not told they were stored, so it normally sends them again): ${s.orphans.length} batch(es)`);
    for (const o of s.orphans) lines.push(`  orphans/${o.id}  ${o.files} file(s)`);
  }
  lines.push(`quarantined: ${s.quarantined.length}`);
  for (const q of s.quarantined) {
    lines.push(`  ${q.id}  ${q.at}  from ${q.callingAeTitle}  status 0x${q.status.toString(16).padStart(4, '0')}  ${q.code}: ${q.message}`);
  }
  lines.push(
    `sent: ${s.sent.count}${s.sent.rejected ? ` (${s.sent.rejected} rejected by TeleRead)` : ''}` +
      (s.sent.last ? `; last ${s.sent.last.sentAt} case ${s.sent.last.caseId} ${s.sent.last.status}` : ''),
  );
  return lines;
}

async function printStatus(args: string[], io: GatewayIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { spool: { type: 'string' } }, allowPositionals: true });
  if (positionals.length) throw new GatewayUsageError(`Unexpected ${positionals.join(' ')}.`);
  if (!values.spool) throw new GatewayUsageError('gateway status needs --spool DIR.');
  const dir = resolve(values.spool);
  let s: SpoolStatus;
  try {
    s = await readSpoolStatus(dir);
  } catch (e) {
    io.err((e as Error).message);
    return 2;
  }
  for (const l of formatStatus(s, dir)) io.out(l);
  return 0;
}

/** Takes a pending batch out of sending, with the operator's reason (the gateway must be stopped). */
async function setAside(args: string[], io: GatewayIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { spool: { type: 'string' }, reason: { type: 'string' } }, allowPositionals: true });
  if (!values.spool) throw new GatewayUsageError('gateway set-aside needs --spool DIR.');
  if (positionals.length !== 1) throw new GatewayUsageError('gateway set-aside needs one batch id (gateway status lists them).');
  const reason = values.reason?.trim();
  if (!reason) throw new GatewayUsageError('gateway set-aside needs --reason "…" (why the batch is not to be sent; kept with it).');
  let spool: Spool;
  try {
    spool = await Spool.open(resolve(values.spool));
  } catch (e) {
    if (e instanceof SpoolLockedError) {
      io.err(e.message);
      return 2;
    }
    throw e;
  }
  try {
    const e = await spool.setAside(positionals[0]!, reason);
    io.out(`set aside batch ${e.entryId} (${e.instances.length} instance(s), study ${e.studyKey}): it will not be sent.`);
    return 0;
  } catch (e) {
    if (e instanceof SpoolUsageError) {
      io.err(e.message);
      return 2;
    }
    throw e;
  } finally {
    await spool.close();
  }
}
