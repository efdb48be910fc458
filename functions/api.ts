import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import type { Deps } from '../shared/application/deps.ts';
import type { VerifiedClaimsTokenService } from '../shared/adapters/aws/claims-token-service.ts';
import type { AuthConfig } from '../shared/contracts/auth.ts';
import { oidcSettings, type AwsConfig } from './config.ts';
import { OidcIssuer } from '../shared/adapters/oidc/issuer.ts';
import { createApp } from '../shared/http/app.ts';
import { canonicalBytes } from '../shared/signing/canonical.ts';

export type ApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer;

export interface ApiHandlerOptions {
  objectUrl?: (key: string) => Promise<string>;
  /** How the web UI signs in (`GET /api/auth/config`): the OpenID Connect issuer's settings. */
  oidcConfig?: () => Promise<AuthConfig>;
}

/**
 * `GET /api/auth/config` of the configured issuer (undefined without one): one issuer per cold start,
 * so its discovery document, when it must be read at all, is read once and kept.
 */
export function oidcConfigFrom(cfg: AwsConfig): ApiHandlerOptions['oidcConfig'] {
  const settings = oidcSettings(cfg);
  if (!settings) return undefined;
  const issuer = new OidcIssuer(settings);
  return () => issuer.authConfig();
}

/**
 * The api function: the same hono app as the local server, behind API Gateway (HTTP API) with a
 * Cognito JWT authorizer. Each request runs with the claims the authorizer verified; there is no
 * password login (the web UI signs in with the issuer, see `oidcConfig`) and no upload receiver here
 * (clients PUT to presigned S3 URLs).
 */
export function makeApiHandler(deps: Deps, tokens: VerifiedClaimsTokenService, opts: ApiHandlerOptions = {}) {
  const app = createApp(deps, { tokens, canonicalize: canonicalBytes, objectUrl: opts.objectUrl, oidcConfig: opts.oidcConfig });
  const h = handle(app);
  return async (event: ApiEvent, context: Context): Promise<APIGatewayProxyResultV2> => {
    const claims = event.requestContext?.authorizer?.jwt?.claims;
    return tokens.withClaims(claims as Record<string, string> | undefined, () => h(event as never, context as never) as Promise<APIGatewayProxyResultV2>);
  };
}
