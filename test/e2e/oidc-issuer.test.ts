import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startOidcIssuer, type TestOidcIssuer } from '../support/oidc-issuer.ts';

/**
 * The test OpenID Provider driven the way the web UI's browser will drive it, with Node's fetch
 * alone: redirects followed by hand and cookies carried, so every hop of the code flow is seen.
 */

const clientId = 'teleread-web';
// The web UI's origin: only ever a redirect target and an Origin header, nothing listens there.
const webOrigin = 'http://127.0.0.1:4999';
const redirectUri = `${webOrigin}/auth/callback`;
const postLogoutUri = `${webOrigin}/signed-out`;
const idTokenTtlSeconds = 900;

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  end_session_endpoint: string;
  code_challenge_methods_supported: string[];
}

/** Just enough of a browser's cookie store: one issuer host, names unique across paths. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expires = attributes.map((a) => /^\s*expires=(.*)$/i.exec(a)?.[1]).find(Boolean);
      const gone = !value || (expires !== undefined && Date.parse(expires) <= Date.now());
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

async function send(jar: CookieJar, url: string | URL, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: jar.header() } });
  jar.take(res);
  return res;
}

const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

let op: TestOidcIssuer;
let meta: Discovery;
const consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m));

beforeAll(async () => {
  op = await startOidcIssuer({
    clientId,
    redirectUris: [redirectUri],
    postLogoutRedirectUris: [postLogoutUri],
    idTokenTtlSeconds,
    accounts: [
      { username: 'tech-a', claims: { groups: ['technician'], clinicId: 'clinic-a', preferred_username: 'tech-a' } },
      { username: 'reader-1', claims: { groups: ['reader'], pools: 'pool-east,pool-west', preferred_username: 'Reader One' } },
    ],
  });
  const res = await fetch(`${op.issuer}/.well-known/openid-configuration`);
  expect(res.status).toBe(200);
  meta = (await res.json()) as Discovery;
});

afterAll(async () => {
  await op?.stop();
  for (const spy of consoleSpies) spy.mockRestore();
});

function authorizationRequest(extra: Record<string, string> = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: 'openid',
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  return { url, verifier, state, nonce };
}

/**
 * Follows the issuer's redirects, filling its sign-in form as `username` whenever it is shown,
 * until a redirect leaves the issuer; that URL (the client's redirect URI) is returned.
 */
async function browse(jar: CookieJar, start: URL, username: string): Promise<{ landed: URL; formsFilled: number }> {
  let url = start;
  let res = await send(jar, url);
  let formsFilled = 0;
  for (let hop = 0; hop < 12; hop++) {
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location') ?? '', url);
      if (next.origin !== op.issuer) return { landed: next, formsFilled };
      url = next;
      res = await send(jar, url);
    } else if (res.status === 200 && url.pathname.startsWith('/interaction/')) {
      const html = await res.text();
      // The contract a browser test relies on: these exact field names and button text.
      expect(html).toMatch(/<input[^>]*type="text"[^>]*name="login"/);
      expect(html).toMatch(/<input[^>]*type="password"[^>]*name="password"/);
      expect(html).toContain('<button type="submit">Sign in</button>');
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      expect(action).toBe(url.pathname);
      formsFilled++;
      url = new URL(action!, url);
      res = await send(jar, url, form({ login: username, password: 'whatever' }));
    } else {
      throw new Error(`unexpected HTTP ${res.status} at ${url.href}: ${(await res.text()).slice(0, 300)}`);
    }
  }
  throw new Error('too many redirects');
}

function exchange(code: string, verifier: string, origin?: string): Promise<Response> {
  return fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}) },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId, code_verifier: verifier }).toString(),
  });
}

async function codeFor(username: string, jar = new CookieJar()) {
  const req = authorizationRequest();
  const { landed } = await browse(jar, req.url, username);
  const code = landed.searchParams.get('code');
  expect(code, landed.href).toBeTruthy();
  return { ...req, code: code!, landed, jar };
}

describe('test OpenID provider', () => {
  it('publishes a discovery document naming the configured loopback issuer', () => {
    expect(op.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(meta.issuer).toBe(op.issuer);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    for (const endpoint of [meta.authorization_endpoint, meta.token_endpoint, meta.jwks_uri, meta.end_session_endpoint]) {
      expect(endpoint.startsWith(`${op.issuer}/`)).toBe(true);
    }
  });

  it('runs the authorization code flow with PKCE for a public client and puts the account claims in the ID token', async () => {
    const { code, verifier, state, nonce, landed } = await codeFor('tech-a');
    expect(`${landed.origin}${landed.pathname}`).toBe(redirectUri);
    expect(landed.searchParams.get('state')).toBe(state);
    expect(landed.searchParams.get('iss')).toBe(op.issuer);

    const res = await exchange(code, verifier, webOrigin);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(webOrigin);
    const tokens = (await res.json()) as { id_token: string; token_type: string; refresh_token?: string };
    expect(tokens.token_type).toBe('Bearer');
    // A refresh token comes with the code exchange (as Cognito gives one), to renew the ID token.
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const jwks = createRemoteJWKSet(new URL(meta.jwks_uri));
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token, jwks, { issuer: op.issuer, audience: clientId });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ sub: 'tech-a', groups: ['technician'], clinicId: 'clinic-a', preferred_username: 'tech-a', nonce });
    expect(payload.exp! - payload.iat!).toBe(idTokenTtlSeconds);

    // The refresh token gives a new ID token for the same account, still with the claims.
    const renewed = await fetch(meta.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: clientId }),
    });
    expect(renewed.status).toBe(200);
    const again = (await renewed.json()) as { id_token: string };
    const { payload: p2 } = await jwtVerify(again.id_token, jwks, { issuer: op.issuer, audience: clientId });
    expect(p2).toMatchObject({ sub: 'tech-a', groups: ['technician'], clinicId: 'clinic-a' });

    // The code is single-use (and a second use revokes what it gave).
    expect((await exchange(code, verifier)).status).toBe(400);
  });

  it('carries a comma-separated pools claim as given', async () => {
    const { code, verifier } = await codeFor('reader-1');
    const res = await exchange(code, verifier);
    const { id_token } = (await res.json()) as { id_token: string };
    const { payload } = await jwtVerify(id_token, createRemoteJWKSet(new URL(meta.jwks_uri)), { issuer: op.issuer, audience: clientId });
    expect(payload).toMatchObject({ sub: 'reader-1', groups: ['reader'], pools: 'pool-east,pool-west', preferred_username: 'Reader One' });
    expect(payload['clinicId']).toBeUndefined();
  });

  it('refuses a wrong code_verifier', async () => {
    const { code } = await codeFor('tech-a');
    const res = await exchange(code, randomBytes(32).toString('base64url'));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('refuses an authorization request without a PKCE challenge', async () => {
    const { url, state } = authorizationRequest();
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    const res = await fetch(url, { redirect: 'manual' });
    const back = new URL(res.headers.get('location') ?? '', url);
    expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('state')).toBe(state);
    expect(back.searchParams.has('code')).toBe(false);
  });

  it('keeps the sign-in form up for an unknown user', async () => {
    const jar = new CookieJar();
    const first = await send(jar, authorizationRequest().url);
    const interaction = new URL(first.headers.get('location') ?? '', meta.authorization_endpoint);
    expect(interaction.pathname).toMatch(/^\/interaction\/[\w-]+$/);
    expect((await send(jar, interaction)).status).toBe(200);
    const res = await send(jar, interaction, form({ login: 'nobody', password: 'x' }));
    expect(res.status).toBe(401);
    const html = await res.text();
    expect(html).toContain('role="alert"');
    expect(html).toContain('name="login"');
  });

  it('answers CORS on the token endpoint for the web origin only', async () => {
    const preflight = await fetch(meta.token_endpoint, {
      method: 'OPTIONS',
      headers: { origin: webOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(webOrigin);

    const { code, verifier } = await codeFor('tech-a');
    const foreign = await exchange(code, verifier, 'http://127.0.0.1:1');
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('signs in silently while the session lasts, and ends it by RP-initiated logout', async () => {
    const first = await codeFor('tech-a');
    const tokens = (await (await exchange(first.code, first.verifier)).json()) as { id_token: string };

    const again = await browse(first.jar, authorizationRequest().url, 'tech-a');
    expect(again.formsFilled).toBe(0);
    expect(again.landed.searchParams.get('code')).toBeTruthy();

    // `logout_uri` is what Cognito's logout takes; a standard provider must just ignore it.
    const logoutState = randomBytes(8).toString('base64url');
    const end = new URL(meta.end_session_endpoint);
    end.search = new URLSearchParams({
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: postLogoutUri,
      state: logoutState,
      logout_uri: postLogoutUri,
    }).toString();
    const confirm = await send(first.jar, end);
    expect(confirm.status).toBe(200);
    const html = await confirm.text();
    // The page submits itself in a browser; here its form is posted by hand.
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(html).toMatch(/name="logout" value="yes"/);
    expect(html).toContain('.submit()');
    const done = await send(first.jar, new URL(action!, end), form({ xsrf: xsrf!, logout: 'yes' }));
    expect(done.status).toBe(303);
    const back = new URL(done.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe(postLogoutUri);
    expect(back.searchParams.get('state')).toBe(logoutState);

    const afterLogout = await browse(first.jar, authorizationRequest().url, 'tech-a');
    expect(afterLogout.formsFilled).toBe(1);
  });

  it('honours post_logout_redirect_uri given with client_id instead of id_token_hint', async () => {
    const { jar } = await codeFor('reader-1');
    const end = new URL(meta.end_session_endpoint);
    end.search = new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: postLogoutUri, logout_uri: postLogoutUri }).toString();
    const html = await (await send(jar, end)).text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    const done = await send(jar, new URL(action!, end), form({ xsrf: xsrf!, logout: 'yes' }));
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(postLogoutUri);
  });

  it('stays quiet on the console', () => {
    for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled();
  });
});
