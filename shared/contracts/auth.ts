import { z } from 'zod';

export const ROLES = ['technician', 'reader', 'admin'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

/** The authenticated caller, as carried by the bearer token. */
export const PrincipalSchema = z.object({
  userId: z.string(),
  role: RoleSchema,
  clinicId: z.string().optional(),
  pools: z.array(z.string()).optional(),
});
export type Principal = z.infer<typeof PrincipalSchema>;

export const LoginRequestSchema = z.object({
  username: z.string().min(1, 'username is required').max(100),
  password: z.string().min(1, 'password is required').max(200),
});
/** A password an operator sets on one machine (the identity provider's own policy applies on AWS). */
export const NewPasswordSchema = z
  .string()
  .min(12, 'a password has at least 12 characters')
  .max(200, 'a password has at most 200 characters (the longest sign-in accepts)')
  .refine((p) => p.trim() === p, 'a password does not start or end with a space (they are easily lost when typed)');

export const LoginResponseSchema = z.object({
  token: z.string(),
  user: z.object({
    id: z.string(),
    role: RoleSchema,
    displayName: z.string(),
    clinicId: z.string().optional(),
    pools: z.array(z.string()).optional(),
  }),
});

/** Whether an OAuth scope string asks for OpenID Connect (`openid`): without it no ID token comes back. */
export const asksForIdToken = (scope: string) => scope.split(/\s+/).includes('openid');

/**
 * Sign-in through an OpenID Connect issuer (Cognito's hosted sign-in on AWS, the consortium's own
 * identity provider elsewhere): what the server knows of it. Endpoints left out are read from the
 * issuer's discovery document (`<issuer>/.well-known/openid-configuration`).
 */
export const OidcSettingsSchema = z.object({
  issuer: z.string().url(),
  /** The public client (no secret) the web UI signs in with; ID tokens carry it as `aud`. */
  clientId: z.string().min(1),
  scope: z.string().min(1).default('openid'),
  authorizationEndpoint: z.string().url().optional(),
  tokenEndpoint: z.string().url().optional(),
  /** RP-initiated logout (OIDC `end_session_endpoint`, or Cognito's `/logout`). */
  endSessionEndpoint: z.string().url().optional(),
  /** Refresh-token revocation (RFC 7009), used at sign-out. */
  revocationEndpoint: z.string().url().optional(),
});
export type OidcSettings = z.infer<typeof OidcSettingsSchema>;

/** `GET /api/auth/config` (public): how a client signs in to this TeleRead. */
export const AuthConfigSchema = z.discriminatedUnion('mode', [
  /** `POST /api/auth/login` with a username and password (one machine, its own users). */
  z.object({ mode: z.literal('password') }),
  /** Authorization code + PKCE against the issuer; the ID token is the bearer token. */
  z.object({
    mode: z.literal('oidc'),
    issuer: z.string().url(),
    clientId: z.string(),
    scope: z.string(),
    authorizationEndpoint: z.string().url(),
    tokenEndpoint: z.string().url(),
    endSessionEndpoint: z.string().url().optional(),
    revocationEndpoint: z.string().url().optional(),
  }),
]);
export type AuthConfig = z.infer<typeof AuthConfigSchema>;

/** The signed-in user as the web UI shows it (`POST /api/auth/login`'s `user`, `GET /api/auth/session`). */
export const SessionUserSchema = LoginResponseSchema.shape.user;
