import { errors, jwtVerify, SignJWT } from 'jose';
import { PrincipalSchema, type Principal } from '../../contracts/auth.ts';
import { AppError } from '../../domain/errors.ts';
import type { TokenService } from '../../ports/auth.ts';

/** How many verified tokens are remembered (a county's signed-in users, many times over). */
const REMEMBERED_TOKENS = 10_000;

/** HS256 bearer tokens for the single-machine runtime; the secret lives in the data directory. */
export class JoseTokenService implements TokenService {
  /**
   * Imported once: given raw bytes, jose imports a WebCrypto key on every call, and with the HMAC
   * itself that was a round trip through the thread pool for each request.
   */
  private readonly key: Promise<CryptoKey>;
  /**
   * Tokens this process has verified, until they expire. Every request of a session carries the same
   * token, and an HS256 token's claims cannot change without its bytes changing, so a token seen
   * valid stays valid until its `exp` (tokens are not revocable here either way).
   */
  private readonly verified = new Map<string, { principal: Principal; expiresAtMs: number }>();

  constructor(
    secret: Uint8Array,
    private readonly ttlSeconds = 8 * 3600,
    private readonly issuer = 'teleread-local',
    private readonly nowMs: () => number = Date.now,
  ) {
    if (secret.length < 32) throw new Error('token secret must be at least 32 bytes');
    this.key = crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  }

  async issue(p: Principal): Promise<string> {
    return new SignJWT({ role: p.role, clinicId: p.clinicId, pools: p.pools })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(p.userId)
      .setIssuer(this.issuer)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(await this.key);
  }

  async verify(token: string): Promise<Principal> {
    const known = this.verified.get(token);
    if (known) {
      if (known.expiresAtMs > this.nowMs()) return known.principal;
      this.verified.delete(token);
      throw new AppError('AUTH.TOKEN_EXPIRED', 'unauthenticated', 'Your session expired: sign in again.');
    }
    let principal: Principal;
    let exp: unknown;
    try {
      const { payload } = await jwtVerify(token, await this.key, {
        issuer: this.issuer,
        algorithms: ['HS256'],
        currentDate: new Date(this.nowMs()),
      });
      exp = payload.exp;
      // Shared by every request that carries this token: frozen, its pool list too.
      const parsed = PrincipalSchema.parse({ userId: payload.sub, role: payload.role, clinicId: payload.clinicId, pools: payload.pools });
      if (parsed.pools) Object.freeze(parsed.pools);
      principal = Object.freeze(parsed);
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw new AppError('AUTH.TOKEN_EXPIRED', 'unauthenticated', 'Your session expired: sign in again.');
      throw new AppError('AUTH.INVALID_TOKEN', 'unauthenticated', 'The bearer token is not valid: sign in again.');
    }
    if (typeof exp === 'number') this.remember(token, principal, exp * 1000);
    return principal;
  }

  private remember(token: string, principal: Principal, expiresAtMs: number): void {
    // Full: forget the oldest (a Map iterates in insertion order); an expired one goes when it is next seen.
    if (this.verified.size >= REMEMBERED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { principal, expiresAtMs });
  }
}
