/** Helpers of the gateway tests: run dcmtk's storescu/echoscu, start an in-process gateway, read its spool. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayConfigSchema, type GatewayConfig } from '../../gateway/config.ts';
import { startGateway, type GatewayHandle, type GatewayOptions } from '../../gateway/gateway.ts';
import { readSpoolStatus, type SpoolStatus } from '../../gateway/spool.ts';
import type { Logger } from '../../shared/ports/logger.ts';
import { DEMO_PASSWORD } from '../support/local-server.ts';

export interface ToolRun {
  code: number;
  output: string;
}

/** Runs a dcmtk tool; resolves with its exit code and stdout+stderr (never rejects on a non-zero exit). */
export function dcmtk(tool: 'storescu' | 'echoscu', args: string[]): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    execFile(`/usr/bin/${tool}`, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      if (err && code === -1) return reject(err);
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** storescu with only the presentation contexts the files need (-R), as a device does; `flag` proposes a compressed syntax. */
export const storescu = (port: number, files: string[], o: { flag?: string; aec?: string; aet?: string } = {}) =>
  dcmtk('storescu', ['-v', '-R', ...(o.flag ? [o.flag] : []), '-aet', o.aet ?? 'MODALITY-1', '-aec', o.aec ?? 'TELEREAD', '127.0.0.1', String(port), ...files]);

export const echoscu = (port: number, aec = 'TELEREAD') => dcmtk('echoscu', ['-v', '-aec', aec, '127.0.0.1', String(port)]);

/** A logger that keeps every line (to check that no PHI reaches the log). */
export function captureLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const put = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push(JSON.stringify({ level, msg, ...fields }));
  return { lines, info: put('info'), warn: put('warn'), error: put('error') };
}

export const CONSENT = { obtained: true, recordedBy: 'clinic-a registration desk (standing consent form)' } as const;

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeRules(dir: string, rules: unknown): string {
  const path = join(dir, 'rules.json');
  writeFileSync(path, JSON.stringify(rules, null, 2));
  return path;
}

export function gatewayConfig(o: { api: string; spool: string; rules?: string; stableSeconds?: number }): GatewayConfig {
  return GatewayConfigSchema.parse({
    port: 0,
    aet: 'TELEREAD',
    api: o.api,
    username: 'tech-a',
    password: DEMO_PASSWORD,
    spool: o.spool,
    rules: o.rules,
    stableSeconds: o.stableSeconds ?? 1,
    retryBaseSeconds: 0.2,
    retryMaxSeconds: 1,
    confirmTimeoutSeconds: 30,
  });
}

export async function gateway(cfg: GatewayConfig, opts: Partial<GatewayOptions> & { log: Logger }): Promise<GatewayHandle> {
  return startGateway(cfg, { tickMs: 200, ...opts });
}

/** Polls the spool until `done` holds. */
export async function waitSpool(dir: string, done: (s: SpoolStatus) => boolean, what: string, timeoutMs = 40_000): Promise<SpoolStatus> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await readSpoolStatus(dir);
    if (done(s)) return s;
    if (Date.now() > until) throw new Error(`spool never got to: ${what}; now ${JSON.stringify({ pending: s.pending.map((e) => ({ state: e.state, held: e.held, attempts: e.attempts, lastError: e.lastError })), sent: s.sent.count })}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
