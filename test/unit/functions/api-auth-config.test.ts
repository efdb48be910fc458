/**
 * The api function's sign-in wiring: the OIDC variables of functions/config.ts (optional as a group,
 * validated) and `GET /api/auth/config` / `GET /api/auth/session` through the Lambda handler, with
 * the endpoints named explicitly so no discovery document is fetched.
 */
import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { VerifiedClaimsTokenService } from '../../../shared/adapters/aws/claims-token-service.ts';
import type { Deps } from '../../../shared/application/deps.ts';
import { makeApiHandler, oidcConfigFrom, type ApiEvent } from '../../../functions/api.ts';
import { loadAwsConfig, oidcSettings } from '../../../functions/config.ts';

const BASE = {
  TELEREAD_TABLE: 'teleread-test-data',
  TELEREAD_UPLOADS_BUCKET: 'uploads',
  TELEREAD_REPORTS_BUCKET: 'reports',
  TELEREAD_QUEUES: JSON.stringify({ ingest: { url: 'https://sqs.example/ingest' } }),
};
const HOSTED = 'https://teleread-test-0a1b2c3d.auth.ap-southeast-1.amazoncognito.com';
const COGNITO = {
  TELEREAD_OIDC_ISSUER: 'https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_Example',
  TELEREAD_OIDC_CLIENT_ID: '1example23456789',
  TELEREAD_OIDC_SCOPE: 'openid',
  TELEREAD_OIDC_AUTHORIZATION_ENDPOINT: `${HOSTED}/oauth2/authorize`,
  TELEREAD_OIDC_TOKEN_ENDPOINT: `${HOSTED}/oauth2/token`,
  TELEREAD_OIDC_END_SESSION_ENDPOINT: `${HOSTED}/logout`,
  TELEREAD_OIDC_REVOCATION_ENDPOINT: `${HOSTED}/oauth2/revoke`,
};

describe('functions/config.ts: the OIDC settings', () => {
  it('are optional as a group: without them the api function has no OIDC sign-in', () => {
    expect(oidcSettings(loadAwsConfig(BASE))).toBeNull();
  });

  it('map to the OidcIssuer settings, the scope defaulting to openid', () => {
    const { TELEREAD_OIDC_SCOPE: _scope, ...rest } = COGNITO;
    expect(oidcSettings(loadAwsConfig({ ...BASE, ...rest }))).toEqual({
      issuer: COGNITO.TELEREAD_OIDC_ISSUER,
      clientId: COGNITO.TELEREAD_OIDC_CLIENT_ID,
      scope: 'openid',
      authorizationEndpoint: COGNITO.TELEREAD_OIDC_AUTHORIZATION_ENDPOINT,
      tokenEndpoint: COGNITO.TELEREAD_OIDC_TOKEN_ENDPOINT,
      endSessionEndpoint: COGNITO.TELEREAD_OIDC_END_SESSION_ENDPOINT,
      revocationEndpoint: COGNITO.TELEREAD_OIDC_REVOCATION_ENDPOINT,
    });
    // An external issuer: endpoints left to its discovery document.
    const external = oidcSettings(loadAwsConfig({ ...BASE, TELEREAD_OIDC_ISSUER: 'https://idp.example.cn/realms/teleread', TELEREAD_OIDC_CLIENT_ID: 'teleread-web' }));
    expect(external).toMatchObject({ issuer: 'https://idp.example.cn/realms/teleread', clientId: 'teleread-web', authorizationEndpoint: undefined });
  });

  it('refuse an issuer without a client id and a client id without an issuer', () => {
    expect(() => loadAwsConfig({ ...BASE, TELEREAD_OIDC_ISSUER: COGNITO.TELEREAD_OIDC_ISSUER })).toThrow(/TELEREAD_OIDC_CLIENT_ID: .*go together/);
    expect(() => loadAwsConfig({ ...BASE, TELEREAD_OIDC_CLIENT_ID: 'x' })).toThrow(/TELEREAD_OIDC_ISSUER: .*go together/);
    expect(() => loadAwsConfig({ ...BASE, ...COGNITO, TELEREAD_OIDC_SCOPE: 'profile' })).toThrow(/TELEREAD_OIDC_SCOPE: the scope must include openid/);
  });

  it('refuse URLs that are not https URLs, and endpoints without an issuer', () => {
    expect(() => loadAwsConfig({ ...BASE, ...COGNITO, TELEREAD_OIDC_ISSUER: 'not a url' })).toThrow(/TELEREAD_OIDC_ISSUER/);
    expect(() => loadAwsConfig({ ...BASE, ...COGNITO, TELEREAD_OIDC_TOKEN_ENDPOINT: 'http://idp.example/token' })).toThrow(/TELEREAD_OIDC_TOKEN_ENDPOINT: must be an https/);
    expect(() => loadAwsConfig({ ...BASE, TELEREAD_OIDC_AUTHORIZATION_ENDPOINT: COGNITO.TELEREAD_OIDC_AUTHORIZATION_ENDPOINT })).toThrow(
      /TELEREAD_OIDC_AUTHORIZATION_ENDPOINT: an endpoint needs its issuer/,
    );
  });
});

describe('the api handler: how to sign in', () => {
  const context = { functionName: 'api', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 29_000 } as unknown as Context;
  const deps = {
    log: { info() {}, warn() {}, error() {} },
    directory: { getUser: async (id: string) => (id === 'tech-a' ? { id, displayName: 'Tech A' } : null) },
  } as unknown as Deps;
  /** An HTTP API v2 event; `claims` stand for what the JWT authorizer verified (none on public routes). */
  const event = (path: string, claims?: Record<string, string>) =>
    ({
      version: '2.0',
      routeKey: `GET ${path}`,
      rawPath: path,
      rawQueryString: '',
      headers: { host: 'api.example', ...(claims ? { authorization: 'Bearer verified-by-api-gateway' } : {}) },
      requestContext: {
        accountId: '123456789012',
        apiId: 'api',
        domainName: 'api.example',
        domainPrefix: 'api',
        http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
        requestId: 'r',
        routeKey: `GET ${path}`,
        stage: '$default',
        time: '',
        timeEpoch: 0,
        ...(claims ? { authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } } } : {}),
      },
      isBase64Encoded: false,
    }) as unknown as ApiEvent;
  const call = async (h: ReturnType<typeof makeApiHandler>, path: string, claims?: Record<string, string>) => {
    const r = (await h(event(path, claims), context)) as { statusCode: number; body: string };
    return { status: r.statusCode, body: JSON.parse(r.body) as Record<string, unknown> };
  };

  it('answers GET /api/auth/config without a token with the configured issuer, client and endpoints (no discovery fetch)', async () => {
    // The entry point's own wiring (functions/api.lambda.ts): settings → issuer → the route.
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const h = makeApiHandler(deps, new VerifiedClaimsTokenService(), { oidcConfig: oidcConfigFrom(loadAwsConfig({ ...BASE, ...COGNITO })) });
    expect(await call(h, '/api/auth/config')).toEqual({
      status: 200,
      body: {
        mode: 'oidc',
        issuer: COGNITO.TELEREAD_OIDC_ISSUER,
        clientId: COGNITO.TELEREAD_OIDC_CLIENT_ID,
        scope: 'openid',
        authorizationEndpoint: `${HOSTED}/oauth2/authorize`,
        tokenEndpoint: `${HOSTED}/oauth2/token`,
        endSessionEndpoint: `${HOSTED}/logout`,
        revocationEndpoint: `${HOSTED}/oauth2/revoke`,
      },
    });
    expect(fetchSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
    // Without OIDC settings there is no way to sign in to say.
    expect(oidcConfigFrom(loadAwsConfig(BASE))).toBeUndefined();
    const none = await call(makeApiHandler(deps, new VerifiedClaimsTokenService(), { oidcConfig: oidcConfigFrom(loadAwsConfig(BASE)) }), '/api/auth/config');
    expect(none).toMatchObject({ status: 404, body: { error: { code: 'AUTH.NOT_CONFIGURED' } } });

    // The session behind it needs the authorizer's claims.
    expect((await call(h, '/api/auth/session')).status).toBe(401);
    const session = await call(h, '/api/auth/session', { 'cognito:username': 'tech-a', 'cognito:groups': '[technician]', 'custom:clinicId': 'clinic-a' });
    expect(session).toEqual({ status: 200, body: { id: 'tech-a', role: 'technician', displayName: 'Tech A', clinicId: 'clinic-a' } });
  });

  it('without OIDC settings there is no way to sign in (AWS has no password login): 404 AUTH.NOT_CONFIGURED', async () => {
    const h = makeApiHandler(deps, new VerifiedClaimsTokenService());
    const r = await call(h, '/api/auth/config');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error: { code: 'AUTH.NOT_CONFIGURED' } });
  });
});
