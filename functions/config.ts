import { z } from 'zod';
import { asksForIdToken, type OidcSettings } from '../shared/contracts/auth.ts';
import { describeIssues } from '../shared/contracts/describe.ts';

const QueueLocationSchema = z.object({ url: z.string().url(), dlqUrl: z.string().url().optional() });
/** Browsers are sent to these and tokens are checked against the issuer: https only. */
const HttpsUrl = z.url({ protocol: /^https$/, message: 'must be an https:// URL' });

/**
 * Settings of every Lambda function, set by the app stack as environment variables and read once,
 * at module scope, by the `*.lambda.ts` entry points.
 */
export const AwsConfigSchema = z.object({
  TELEREAD_STAGE: z.string().min(1).default('dev'),
  TELEREAD_TABLE: z.string().min(3),
  TELEREAD_UPLOADS_BUCKET: z.string().min(3),
  TELEREAD_REPORTS_BUCKET: z.string().min(3),
  /** JSON: logical queue name (`ecg.stat`, `ingest`, `delivery`, …) → `{url, dlqUrl}`. */
  TELEREAD_QUEUES: z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'TELEREAD_QUEUES is not JSON' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string(), QueueLocationSchema)),
  TELEREAD_LEASE_SECONDS: z.coerce.number().int().min(10).max(3600).default(300),
  TELEREAD_UPLOAD_URL_SECONDS: z.coerce.number().int().min(30).max(300).default(300),
  TELEREAD_MAX_UPLOAD_BYTES: z.coerce.number().int().min(1).default(2 * 1024 ** 3),
  TELEREAD_READ_WAIT_SECONDS: z.coerce.number().int().min(0).max(5).default(0),
  /** Key (in the uploads bucket) of the standalone Noto Sans CJK SC face used by the report PDFs. */
  TELEREAD_FONT_KEY: z.string().min(1).default('config/fonts/NotoSansCJKsc-Regular.otf'),
  TELEREAD_SCRYPT_LOG_N: z.coerce.number().int().min(10).max(20).default(15),
  /**
   * Sign-in of the web UI through an OpenID Connect issuer (Cognito's hosted sign-in, or the
   * consortium's identity provider in China) and the public client registered there; what the api
   * function answers at `GET /api/auth/config`. Without them the web UI cannot sign in (API only).
   */
  TELEREAD_OIDC_ISSUER: HttpsUrl.optional(),
  TELEREAD_OIDC_CLIENT_ID: z.string().min(1).optional(),
  TELEREAD_OIDC_SCOPE: z.string().min(1).default('openid'),
  /** Endpoints left out are read from the issuer's discovery document. */
  TELEREAD_OIDC_AUTHORIZATION_ENDPOINT: HttpsUrl.optional(),
  TELEREAD_OIDC_TOKEN_ENDPOINT: HttpsUrl.optional(),
  TELEREAD_OIDC_END_SESSION_ENDPOINT: HttpsUrl.optional(),
  /** Where the web UI revokes its refresh token at sign-out (RFC 7009; Cognito's /oauth2/revoke). */
  TELEREAD_OIDC_REVOCATION_ENDPOINT: HttpsUrl.optional(),
}).superRefine((c, ctx) => {
  if ((c.TELEREAD_OIDC_ISSUER === undefined) !== (c.TELEREAD_OIDC_CLIENT_ID === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [c.TELEREAD_OIDC_ISSUER === undefined ? 'TELEREAD_OIDC_ISSUER' : 'TELEREAD_OIDC_CLIENT_ID'],
      message: 'TELEREAD_OIDC_ISSUER and TELEREAD_OIDC_CLIENT_ID go together: set both, or neither',
    });
  }
  if (!asksForIdToken(c.TELEREAD_OIDC_SCOPE)) {
    ctx.addIssue({ code: 'custom', path: ['TELEREAD_OIDC_SCOPE'], message: 'the scope must include openid (without it the provider gives no ID token)' });
  }
  if (c.TELEREAD_OIDC_ISSUER !== undefined) return;
  for (const k of ['TELEREAD_OIDC_AUTHORIZATION_ENDPOINT', 'TELEREAD_OIDC_TOKEN_ENDPOINT', 'TELEREAD_OIDC_END_SESSION_ENDPOINT', 'TELEREAD_OIDC_REVOCATION_ENDPOINT'] as const) {
    if (c[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'an endpoint needs its issuer: set TELEREAD_OIDC_ISSUER too' });
  }
});
export type AwsConfig = z.infer<typeof AwsConfigSchema>;

/** The OpenID Connect sign-in the configuration names, or null when the web UI has none. */
export function oidcSettings(cfg: AwsConfig): OidcSettings | null {
  if (!cfg.TELEREAD_OIDC_ISSUER || !cfg.TELEREAD_OIDC_CLIENT_ID) return null;
  return {
    issuer: cfg.TELEREAD_OIDC_ISSUER,
    clientId: cfg.TELEREAD_OIDC_CLIENT_ID,
    scope: cfg.TELEREAD_OIDC_SCOPE,
    authorizationEndpoint: cfg.TELEREAD_OIDC_AUTHORIZATION_ENDPOINT,
    tokenEndpoint: cfg.TELEREAD_OIDC_TOKEN_ENDPOINT,
    endSessionEndpoint: cfg.TELEREAD_OIDC_END_SESSION_ENDPOINT,
    revocationEndpoint: cfg.TELEREAD_OIDC_REVOCATION_ENDPOINT,
  };
}

export function loadAwsConfig(env: Record<string, string | undefined>): AwsConfig {
  const r = AwsConfigSchema.safeParse(env);
  if (!r.success) throw new Error(`Invalid configuration: ${describeIssues(r.error)}`);
  return r.data;
}
