import { z } from 'zod';
import { describeIssues } from './describe.ts';
import { asksForIdToken } from './auth.ts';

/** Settings of the single-machine runtime, read once from the environment at the entry point. */
export const LocalConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  TELEREAD_DATA_DIR: z.string().min(1).default('./data'),
  TELEREAD_DEMO_PASSWORD: z.string().min(8, 'TELEREAD_DEMO_PASSWORD has at least 8 characters').default('teleread-demo'),
  TELEREAD_DEMO_PIN: z.string().regex(/^\d{6,12}$/, 'TELEREAD_DEMO_PIN is 6–12 digits (the shortest PIN a signing key is sealed with is 6)').default('246810'),
  TELEREAD_LEASE_SECONDS: z.coerce.number().int().min(10).max(3600).default(300),
  TELEREAD_INGEST_WORKERS: z.coerce.number().int().min(1).max(16).default(4),
  /**
   * Parse worker threads (ECG analysis runs there, ~7 ms per 12-lead). Two keep both cores busy when
   * ECGs arrive together; each costs ~30 MiB resident on the compiled core (peak 230 MiB with two
   * during a 500 MB upload, docs/PERFORMANCE.md).
   */
  TELEREAD_PARSE_WORKERS: z.coerce.number().int().min(1).max(16).default(2),
  /**
   * ECG analyses each new parse worker runs on a built-in synthetic ECG while idle, so V8 has
   * compiled the analysis before the first real ECG (a cold worker uses ~2× the CPU per ECG for its
   * first few dozen). Off by default: 40 back-to-back runs leave each worker ~30 MiB larger, which
   * pushes a 500 MB upload's peak past the 256 MiB target (docs/PERFORMANCE.md §D).
   */
  TELEREAD_PARSE_WARMUP: z.coerce.number().int().min(0).max(1000).default(0),
  /** Public origin used in upload URLs; default http://HOST:PORT. */
  TELEREAD_PUBLIC_URL: z.string().url().optional(),
  TELEREAD_LOG: z.enum(['json', 'silent']).default('json'),
  /** How often the sweeper runs (leases, lost jobs, SLA clocks). */
  TELEREAD_SWEEP_MS: z.coerce.number().int().min(50).max(60_000).default(5000),
  /** Simulation only: run the clock this many times faster than real time (1 = real time). */
  TELEREAD_TIME_SCALE: z.coerce.number().min(1).max(10_000).default(1),
  /** Simulation only: the simulated clock's start (ISO); default now. */
  TELEREAD_TIME_START: z.string().datetime().optional(),
  /** scrypt cost exponent for sealing signer keys (2^N). Lower only in tests. */
  TELEREAD_SCRYPT_LOG_N: z.coerce.number().int().min(10).max(20).default(15),
  /**
   * Sign in through the consortium's OpenID Connect identity provider instead of TeleRead's own
   * passwords: its issuer URL and the public client (PKCE, no secret) registered there for this
   * TeleRead. With them, password sign-in is off.
   */
  TELEREAD_OIDC_ISSUER: z.string().url().optional(),
  TELEREAD_OIDC_CLIENT_ID: z.string().min(1).optional(),
  TELEREAD_OIDC_SCOPE: z.string().min(1).default('openid'),
});
export type LocalConfig = z.infer<typeof LocalConfigSchema>;

export function loadLocalConfig(env: Record<string, string | undefined>): LocalConfig {
  const r = LocalConfigSchema.safeParse(env);
  if (!r.success) throw new Error(`Invalid configuration: ${describeIssues(r.error)}`);
  // Checked here rather than by refinements: the admin commands pick their few settings from the schema.
  const problem = oidcProblem(r.data);
  if (problem) throw new Error(`Invalid configuration: ${problem}`);
  return r.data;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Why the identity-provider settings cannot work, or null. */
function oidcProblem(c: LocalConfig): string | null {
  if ((c.TELEREAD_OIDC_ISSUER === undefined) !== (c.TELEREAD_OIDC_CLIENT_ID === undefined)) {
    return 'TELEREAD_OIDC_ISSUER and TELEREAD_OIDC_CLIENT_ID go together: set both to sign in through an identity provider, or neither';
  }
  if (!c.TELEREAD_OIDC_ISSUER) return null;
  if (!asksForIdToken(c.TELEREAD_OIDC_SCOPE)) return 'TELEREAD_OIDC_SCOPE must include openid (without it the provider gives no ID token)';
  const issuer = new URL(c.TELEREAD_OIDC_ISSUER);
  // The provider's signing keys are fetched from it: over plain http anyone on the way could swap them.
  if (issuer.protocol !== 'https:' && !LOOPBACK.has(issuer.hostname)) {
    return 'TELEREAD_OIDC_ISSUER must be an https URL (the provider\'s signing keys are fetched from it); plain http is accepted only on this computer (127.0.0.1, localhost)';
  }
  // Browsers give a page the cryptography of the PKCE sign-in only over https (or on the computer itself).
  const origin = c.TELEREAD_PUBLIC_URL ? new URL(c.TELEREAD_PUBLIC_URL) : null;
  const browserSafe = origin ? origin.protocol === 'https:' || LOOPBACK.has(origin.hostname) : LOOPBACK.has(c.HOST);
  if (!browserSafe) {
    return 'signing in through an identity provider needs the web UI on https: put TeleRead behind an https reverse proxy and set TELEREAD_PUBLIC_URL=https://… (browsers refuse the sign-in\'s cryptography to plain-http pages on other computers)';
  }
  return null;
}
