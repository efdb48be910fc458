/**
 * Sign-in through the consortium's OpenID Connect issuer (Cognito's hosted sign-in on AWS):
 * authorization code + PKCE as a public client, by oauth4webapi. The ID token becomes the API's
 * bearer token; the server verifies it (signature, issuer, audience, expiry) on every request.
 */
import * as oauth from 'oauth4webapi';
import { call, type Session, type User } from './api.ts';

export type AuthConfig =
  | { mode: 'password' }
  | {
      mode: 'oidc';
      issuer: string;
      clientId: string;
      scope: string;
      authorizationEndpoint: string;
      tokenEndpoint: string;
      endSessionEndpoint?: string;
    };
type OidcConfig = Extract<AuthConfig, { mode: 'oidc' }>;

/** What survives the round trip through the issuer: kept in this tab only, used once. */
const PENDING = 'teleread.oidc.pending';
/** Where the issuer sends the browser back (registered with the issuer as the redirect URI). */
export const CALLBACK_PATH = '/auth/callback';
const SIGNED_OUT_PATH = '/login';

/** Asymmetric algorithms only: a public client has no secret an HMAC could use. */
const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

let config: Promise<AuthConfig> | null = null;
/** How this TeleRead signs in (asked once per page load; a failure is asked again next time). */
export function authConfig(): Promise<AuthConfig> {
  config ??= call<AuthConfig>('GET', '/api/auth/config').catch((e: unknown) => {
    config = null;
    throw e;
  });
  return config;
}

const redirectUri = () => `${location.origin}${CALLBACK_PATH}`;

function server(c: OidcConfig): oauth.AuthorizationServer {
  return {
    issuer: c.issuer,
    authorization_endpoint: c.authorizationEndpoint,
    token_endpoint: c.tokenEndpoint,
    id_token_signing_alg_values_supported: ALGS,
  };
}

/** Plain http is accepted only for an issuer on this very computer (tests, a demo); never across a network. */
function insecureAllowed(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}

/** Leave for the issuer's sign-in page. */
export async function beginSignIn(c: OidcConfig): Promise<void> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce }));
  const u = new URL(c.authorizationEndpoint);
  u.searchParams.set('client_id', c.clientId);
  u.searchParams.set('redirect_uri', redirectUri());
  u.searchParams.set('response_type', 'code');
  u.searchParams.set('scope', c.scope);
  u.searchParams.set('state', state);
  u.searchParams.set('nonce', nonce);
  u.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  u.searchParams.set('code_challenge_method', 'S256');
  location.assign(u.href);
}

/** Why a return from the issuer did not sign in; `code` is shown to the user with the message. */
export class SignInError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Back from the issuer at CALLBACK_PATH: check the answer belongs to the sign-in this tab started
 * (state), trade the code for tokens (PKCE verifier; the ID token's issuer, audience, expiry and
 * nonce are checked), then ask TeleRead who that is.
 */
export async function completeSignIn(c: OidcConfig, here: URL): Promise<Session> {
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (!raw) throw new SignInError('AUTH.NO_PENDING_SIGN_IN', 'This page was opened without a sign-in started here (an old link, or another tab). Sign in again.');
  const pending = JSON.parse(raw) as { verifier: string; state: string; nonce: string };
  const as = server(c);
  const client: oauth.Client = { client_id: c.clientId };
  const insecure = { [oauth.allowInsecureRequests]: insecureAllowed(c.tokenEndpoint) };
  let result: oauth.TokenEndpointResponse;
  try {
    const params = oauth.validateAuthResponse(as, client, here, pending.state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri(), pending.verifier, insecure);
    result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: pending.nonce, requireIdToken: true });
  } catch (e) {
    // The issuer's own refusal (e.g. access_denied) says what happened; anything else is a broken round trip.
    if (e instanceof oauth.AuthorizationResponseError) {
      throw new SignInError(`OIDC.${e.error.toUpperCase()}`, e.error_description ?? e.error);
    }
    throw new SignInError('OIDC.FAILED', e instanceof Error ? e.message : String(e));
  }
  const idToken = result.id_token;
  if (!idToken) throw new SignInError('OIDC.FAILED', 'The identity provider gave no ID token.');
  const user = await call<User>('GET', '/api/auth/session', undefined, { bearer: idToken });
  return { token: idToken, user, ...renewalOf(result, undefined) };
}

/**
 * When to renew: after 80 % of the ID token's lifetime, counted on this computer's clock from now
 * (the token's own times are the issuer's clock, which a clinic PC's need not match).
 */
function renewalOf(result: oauth.TokenEndpointResponse, previous: string | undefined): Pick<Session, 'renewal'> {
  const refreshToken = result.refresh_token ?? previous;
  const claims = oauth.getValidatedIdTokenClaims(result);
  if (!refreshToken || !claims) return {};
  const lifetimeMs = Math.max(0, (claims.exp - claims.iat) * 1000);
  return { renewal: { refreshToken, at: Date.now() + lifetimeMs * 0.8, sub: claims.sub } };
}

/**
 * A new ID token for a session signed in through the issuer (its refresh token), so a reader is
 * not sent back to the sign-in page in the middle of a report when the first token expires. Null
 * when the session cannot be renewed (no refresh token, or the issuer gave no ID token); throws when
 * the issuer refused or could not be reached.
 */
export async function renewSession(c: AuthConfig, s: Session): Promise<Session | null> {
  if (c.mode !== 'oidc' || !s.renewal) return null;
  const as = server(c);
  const client: oauth.Client = { client_id: c.clientId };
  const insecure = { [oauth.allowInsecureRequests]: insecureAllowed(c.tokenEndpoint) };
  const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), s.renewal.refreshToken, insecure);
  const result = await oauth.processRefreshTokenResponse(as, client, response);
  if (!result.id_token) return null;
  // The same person: a renewed token for someone else (a provider bug, a mixed-up session) is not taken.
  if (oauth.getValidatedIdTokenClaims(result)?.sub !== s.renewal.sub) return null;
  return { ...s, token: result.id_token, ...renewalOf(result, s.renewal.refreshToken) };
}

/** The issuer's sign-out page (so its own session ends too), when it has one; else null. */
export function signOutUrl(c: AuthConfig, idToken: string): string | null {
  if (c.mode !== 'oidc' || !c.endSessionEndpoint) return null;
  const u = new URL(c.endSessionEndpoint);
  const back = `${location.origin}${SIGNED_OUT_PATH}`;
  u.searchParams.set('client_id', c.clientId);
  u.searchParams.set('id_token_hint', idToken);
  u.searchParams.set('post_logout_redirect_uri', back);
  // Cognito's /logout names the same thing logout_uri.
  u.searchParams.set('logout_uri', back);
  return u.href;
}
