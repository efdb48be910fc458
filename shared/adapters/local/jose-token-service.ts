import { errors, jwtVerify, SignJWT } from 'jose';
import { PrincipalSchema, type Principal } from '../../contracts/auth.ts';
import { AppError } from '../../domain/errors.ts';
import type { TokenService } from '../../ports/auth.ts';

/** HS256 bearer tokens for the single-machine runtime; the secret lives in the data directory. */
export class JoseTokenService implements TokenService {
  private readonly key: Uint8Array;
  constructor(
    secret: Uint8Array,
    private readonly ttlSeconds = 8 * 3600,
    private readonly issuer = 'teleread-local',
  ) {
    if (secret.length < 32) throw new Error('token secret must be at least 32 bytes');
    this.key = secret;
  }

  async issue(p: Principal): Promise<string> {
    return new SignJWT({ role: p.role, clinicId: p.clinicId, pools: p.pools })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(p.userId)
      .setIssuer(this.issuer)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  async verify(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: this.issuer, algorithms: ['HS256'] });
      return PrincipalSchema.parse({ userId: payload.sub, role: payload.role, clinicId: payload.clinicId, pools: payload.pools });
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw new AppError('AUTH.TOKEN_EXPIRED', 'unauthenticated', 'Your session expired: sign in again.');
      throw new AppError('AUTH.INVALID_TOKEN', 'unauthenticated', 'The bearer token is not valid: sign in again.');
    }
  }
}
