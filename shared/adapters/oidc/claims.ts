import { PrincipalSchema, type Principal } from '../../contracts/auth.ts';
import { AppError } from '../../domain/errors.ts';

/** Verified claims of an ID token (as jose returns them, or as API Gateway's JWT authorizer passes them). */
export type VerifiedClaims = Record<string, string | number | boolean | string[] | undefined>;

/** AUTH.INVALID_TOKEN (401): the same words whichever check refused the token. */
export const invalidToken = () => new AppError('AUTH.INVALID_TOKEN', 'unauthenticated', 'The bearer token is not valid: sign in again.');

/** `cognito:groups` arrives as an array, or stringified by API Gateway as "[a b]" / "a,b". */
function list(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String).filter(Boolean);
  if (typeof v !== 'string') return [];
  return v
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Map verified claims to a principal: one role group (`cognito:groups`, or `groups` of another OIDC
 * issuer), the clinic (`custom:clinicId` / `clinicId`) and pools (`custom:pools` / `pools`, comma-separated).
 */
export function principalFromClaims(claims: VerifiedClaims): Principal {
  const groups = list(claims['cognito:groups'] ?? claims['groups']).filter((g) => ['technician', 'reader', 'admin'].includes(g));
  if (groups.length !== 1) throw new AppError('AUTH.NO_ROLE', 'forbidden', 'Your account has no single TeleRead role; ask the administrator.');
  const userId = claims['cognito:username'] ?? claims['preferred_username'] ?? claims['username'] ?? claims['sub'];
  const clinicId = claims['custom:clinicId'] ?? claims['clinicId'];
  const pools = list(claims['custom:pools'] ?? claims['pools']);
  const r = PrincipalSchema.safeParse({
    userId,
    role: groups[0],
    clinicId: typeof clinicId === 'string' && clinicId ? clinicId : undefined,
    pools: pools.length ? pools : undefined,
  });
  if (!r.success) throw invalidToken();
  return r.data;
}
