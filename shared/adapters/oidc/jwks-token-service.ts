import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Principal } from '../../contracts/auth.ts';
import { AppError } from '../../domain/errors.ts';
import type { TokenService } from '../../ports/auth.ts';
import { invalidToken, principalFromClaims, type VerifiedClaims } from './claims.ts';
import { issuerUnreachable, type OidcIssuer } from './issuer.ts';

/** What an identity provider signs ID tokens with; never `none` or a symmetric key (the client has no secret). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

interface KeySet {
  keys: JWTVerifyGetKey;
  kids: Set<string>;
  fetchedAt: number;
}

/**
 * TokenService for ID tokens of an OpenID Connect issuer, where no gateway in front has verified
 * them (the one-machine runtime): signature by the issuer's published keys, issuer, audience and
 * authorized party = this TeleRead's client, expiry (60 s leeway for clock drift); then the same
 * claim mapping as on AWS, and `admit` (the one machine: the user must be in its consortium file).
 *
 * The keys are kept once fetched and fetched again only for a key id not seen yet (rotation; at
 * most every `refetchAfterMs`) or after `maxAgeMs`; a failed fetch keeps the keys already held (for
 * up to `holdMs`, 24 h, after the last good fetch), so an outage of the provider does not sign
 * anyone out. A token is refused (401) only when it does
 * not check out against keys the provider did publish; when the keys cannot be had, the answer is
 * AUTH.ISSUER_UNREACHABLE (503). Tokens are issued by the identity provider, never here.
 */
export class JwksTokenService implements TokenService {
  private set: KeySet | null = null;
  private fetching: Promise<KeySet> | null = null;
  private lastAttempt = -Infinity;

  constructor(
    private readonly issuer: OidcIssuer,
    private readonly opts: {
      admit?: (p: Principal) => Promise<Principal>;
      now?: () => number;
      refetchAfterMs?: number;
      maxAgeMs?: number;
      /** How long keys are still used after the last successful fetch while the provider cannot be reached. */
      holdMs?: number;
    } = {},
  ) {}

  async issue(): Promise<string> {
    throw new AppError('AUTH.NOT_SUPPORTED', 'invalid', 'Sign in through the identity provider (GET /api/auth/config says where).');
  }

  async verify(token: string): Promise<Principal> {
    const { issuer, clientId } = this.issuer.settings;
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw invalidToken();
    }
    const keys = await this.keysFor(kid);
    let payload: VerifiedClaims;
    try {
      ({ payload } = (await jwtVerify(token, keys, { issuer, audience: clientId, algorithms: ALGORITHMS, clockTolerance: 60 })) as { payload: VerifiedClaims });
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw new AppError('AUTH.TOKEN_EXPIRED', 'unauthenticated', 'Your sign-in has expired: sign in again.');
      throw invalidToken();
    }
    // The party the token was issued to must be this client (OIDC Core §3.1.3.7): a token of another
    // application of the same provider that merely lists this client among its audiences is not ours.
    const aud = payload['aud'];
    const azp = payload['azp'];
    if ((azp !== undefined && azp !== clientId) || (Array.isArray(aud) && aud.length > 1 && azp === undefined)) throw invalidToken();
    const p = principalFromClaims(payload);
    return this.opts.admit ? this.opts.admit(p) : p;
  }

  /** The key set to check a token signed with `kid` against. */
  private async keysFor(kid: string | undefined): Promise<JWTVerifyGetKey> {
    // A fetch on its way (another request met a new key id): wait for it rather than judge by the old keys.
    if (this.fetching) await this.fetching.catch(() => {});
    const now = (this.opts.now ?? Date.now)();
    const held = this.set;
    const age = held ? now - held.fetchedAt : Infinity;
    const stale = age > (this.opts.maxAgeMs ?? 3600_000);
    const unknownKid = held !== null && kid !== undefined && !held.kids.has(kid);
    if (held && !stale && !unknownKid) return held.keys;
    // Not asking the provider again so soon: a token under a key it did not publish is simply invalid.
    if (held && now - this.lastAttempt <= (this.opts.refetchAfterMs ?? 30_000)) {
      if (age <= this.holdMs()) return held.keys;
      throw issuerUnreachable(new Error('the keys held are too old to trust and the provider was just asked'));
    }
    try {
      this.set = await this.fetchKeys();
      return this.set.keys;
    } catch (e) {
      // Keep what is held while the provider is down, so no one is signed out by its outage; but not
      // for ever: a key it has withdrawn (compromised) must not stay good for as long as it is unreachable.
      if (held && !unknownKid && age <= this.holdMs()) return held.keys;
      throw e;
    }
  }

  private holdMs(): number {
    return this.opts.holdMs ?? 24 * 3600_000;
  }

  private fetchKeys(): Promise<KeySet> {
    this.fetching ??= (async () => {
      this.lastAttempt = (this.opts.now ?? Date.now)();
      const { jwks_uri } = await this.issuer.metadata();
      const ks = (await this.issuer.fetchJson(jwks_uri, { redirect: 'error' })) as JSONWebKeySet;
      let keys: JWTVerifyGetKey;
      try {
        keys = createLocalJWKSet(ks);
      } catch (e) {
        throw issuerUnreachable(e);
      }
      return {
        keys,
        kids: new Set(ks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string')),
        fetchedAt: (this.opts.now ?? Date.now)(),
      };
    })().finally(() => {
      this.fetching = null;
    });
    return this.fetching;
  }
}
