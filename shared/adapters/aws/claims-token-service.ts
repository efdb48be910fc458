import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from '../../contracts/auth.ts';
import { AppError } from '../../domain/errors.ts';
import type { TokenService } from '../../ports/auth.ts';
import { invalidToken, principalFromClaims, type VerifiedClaims } from '../oidc/claims.ts';

/**
 * TokenService of the api function. API Gateway's Cognito JWT authorizer has already verified the
 * token (signature, issuer, audience, expiry); the entry point runs each request inside
 * `withClaims(claims, …)`, and `verify` answers the principal of those verified claims. Without
 * verified claims (a route outside the authorizer) every token is refused. Tokens are issued by
 * Cognito, never here.
 */
export class VerifiedClaimsTokenService implements TokenService {
  private readonly als = new AsyncLocalStorage<VerifiedClaims | null>();

  withClaims<T>(claims: VerifiedClaims | null | undefined, fn: () => T): T {
    return this.als.run(claims ?? null, fn);
  }

  async issue(): Promise<string> {
    throw new AppError('AUTH.NOT_SUPPORTED', 'invalid', 'Sign in through the TeleRead user pool (Cognito).');
  }

  async verify(_token: string): Promise<Principal> {
    const claims = this.als.getStore();
    if (!claims) throw invalidToken();
    return principalFromClaims(claims);
  }
}
