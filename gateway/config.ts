/**
 * The gateway's settings: from the command line, a JSON file (`--config gateway.json`, same keys
 * in camelCase), or both (the command line wins). Read once at start and validated with zod.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_ROUTING } from '../shared/domain/routing.ts';

const AeTitle = z
  .string()
  .trim()
  .min(1, 'an AE title has 1 to 16 characters')
  .max(16, 'an AE title has 1 to 16 characters')
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'an AE title is printable ASCII without backslash');

export const GatewayConfigSchema = z.object({
  /** DICOM port to listen on (0: any free port, for tests). */
  port: z.coerce.number().int().min(0).max(65535).default(11112),
  /** Called AE title devices must address; associations to another title are rejected. */
  aet: AeTitle.default('TELEREAD'),
  /** TeleRead's base URL. */
  api: z
    .string()
    .url('api is a URL like http://127.0.0.1:8080')
    .refine((u) => /^https?:\/\//i.test(u), 'api is an http:// or https:// URL'),
  /** The clinic technician account the gateway signs in with. */
  username: z.string().trim().min(1, 'username is required (the clinic technician account)'),
  password: z.string().min(1, 'password is required (--password, the config file, or TELEREAD_GATEWAY_PASSWORD)'),
  /** Spool directory (created if missing). */
  spool: z.string().trim().min(1, 'spool is required (a directory the gateway owns)'),
  /** A study is sent when no instance arrived for this long. */
  stableSeconds: z.coerce.number().positive().max(86_400).default(10),
  /** Rule file: priority, clinical note and consent attestation per calling AE / Modality / BodyPartExamined. */
  rules: z.string().trim().min(1).optional(),
  /** Modalities accepted at the door (TeleRead's routing table by default); others get a C-STORE failure. */
  modalities: z.array(z.string().trim().toUpperCase()).min(1).default(Object.keys(DEFAULT_ROUTING)),
  /** First retry delay and the cap of the exponential backoff. */
  retryBaseSeconds: z.coerce.number().positive().max(3600).default(2),
  retryMaxSeconds: z.coerce.number().positive().max(86_400).default(300),
  /** How long one attempt waits for TeleRead to take the case out of AWAITING_FILES. */
  confirmTimeoutSeconds: z.coerce.number().positive().max(3600).default(120),
});
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;

export class GatewayConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayConfigError';
  }
}

const FLAGS = {
  config: { type: 'string' },
  port: { type: 'string' },
  aet: { type: 'string' },
  api: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  spool: { type: 'string' },
  'stable-seconds': { type: 'string' },
  rules: { type: 'string' },
  modalities: { type: 'string' },
  'retry-base-seconds': { type: 'string' },
  'retry-max-seconds': { type: 'string' },
  'confirm-timeout-seconds': { type: 'string' },
} as const;

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Builds the config from command-line arguments (and the file named by --config). Relative paths
 * in the file are relative to the file; on the command line, to the working directory.
 * `fallbackPassword` (the entry point reads it from the environment) applies when neither gives one.
 */
export async function loadGatewayConfig(args: string[], fallbackPassword?: string): Promise<GatewayConfig> {
  const { values, positionals } = parseArgs({ args, options: FLAGS, allowPositionals: true });
  if (positionals.length) throw new GatewayConfigError(`Unexpected ${positionals.join(' ')}.`);
  let fromFile: Record<string, unknown> = {};
  if (values.config !== undefined) {
    const path = resolve(values.config);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new GatewayConfigError(`Cannot read the config file ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
    }
    try {
      fromFile = z.record(z.string(), z.unknown()).parse(JSON.parse(text));
    } catch {
      throw new GatewayConfigError(`${path} is not a JSON object of gateway settings.`);
    }
    const known = new Set(Object.keys(GatewayConfigSchema.shape));
    const unknown = Object.keys(fromFile).filter((k) => !known.has(k));
    if (unknown.length) throw new GatewayConfigError(`${path}: unknown setting(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}.`);
    for (const k of ['spool', 'rules'] as const) {
      if (typeof fromFile[k] === 'string') fromFile[k] = resolve(path, '..', fromFile[k]);
    }
  }
  const fromArgs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if (k === 'config' || v === undefined) continue;
    fromArgs[camel(k)] = k === 'modalities' ? String(v).split(',') : v;
  }
  for (const k of ['spool', 'rules'] as const) if (typeof fromArgs[k] === 'string') fromArgs[k] = resolve(fromArgs[k]);
  const merged = { ...fromFile, ...fromArgs };
  if (merged.password === undefined && fallbackPassword) merged.password = fallbackPassword;
  const parsed = GatewayConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new GatewayConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.code === 'invalid_type' && i.input === undefined ? 'is required' : i.message}`).join('; '),
    );
  }
  return parsed.data;
}
