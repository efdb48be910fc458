/**
 * The CDK app: `npm run synth` (offline: no credentials, no Docker) and
 * `npm run deploy -- --context stage=prod`. The only place of infra/ that reads process.env.
 */
import { App } from 'aws-cdk-lib';
import { buildTeleRead } from '../teleread.ts';

const app = new App();
const ctx = (k: string): string | undefined => {
  const v: unknown = app.node.tryGetContext(k);
  return typeof v === 'string' && v ? v : undefined;
};
const stage = ctx('stage') ?? 'dev';
const region = ctx('region') ?? process.env['CDK_DEFAULT_REGION'];
const account = ctx('account') ?? process.env['CDK_DEFAULT_ACCOUNT'];
const list = (k: string) => ctx(k)?.split(',').map((x) => x.trim()).filter(Boolean);

buildTeleRead(app, {
  stage,
  env: region || account ? { region, account } : undefined,
  stateful: { pools: list('pools'), uploadOrigins: list('uploadOrigins') },
  app: {
    webCountries: list('webCountries'),
    apiOrigins: list('apiOrigins'),
    identity: ctx('oidcIssuer')
      ? { issuer: ctx('oidcIssuer')!, audience: list('oidcAudience') ?? [], webClientId: ctx('oidcWebClientId'), scope: ctx('oidcScope') }
      : undefined,
    web: ctx('web') === undefined ? undefined : ctx('web') === 'true',
    webOrigins: list('webOrigins'),
    signInDomainPrefix: ctx('signInDomainPrefix'),
  },
});
app.synth();
