/** Acceptance 5: synthesized for cn-northwest-1 (aws-cn), no hard-coded partition or domain strings. */
import { describe, expect, it } from 'vitest';
import { synth } from './support.ts';

const CN = { region: 'cn-northwest-1', account: '123456789012' };
const identity = { issuer: 'https://idp.example.cn/realms/teleread', audience: ['teleread-web'] };

/** Every string of a template with its JSON path. */
function strings(node: unknown, path: string[] = []): Array<{ path: string[]; value: string }> {
  if (typeof node === 'string') return [{ path, value: node }];
  if (Array.isArray(node)) return node.flatMap((x, i) => strings(x, [...path, String(i)]));
  if (node && typeof node === 'object') return Object.entries(node).flatMap(([k, v]) => strings(v, [...path, k]));
  return [];
}

/** Service principals (IAM policies, Lambda permissions) are resolved per partition by CDK's region facts; anything else must use AWS::Partition / AWS::URLSuffix. */
const isServicePrincipal = (p: string[]) => (p.includes('Principal') && p.includes('Service')) || p.at(-1) === 'Principal';

describe('the aws-cn partition', () => {
  for (const [label, env] of [
    ['cn-northwest-1', CN],
    ['environment-agnostic', undefined],
  ] as const) {
    it(`${label}: no "arn:aws:" and no "amazonaws.com" outside service principals`, () => {
      const s = synth({ env, app: { identity } });
      for (const t of [s.stateful, s.app]) {
        const all = strings(t.toJSON());
        expect(all.filter((x) => x.value.includes('arn:aws:')).map((x) => x.path.join('.'))).toEqual([]);
        expect(all.filter((x) => /amazonaws\.com/.test(x.value) && !isServicePrincipal(x.path)).map((x) => `${x.path.join('.')}: ${x.value}`)).toEqual([]);
      }
      expect(s.violations).toEqual([]);
    });
  }

  it('refuses a China deployment without an OIDC issuer (Cognito user pools do not exist there)', () => {
    expect(() => synth({ env: CN })).toThrow(/China regions/);
  });

  it('in China, the HTTP API trusts the given OIDC issuer and no user pool or CloudFront is created', () => {
    const s = synth({ env: CN, app: { identity } });
    s.app.resourceCountIs('AWS::Cognito::UserPool', 0);
    s.app.resourceCountIs('AWS::CloudFront::Distribution', 0);
    s.app.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: identity.issuer, Audience: identity.audience },
    });
  });

  it('in China, the api function names the issuer, the web client (default: the first audience) and the scope; endpoints come from discovery', () => {
    const apiEnv = (s: ReturnType<typeof synth>) => {
      const r = (s.app.toJSON() as { Resources: Record<string, { Type: string; Properties: { Environment: { Variables: Record<string, unknown> } } }> }).Resources;
      const vars = Object.entries(r).find(([id, x]) => id.startsWith('ApiFunction') && x.Type === 'AWS::Lambda::Function')![1].Properties.Environment.Variables;
      return Object.fromEntries(Object.entries(vars).filter(([k]) => k.startsWith('TELEREAD_OIDC_')));
    };
    expect(apiEnv(synth({ env: CN, app: { identity } }))).toEqual({
      TELEREAD_OIDC_ISSUER: identity.issuer,
      TELEREAD_OIDC_CLIENT_ID: 'teleread-web',
      TELEREAD_OIDC_SCOPE: 'openid profile',
    });
    const two = { ...identity, audience: ['teleread-gateway', 'teleread-web'], webClientId: 'teleread-web', scope: 'openid profile groups' };
    expect(apiEnv(synth({ env: CN, app: { identity: two } }))).toMatchObject({ TELEREAD_OIDC_CLIENT_ID: 'teleread-web', TELEREAD_OIDC_SCOPE: 'openid profile groups' });
    // The web UI's ID tokens carry its client id as aud: the authorizer must accept it.
    expect(() => synth({ env: CN, app: { identity: { ...identity, webClientId: 'elsewhere' } } })).toThrow(/identity.audience must list the web UI's client id/);
    expect(() => synth({ env: CN, app: { identity: { ...identity, audience: [] } } })).toThrow(/oidcAudience/);
  });
});
