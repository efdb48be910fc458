import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcIssuer } from '../../../shared/adapters/oidc/issuer.ts';
import { JwksTokenService } from '../../../shared/adapters/oidc/jwks-token-service.ts';
import { loadLocalConfig } from '../../../shared/contracts/config.ts';
import { startTestServer, type TestServer } from '../../support/local-server.ts';

/**
 * The server side of OpenID Connect sign-in against a stand-in issuer on loopback that publishes a
 * discovery document and a JWKS, so tokens with every kind of fault can be made here. (The whole
 * browser flow against a real provider is test/browser/oidc-sign-in.test.ts.)
 */
const CLIENT = 'teleread-web';
let server: Server;
let issuer: string;
let signKey: CryptoKey;
let otherKey: CryptoKey;
let jwk: JWK;
let requests: string[] = [];
let down = false;
/** What the JWKS endpoint answers: the published keys, or an HTTP error status. */
let jwksStatus = 200;
let published: JWK[] = [];

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  signKey = pair.privateKey as CryptoKey;
  otherKey = (await generateKeyPair('ES256')).privateKey as CryptoKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  published = [jwk];
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (down) return res.destroy();
    const send = (body: unknown) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      return send({
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        end_session_endpoint: `${issuer}/session/end`,
      });
    }
    if (req.url === '/jwks') {
      if (jwksStatus !== 200) {
        res.statusCode = jwksStatus;
        return res.end('<html>maintenance</html>');
      }
      return send({ keys: published });
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const technician = { groups: ['technician'], clinicId: 'clinic-a', preferred_username: 'tech-a' };

function idToken(claims: Record<string, unknown> = technician, o: { key?: CryptoKey; iss?: string; aud?: string | string[]; exp?: number | string; kid?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: o.kid ?? 'k1' })
    .setIssuer(o.iss ?? issuer)
    .setAudience(o.aud ?? CLIENT)
    .setSubject('0b1c-tech-a')
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '10m')
    .sign(o.key ?? signKey);
}

const settings = () => ({ issuer, clientId: CLIENT, scope: 'openid' });

describe('OidcIssuer', () => {
  it('reads the discovery document once and answers the sign-in configuration from it', async () => {
    requests = [];
    const i = new OidcIssuer(settings());
    const a = await i.authConfig();
    await i.authConfig();
    expect(a).toEqual({
      mode: 'oidc',
      issuer,
      clientId: CLIENT,
      scope: 'openid',
      authorizationEndpoint: `${issuer}/auth`,
      tokenEndpoint: `${issuer}/token`,
      endSessionEndpoint: `${issuer}/session/end`,
    });
    expect(requests.filter((u) => u === '/.well-known/openid-configuration')).toHaveLength(1);
  });

  it('needs no network when the endpoints are named (Cognito on AWS)', async () => {
    requests = [];
    const i = new OidcIssuer({ ...settings(), authorizationEndpoint: 'https://x.example/oauth2/authorize', tokenEndpoint: 'https://x.example/oauth2/token' });
    expect(await i.authConfig()).toMatchObject({ authorizationEndpoint: 'https://x.example/oauth2/authorize', tokenEndpoint: 'https://x.example/oauth2/token' });
    expect(requests).toEqual([]);
  });

  it('refuses a discovery document naming another issuer', async () => {
    const i = new OidcIssuer({ ...settings(), issuer: `${issuer}/` });
    await expect(i.authConfig()).rejects.toMatchObject({ code: 'AUTH.ISSUER_MISCONFIGURED', kind: 'unavailable' });
  });

  it('says the issuer is unreachable, and asks again only after a pause', async () => {
    let t = 0;
    down = true;
    try {
      const i = new OidcIssuer(settings(), { now: () => t, retryAfterMs: 5000, timeoutMs: 2000 });
      await expect(i.metadata()).rejects.toMatchObject({ code: 'AUTH.ISSUER_UNREACHABLE' });
      requests = [];
      t = 1000;
      await expect(i.metadata()).rejects.toMatchObject({ code: 'AUTH.ISSUER_UNREACHABLE' });
      expect(requests).toEqual([]);
      down = false;
      t = 6000;
      expect((await i.metadata()).jwks_uri).toBe(`${issuer}/jwks`);
    } finally {
      down = false;
    }
  });
});

describe('JwksTokenService', () => {
  const svc = () => new JwksTokenService(new OidcIssuer(settings()));

  it('takes an ID token of the issuer for this client and maps its claims', async () => {
    expect(await svc().verify(await idToken())).toEqual({ userId: 'tech-a', role: 'technician', clinicId: 'clinic-a' });
    const reader = await idToken({ groups: ['reader'], pools: 'ecg,radiography', preferred_username: 'rad-reader' });
    expect(await svc().verify(reader)).toEqual({ userId: 'rad-reader', role: 'reader', pools: ['ecg', 'radiography'] });
  });

  it.each([
    ['another audience (a token for another application)', () => idToken(technician, { aud: 'other-app' })],
    ['another issuer', () => idToken(technician, { iss: 'http://127.0.0.1:1' })],
    ['a key the issuer does not publish', () => idToken(technician, { key: otherKey, kid: 'k2' })],
    ['a forged signature under the published key id', () => idToken(technician, { key: otherKey })],
    ['several audiences and no azp naming this client', () => idToken(technician, { aud: [CLIENT, 'other-app'] })],
    ['an HMAC token (alg HS256)', () => new SignJWT(technician).setProtectedHeader({ alg: 'HS256' }).setIssuer(issuer).setAudience(CLIENT).setExpirationTime('10m').sign(new TextEncoder().encode('x'.repeat(32)))],
    ['not a JWT', async () => 'abc.def'],
  ])('refuses %s', async (_, make) => {
    await expect(svc().verify(await make())).rejects.toMatchObject({ code: 'AUTH.INVALID_TOKEN', kind: 'unauthenticated' });
  });

  it('says an expired token has expired (beyond the minute of clock drift it allows)', async () => {
    const s = svc();
    const past = Math.floor(Date.now() / 1000);
    await expect(s.verify(await idToken(technician, { exp: past - 120 }))).rejects.toMatchObject({ code: 'AUTH.TOKEN_EXPIRED' });
    expect((await s.verify(await idToken(technician, { exp: past - 30 }))).userId).toBe('tech-a');
  });

  it('refuses a valid token without exactly one TeleRead role', async () => {
    await expect(svc().verify(await idToken({ groups: ['technician', 'admin'], preferred_username: 'x' }))).rejects.toMatchObject({ code: 'AUTH.NO_ROLE' });
    await expect(svc().verify(await idToken({ preferred_username: 'x' }))).rejects.toMatchObject({ code: 'AUTH.NO_ROLE' });
  });

  it('answers 503-kind when the issuer cannot be reached, not "invalid token"', async () => {
    down = true;
    try {
      await expect(svc().verify(await idToken())).rejects.toMatchObject({ code: 'AUTH.ISSUER_UNREACHABLE', kind: 'unavailable' });
    } finally {
      down = false;
    }
  });

  it('says the issuer is unreachable when its keys cannot be fetched after discovery', async () => {
    const i = new OidcIssuer(settings());
    await i.metadata();
    down = true;
    try {
      await expect(new JwksTokenService(i).verify(await idToken())).rejects.toMatchObject({ code: 'AUTH.ISSUER_UNREACHABLE', kind: 'unavailable' });
    } finally {
      down = false;
    }
  });

  it('a provider answering its keys with an error page is down (503), not the token invalid', async () => {
    jwksStatus = 502;
    try {
      await expect(svc().verify(await idToken())).rejects.toMatchObject({ code: 'AUTH.ISSUER_UNREACHABLE', kind: 'unavailable' });
    } finally {
      jwksStatus = 200;
    }
  });

  it('keeps the keys it holds while the provider is down, and fetches again for a new key id', async () => {
    let t = 0;
    const s = new JwksTokenService(new OidcIssuer(settings()), { now: () => t, maxAgeMs: 60_000, refetchAfterMs: 1000 });
    expect((await s.verify(await idToken())).userId).toBe('tech-a');
    // Long past the keys' age, the provider answering errors: a token under a held key still checks out.
    t = 10 * 60_000;
    jwksStatus = 503;
    try {
      expect((await s.verify(await idToken())).userId).toBe('tech-a');
      // A key it has not published yet cannot be checked while it is down: 503, not 401.
      t += 5000;
      await expect(s.verify(await idToken(technician, { key: otherKey, kid: 'k2' }))).rejects.toMatchObject({ code: 'AUTH.ISSUER_UNREACHABLE' });
    } finally {
      jwksStatus = 200;
    }
    // The provider rotates to a new key: the new key id is fetched and tokens under it check out.
    const rotated = await generateKeyPair('ES256');
    published = [jwk, { ...(await exportJWK(rotated.publicKey)), kid: 'k3', alg: 'ES256', use: 'sig' }];
    try {
      t += 5000;
      expect((await s.verify(await idToken(technician, { key: rotated.privateKey as CryptoKey, kid: 'k3' }))).userId).toBe('tech-a');
    } finally {
      published = [jwk];
    }
  });

  it('no longer trusts held keys a day after the last good fetch while the provider stays unreachable', async () => {
    let t = 0;
    const s = new JwksTokenService(new OidcIssuer(settings()), { now: () => t, holdMs: 24 * 3600_000 });
    expect((await s.verify(await idToken())).userId).toBe('tech-a');
    jwksStatus = 503;
    try {
      t = 23 * 3600_000;
      expect((await s.verify(await idToken())).userId).toBe('tech-a');
      t = 25 * 3600_000;
      await expect(s.verify(await idToken())).rejects.toMatchObject({ code: 'AUTH.ISSUER_UNREACHABLE' });
    } finally {
      jwksStatus = 200;
    }
  });

  it('requests arriving while a new key id is being fetched wait for it instead of being refused', async () => {
    let t = 0;
    const s = new JwksTokenService(new OidcIssuer(settings()), { now: () => t });
    expect((await s.verify(await idToken())).userId).toBe('tech-a');
    const rotated = await generateKeyPair('ES256');
    published = [jwk, { ...(await exportJWK(rotated.publicKey)), kid: 'k4', alg: 'ES256', use: 'sig' }];
    t = 60_000;
    try {
      const token = await idToken(technician, { key: rotated.privateKey as CryptoKey, kid: 'k4' });
      const all = await Promise.allSettled(Array.from({ length: 5 }, () => s.verify(token)));
      expect(all.map((r) => r.status)).toEqual(Array(5).fill('fulfilled'));
    } finally {
      published = [jwk];
    }
  });

  it('refuses a token issued to another client that lists this one as its audience (azp)', async () => {
    await expect(svc().verify(await idToken({ ...technician, azp: 'other-app' }))).rejects.toMatchObject({ code: 'AUTH.INVALID_TOKEN' });
    expect((await svc().verify(await idToken({ ...technician, azp: CLIENT }, { aud: [CLIENT, 'other-app'] }))).userId).toBe('tech-a');
  });

  it('never issues tokens itself', async () => {
    await expect(svc().issue()).rejects.toMatchObject({ code: 'AUTH.NOT_SUPPORTED' });
  });
});

describe('one machine signing in through the consortium identity provider', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { TELEREAD_OIDC_ISSUER: issuer, TELEREAD_OIDC_CLIENT_ID: CLIENT } });
  });
  afterAll(() => t.close());

  it('tells clients to sign in there, and has no password sign-in', async () => {
    const c = await fetch(`${t.url}/api/auth/config`);
    expect(c.status).toBe(200);
    expect(await c.json()).toMatchObject({ mode: 'oidc', issuer, clientId: CLIENT, authorizationEndpoint: `${issuer}/auth`, tokenEndpoint: `${issuer}/token` });
    const login = await fetch(`${t.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'tech-a', password: 'teleread-demo' }) });
    expect(login.status).toBe(404);
  });

  it('takes the provider’s ID token as the bearer token: session, and a technician’s submission', async () => {
    const token = await idToken();
    const auth = { authorization: `Bearer ${token}` };
    const s = await fetch(`${t.url}/api/auth/session`, { headers: auth });
    expect(s.status).toBe(200);
    // The name comes from the consortium directory (the demo's tech-a); role and clinic from the token.
    const known = await t.sys.deps.directory.getUser('tech-a');
    expect(known?.displayName).toBeTruthy();
    expect(await s.json()).toEqual({ id: 'tech-a', role: 'technician', displayName: known!.displayName, clinicId: 'clinic-a' });
    const sub = await fetch(`${t.url}/api/submissions`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ patient: { id: 'P-1', name: 'Test^Patient' }, consent: { obtained: true }, priority: 'routine', files: [{ name: 'a.dcm', size: 10 }] }),
    });
    expect(sub.status).toBe(201);
    const bad = await fetch(`${t.url}/api/cases`, { headers: { authorization: `Bearer ${await idToken(technician, { aud: 'other-app' })}` } });
    expect(bad.status).toBe(401);
    expect((await bad.json()).error.code).toBe('AUTH.INVALID_TOKEN');
  });

  it('lets in only the consortium file\'s users, in the file\'s role, with the file\'s clinic', async () => {
    const get = async (claims: Record<string, unknown>) => {
      const r = await fetch(`${t.url}/api/auth/session`, { headers: { authorization: `Bearer ${await idToken(claims)}` } });
      return { status: r.status, body: (await r.json()) as { id?: string; clinicId?: string; error?: { code: string } } };
    };
    // A provider account not in the file, even in a TeleRead group.
    expect(await get({ groups: ['technician'], clinicId: 'clinic-a', preferred_username: 'someone-else' })).toMatchObject({ status: 403, body: { error: { code: 'AUTH.NOT_LISTED' } } });
    // A listed user in another group of the provider (a hospital-wide "admin").
    expect(await get({ groups: ['admin'], preferred_username: 'tech-a' })).toMatchObject({ status: 403, body: { error: { code: 'AUTH.NOT_LISTED' } } });
    // The clinic is the file's, whatever the token says.
    expect(await get({ groups: ['technician'], clinicId: 'clinic-b', preferred_username: 'tech-a' })).toMatchObject({ status: 200, body: { id: 'tech-a', clinicId: 'clinic-a' } });
  });

  it('refuses settings that cannot work, at start', () => {
    const load = (env: Record<string, string>) => () => loadLocalConfig({ TELEREAD_DATA_DIR: '/nonexistent', ...env });
    expect(load({ TELEREAD_OIDC_ISSUER: issuer })).toThrow(/TELEREAD_OIDC_ISSUER and TELEREAD_OIDC_CLIENT_ID go together/);
    expect(load({ TELEREAD_OIDC_CLIENT_ID: CLIENT })).toThrow(/go together/);
    expect(load({ TELEREAD_OIDC_ISSUER: issuer, TELEREAD_OIDC_CLIENT_ID: CLIENT, TELEREAD_OIDC_SCOPE: 'profile email' })).toThrow(/must include openid/);
    // Keys fetched over plain http from another computer could be swapped on the way.
    expect(load({ TELEREAD_OIDC_ISSUER: 'http://idp.example.cn/realms/x', TELEREAD_OIDC_CLIENT_ID: CLIENT })).toThrow(/must be an https URL/);
    // Browsers on other computers give a plain-http page no WebCrypto for PKCE.
    expect(load({ TELEREAD_OIDC_ISSUER: issuer, TELEREAD_OIDC_CLIENT_ID: CLIENT, HOST: '0.0.0.0' })).toThrow(/needs the web UI on https/);
    expect(load({ TELEREAD_OIDC_ISSUER: issuer, TELEREAD_OIDC_CLIENT_ID: CLIENT, TELEREAD_PUBLIC_URL: 'http://192.0.2.10:8080' })).toThrow(/needs the web UI on https/);
    expect(load({ TELEREAD_OIDC_ISSUER: 'https://idp.example.cn/realms/x', TELEREAD_OIDC_CLIENT_ID: CLIENT, HOST: '0.0.0.0', TELEREAD_PUBLIC_URL: 'https://teleread.example.cn' })).not.toThrow();
  });
});
