import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Principal } from '../../contracts/auth.ts';
import { AppError } from '../../domain/errors.ts';
import type { TokenService } from '../../ports/auth.ts';
import { principalFromClaims, type VerifiedClaims } from './claims.ts';
import type { OidcIssuer } from './issuer.ts';

/** What an identity provider signs ID tokens with; never `none` or a symmetric key (the client has no secret). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * TokenService for ID tokens of an OpenID Connect issuer, where no gateway in front has verified
 * them (the one-machine runtime): signature by the issuer's published keys (fetched from its
 * `jwks_uri`, refreshed when an unknown key id appears), issuer, audience = this TeleRead's client,
 * expiry (60 s leeway for clock drift); then the same claim mapping as on AWS. Tokens are issued
 * by the identity provider, never here.
 */
export class JwksTokenService implements TokenService {
  private keys: JWTVerifyGetKey | null = null;

  constructor(private readonly issuer: OidcIssuer) {}

  async issue(): Promise<string> {
    throw new AppError('AUTH.NOT_SUPPORTED', 'invalid', 'Sign in through the identity provider (GET /api/auth/config says where).');
  }

  async verify(token: string): Promise<Principal> {
    const { issuer, clientId } = this.issuer.settings;
    if (!this.keys) this.keys = createRemoteJWKSet(new URL((await this.issuer.metadata()).jwks_uri));
    let payload: VerifiedClaims;
    try {
      ({ payload } = (await jwtVerify(token, this.keys, { issuer, audience: clientId, algorithms: ALGORITHMS, clockTolerance: 60 })) as {
        payload: VerifiedClaims;
      });
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw new AppError('AUTH.TOKEN_EXPIRED', 'unauthenticated', 'Your sign-in has expired: sign in again.');
      // The keys could not be fetched: the provider is down, not the caller's token wrong.
      if (e instanceof errors.JWKSTimeout || (e instanceof Error && !(e instanceof errors.JOSEError))) {
        throw new AppError('AUTH.ISSUER_UNREACHABLE', 'unavailable', 'The sign-in service (identity provider) cannot be reached just now; try again in a minute.');
      }
      throw new AppError('AUTH.INVALID_TOKEN', 'unauthenticated', 'The bearer token is not valid: sign in again.');
    }
    // An ID token with several audiences is for this client only if it names it as `azp` (OIDC Core §3.1.3.7).
    const aud = payload['aud'];
    if (Array.isArray(aud) && aud.length > 1 && payload['azp'] !== clientId) {
      throw new AppError('AUTH.INVALID_TOKEN', 'unauthenticated', 'The bearer token is not valid: sign in again.');
    }
    return principalFromClaims(payload);
  }
}
