/**
 * Sign-in through the consortium's OpenID Connect issuer (Cognito's hosted sign-in on AWS):
 * authorization code + PKCE as a public client, by oauth4webapi. The ID token becomes the API's
 * bearer token; the server verifies it (signature, issuer, audience, expiry) on every request.
 */
import * as oauth from 'oauth4webapi';
import { call, errorOf, loadSession, saveSession, type Session, type User } from './api.ts';

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
      revocationEndpoint?: string;
    };
type OidcConfig = Extract<AuthConfig, { mode: 'oidc' }>;

/** What survives the round trip through the issuer: kept in this tab only, used once. */
const PENDING = 'teleread.oidc.pending';
/** Where the issuer sends the browser back (registered with the issuer as the redirect URI). */
export const CALLBACK_PATH = '/auth/callback';
const SIGNED_OUT_PATH = '/login';
/** However often it is renewed, a session ends this long after its sign-in (an unattended clinic PC). */
const SESSION_MAX_MS = 12 * 3600_000;

/** Asymmetric algorithms only: a public client has no secret an HMAC could use. */
const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** How far this computer's clock is behind the server's (seconds; from the answer's Date header). */
let clockSkew = 0;
let config: Promise<AuthConfig> | null = null;
/** How this TeleRead signs in (asked once per page load; a failure is asked again next time). */
export function authConfig(): Promise<AuthConfig> {
  config ??= (async () => {
    const sent = Date.now();
    const r = await fetch('/api/auth/config');
    const json = (await r.json().catch(() => null)) as AuthConfig | null;
    if (!r.ok) throw errorOf(r, json);
    // A clinic PC's clock may be hours off (a hardware clock kept in local time): the ID token's
    // times are checked against the server's clock instead, as the server checks them again anyway.
    const date = Date.parse(r.headers.get('date') ?? '');
    if (Number.isFinite(date)) clockSkew = Math.round((date - (sent + Date.now()) / 2) / 1000);
    return json as AuthConfig;
  })().catch((e: unknown) => {
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
    ...(c.revocationEndpoint ? { revocation_endpoint: c.revocationEndpoint } : {}),
    id_token_signing_alg_values_supported: ALGS,
  };
}

function client(c: OidcConfig): oauth.Client {
  return { client_id: c.clientId, [oauth.clockSkew]: clockSkew };
}

/** Plain http is accepted only for an issuer on this very computer (tests, a demo); never across a network. */
function insecureAllowed(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}
const requestOptions = (c: OidcConfig) => ({ [oauth.allowInsecureRequests]: insecureAllowed(c.tokenEndpoint) });

/** Why a sign-in through the issuer did not work; `code` picks the message shown in the user's language. */
export class SignInError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Leave for the issuer's sign-in page. It is asked for its sign-in form every time (`prompt=login`),
 * even when it still holds someone's session: at a shared clinic PC, whoever left without signing
 * out must not be who the next person becomes (and a refused account can be swapped for another).
 */
export async function beginSignIn(c: OidcConfig, opts: { language?: string } = {}): Promise<void> {
  // PKCE needs WebCrypto, which browsers give only to https pages (and pages of this computer).
  if (!globalThis.isSecureContext || !crypto.subtle) {
    throw new SignInError('AUTH.NEEDS_HTTPS', 'Signing in needs this page on https; ask the administrator for the https address of TeleRead.');
  }
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
  u.searchParams.set('prompt', 'login');
  if (opts.language) u.searchParams.set('ui_locales', opts.language);
  location.assign(u.href);
}

/** One completion per arrival at the callback, however many times the page asks (React's StrictMode runs effects twice). */
let completing: { url: string; result: Promise<Session> } | null = null;

/**
 * Back from the issuer at CALLBACK_PATH: check the answer belongs to the sign-in this tab started
 * (state), trade the code for tokens (PKCE verifier; the ID token's issuer, audience, expiry and
 * nonce are checked), then ask TeleRead who that is.
 */
export function completeSignIn(c: OidcConfig, here: URL): Promise<Session> {
  if (completing?.url !== here.href) completing = { url: here.href, result: complete(c, here) };
  return completing.result;
}

async function complete(c: OidcConfig, here: URL): Promise<Session> {
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (!raw) throw new SignInError('AUTH.NO_PENDING_SIGN_IN', 'This page was opened without a sign-in started here (an old link, or another tab). Sign in again.');
  const pending = JSON.parse(raw) as { verifier: string; state: string; nonce: string };
  const as = server(c);
  let result: oauth.TokenEndpointResponse;
  try {
    const params = oauth.validateAuthResponse(as, client(c), here, pending.state);
    const response = await oauth.authorizationCodeGrantRequest(as, client(c), oauth.None(), params, redirectUri(), pending.verifier, requestOptions(c));
    result = await oauth.processAuthorizationCodeResponse(as, client(c), response, { expectedNonce: pending.nonce, requireIdToken: true });
  } catch (e) {
    // The issuer's own refusal (e.g. access_denied) says what happened; anything else is a broken round trip.
    if (e instanceof oauth.AuthorizationResponseError) throw new SignInError(`OIDC.${e.error.toUpperCase()}`, e.error_description ?? e.error);
    throw new SignInError('OIDC.FAILED', e instanceof Error ? e.message : String(e));
  }
  const idToken = result.id_token;
  if (!idToken) throw new SignInError('OIDC.FAILED', 'The identity provider gave no ID token.');
  const user = await call<User>('GET', '/api/auth/session', undefined, { bearer: idToken });
  const renewal = renewalOf(result, undefined, Date.now() + SESSION_MAX_MS);
  return { token: idToken, user, ...(renewal ? { renewal } : {}) };
}

/**
 * When to renew: after 80 % of the ID token's lifetime, counted on this computer's clock from now
 * (the token's own times are the issuer's clock).
 */
function renewalOf(result: oauth.TokenEndpointResponse, previous: string | undefined, until: number): Session['renewal'] {
  const refreshToken = result.refresh_token ?? previous;
  const claims = oauth.getValidatedIdTokenClaims(result);
  if (!refreshToken || !claims) return undefined;
  const lifetimeMs = Math.max(0, (claims.exp - claims.iat) * 1000);
  return { refreshToken, at: Date.now() + lifetimeMs * 0.8, sub: claims.sub, until };
}

let renewing: Promise<boolean> | null = null;
/** When renewals began to fail without an answer (this computer's clock), or null. */
let failingSince: number | null = null;

/**
 * Renew the stored session's ID token with its refresh token, so a reader is not sent to the sign-in
 * page in the middle of a report. One renewal at a time for the tab (a refresh token may be good for
 * one use only). True when the stored session now holds a new token; false when it cannot be renewed
 * (none to renew, past the session's end, or the issuer refused: then it is not tried again). Throws
 * when the issuer could not be reached (worth trying again).
 */
export function renewStoredSession(): Promise<boolean> {
  renewing ??= renew().finally(() => {
    renewing = null;
  });
  return renewing;
}

/** This session is not renewed again: the token in hand lasts until it expires, then the sign-in page. */
function stopRenewing(s: Session): false {
  const { renewal: _dropped, ...rest } = s;
  if (loadSession()?.token === s.token) saveSession(rest);
  return false;
}

async function renew(): Promise<boolean> {
  const s = loadSession();
  if (!s?.renewal) return false;
  // (A session saved without an end is treated as ended: the cap must hold for every session.)
  if (!(Date.now() < s.renewal.until)) return stopRenewing(s);
  const c = await authConfig();
  if (c.mode !== 'oidc') return stopRenewing(s);
  const as = server(c);
  let result: oauth.TokenEndpointResponse;
  try {
    const response = await oauth.refreshTokenGrantRequest(as, client(c), oauth.None(), s.renewal.refreshToken, requestOptions(c));
    result = await oauth.processRefreshTokenResponse(as, client(c), response);
  } catch (e) {
    // The issuer refused the refresh token (expired, revoked, used elsewhere): not worth asking again.
    if (e instanceof oauth.ResponseBodyError) return stopRenewing(s);
    // Unreachable, or a refusal the browser cannot read (Cognito's token endpoint sends its error
    // answers without CORS headers): tried again, but after 5 minutes of failures it counts as refused,
    // so no one is left on a page whose every call fails.
    failingSince ??= Date.now();
    if (Date.now() - failingSince > 5 * 60_000) {
      failingSince = null;
      return stopRenewing(s);
    }
    throw e;
  }
  failingSince = null;
  // The same person: a renewed token for someone else (a provider bug, a mixed-up session) is not taken.
  if (!result.id_token || oauth.getValidatedIdTokenClaims(result)?.sub !== s.renewal.sub) return stopRenewing(s);
  // Signed out (or in as someone else) while the renewal was on its way: keep out of that session.
  if (loadSession()?.token !== s.token) return false;
  const renewal = renewalOf(result, s.renewal.refreshToken, s.renewal.until);
  saveSession({ ...s, token: result.id_token, ...(renewal ? { renewal } : { renewal: undefined }) });
  return true;
}

/**
 * Sign out at the issuer too: its refresh token is revoked (no one can renew this session from a
 * copy), then the issuer's sign-out page ends its own session, so the next person at a shared
 * clinic PC is not signed straight back in. Returns where to go, or null when the issuer has no
 * sign-out page.
 */
export async function signOutAtIssuer(c: AuthConfig, s: Session): Promise<string | null> {
  if (c.mode !== 'oidc') return null;
  if (s.renewal && c.revocationEndpoint) {
    const revoke = oauth
      .revocationRequest(server(c), client(c), oauth.None(), s.renewal.refreshToken, requestOptions(c))
      .then((r) => r.body?.cancel())
      .catch(() => {});
    await Promise.race([revoke, new Promise((r) => setTimeout(r, 2000))]);
  }
  if (!c.endSessionEndpoint) return null;
  const u = new URL(c.endSessionEndpoint);
  const back = `${location.origin}${SIGNED_OUT_PATH}`;
  // client_id rather than id_token_hint: the ID token is the API's bearer token, and a URL lands in
  // the browser's history on a shared clinic PC.
  u.searchParams.set('client_id', c.clientId);
  u.searchParams.set('post_logout_redirect_uri', back);
  // Cognito's /logout names the same thing logout_uri.
  u.searchParams.set('logout_uri', back);
  return u.href;
}
