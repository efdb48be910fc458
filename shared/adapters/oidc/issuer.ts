import { z } from 'zod';
import type { AuthConfig, OidcSettings } from '../../contracts/auth.ts';
import { AppError } from '../../domain/errors.ts';

/** The parts of an issuer's discovery document (OpenID Connect Discovery 1.0) TeleRead uses. */
const DiscoverySchema = z.object({
  issuer: z.string(),
  authorization_endpoint: z.string().url(),
  token_endpoint: z.string().url(),
  jwks_uri: z.string().url(),
  end_session_endpoint: z.string().url().optional(),
  revocation_endpoint: z.string().url().optional(),
});
export type OidcMetadata = z.infer<typeof DiscoverySchema>;

/** AUTH.ISSUER_UNREACHABLE (503), keeping why (`cause`: logged by class, code and status, never sent). */
export const issuerUnreachable = (cause?: unknown) =>
  new AppError('AUTH.ISSUER_UNREACHABLE', 'unavailable', 'The sign-in service (identity provider) cannot be reached just now; try again in a minute.', {
    retryAfterSeconds: 30,
  }, cause);

/**
 * One OpenID Connect issuer: its discovery document, read once and kept (a failed read is tried
 * again at the next call, not before `retryAfterMs`), and the `GET /api/auth/config` answer built
 * from the settings, with endpoints the settings name taking precedence over discovered ones.
 */
export class OidcIssuer {
  private cached: Promise<OidcMetadata> | null = null;
  private failedAt = -Infinity;

  constructor(
    readonly settings: OidcSettings,
    private readonly opts: { fetch?: typeof fetch; timeoutMs?: number; retryAfterMs?: number; now?: () => number } = {},
  ) {}

  /** The discovery document; AUTH.ISSUER_UNREACHABLE when it cannot be read or is not the issuer's. */
  metadata(): Promise<OidcMetadata> {
    const now = (this.opts.now ?? Date.now)();
    if (!this.cached && now - this.failedAt < (this.opts.retryAfterMs ?? 5000)) return Promise.reject(issuerUnreachable(new Error('asked again too soon after a failure')));
    this.cached ??= this.discover().catch((e: unknown) => {
      this.cached = null;
      this.failedAt = (this.opts.now ?? Date.now)();
      throw e;
    });
    return this.cached;
  }

  async authConfig(): Promise<AuthConfig> {
    const s = this.settings;
    const named = s.authorizationEndpoint && s.tokenEndpoint;
    const m = named ? null : await this.metadata();
    const endSession = s.endSessionEndpoint ?? m?.end_session_endpoint;
    const revocation = s.revocationEndpoint ?? m?.revocation_endpoint;
    return {
      mode: 'oidc',
      issuer: s.issuer,
      clientId: s.clientId,
      scope: s.scope,
      authorizationEndpoint: s.authorizationEndpoint ?? m!.authorization_endpoint,
      tokenEndpoint: s.tokenEndpoint ?? m!.token_endpoint,
      ...(endSession ? { endSessionEndpoint: endSession } : {}),
      ...(revocation ? { revocationEndpoint: revocation } : {}),
    };
  }

  /**
   * A JSON document the issuer publishes (discovery, its keys); AUTH.ISSUER_UNREACHABLE when it
   * cannot be had (network, timeout, an error status, not JSON). `redirect: 'error'` where an answer
   * from anywhere else must not count.
   */
  async fetchJson(url: string, opts: { redirect?: RequestRedirect } = {}): Promise<unknown> {
    try {
      const r = await (this.opts.fetch ?? fetch)(url, {
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
        headers: { accept: 'application/json' },
        ...(opts.redirect ? { redirect: opts.redirect } : {}),
      });
      if (!r.ok) throw Object.assign(new Error(`HTTP ${r.status}`), { status: r.status });
      return await r.json();
    } catch (e) {
      throw issuerUnreachable(e);
    }
  }

  private async discover(): Promise<OidcMetadata> {
    const body = await this.fetchJson(`${this.settings.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
    const d = DiscoverySchema.safeParse(body);
    // The document must name the very issuer configured (OIDC Discovery §4.3): tokens are checked against it.
    if (!d.success || d.data.issuer !== this.settings.issuer) {
      throw new AppError('AUTH.ISSUER_MISCONFIGURED', 'unavailable', 'The sign-in service is not configured correctly; tell the TeleRead administrator.', undefined, new Error(d.success ? 'the discovery document names another issuer' : 'the discovery document lacks an endpoint'));
    }
    return d.data;
  }
}
