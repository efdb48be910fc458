/** Acceptance 3: template assertions on the stateful and app stacks. */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE_INDEXES } from '../../shared/adapters/aws/dynamo-schema.ts';
import { DEFAULT_POOLS, PRIORITIES } from '../../infra/settings.ts';
import { synth, type Synth } from './support.ts';

type Res = { Type: string; Properties?: Record<string, any>; DependsOn?: string[] };
const resources = (t: { toJSON(): unknown }) => (t.toJSON() as { Resources: Record<string, Res> }).Resources;
const outputs = (t: { toJSON(): unknown }) => (t.toJSON() as { Outputs?: Record<string, { Value: unknown; Export?: { Name: string } }> }).Outputs ?? {};
const ofType = (r: Record<string, Res>, type: string) => Object.entries(r).filter(([, x]) => x.Type === type);

describe('TeleRead stacks', () => {
  let s: Synth;
  let st: Record<string, Res>;
  let ap: Record<string, Res>;
  /** Resolve a value of the app template to a logical id of the stateful template (through Fn::ImportValue). */
  let importedId: (v: unknown) => string | null;
  beforeAll(() => {
    s = synth({ nag: false });
    st = resources(s.stateful);
    ap = resources(s.app);
    const exportsById = new Map<string, string>();
    for (const o of Object.values(outputs(s.stateful))) {
      const v = o.Value as { 'Fn::GetAtt'?: [string, string]; Ref?: string };
      const id = v['Fn::GetAtt']?.[0] ?? v.Ref;
      if (o.Export && id) exportsById.set(o.Export.Name, id);
    }
    importedId = (v) => {
      const name = (v as { 'Fn::ImportValue'?: string })?.['Fn::ImportValue'];
      return name ? (exportsById.get(name) ?? null) : null;
    };
  });

  it('every SQS event source reports batch item failures, and its queue is visible ≥ 6× the function timeout', () => {
    const mappings = ofType(ap, 'AWS::Lambda::EventSourceMapping');
    expect(mappings.length).toBe(2);
    for (const [, m] of mappings) {
      expect(m.Properties!['FunctionResponseTypes']).toEqual(['ReportBatchItemFailures']);
      const queueId = importedId(m.Properties!['EventSourceArn']);
      expect(queueId).toBeTruthy();
      const visibility = st[queueId!]!.Properties!['VisibilityTimeout'] as number;
      const fnId = (m.Properties!['FunctionName'] as { Ref: string }).Ref;
      const timeout = ap[fnId]!.Properties!['Timeout'] as number;
      expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
    }
  });

  it('every source queue has a DLQ (maxReceiveCount ≥ 5), an alarm on its depth and one on its DLQ; all are KMS-encrypted', () => {
    for (const r of [st, ap]) {
      const queues = ofType(r, 'AWS::SQS::Queue');
      const dlqIds = new Set(
        queues.flatMap(([, q]) => {
          const arn = q.Properties?.['RedrivePolicy']?.deadLetterTargetArn as { 'Fn::GetAtt'?: [string, string] } | undefined;
          return arn?.['Fn::GetAtt'] ? [arn['Fn::GetAtt'][0]] : [];
        }),
      );
      const alarmed = new Set(
        ofType(r, 'AWS::CloudWatch::Alarm').flatMap(([, a]) =>
          (a.Properties!['Dimensions'] as { Name: string; Value: { 'Fn::GetAtt': [string, string] } }[])
            .filter((d) => d.Name === 'QueueName')
            .map((d) => d.Value['Fn::GetAtt'][0]),
        ),
      );
      for (const [id, q] of queues) {
        expect(q.Properties!['KmsMasterKeyId'], id).toBeTruthy();
        expect(alarmed.has(id), `${id} has an alarm`).toBe(true);
        if (dlqIds.has(id)) continue;
        expect(q.Properties!['RedrivePolicy']?.maxReceiveCount, id).toBeGreaterThanOrEqual(5);
      }
      for (const [, a] of ofType(r, 'AWS::CloudWatch::Alarm')) expect((a.Properties!['AlarmActions'] as unknown[]).length).toBeGreaterThan(0);
    }
    // ingest, delivery and one read queue per pool × priority
    const sourceIds = ofType(st, 'AWS::SQS::Queue').map(([id]) => id).filter((id) => id.endsWith('Queue'));
    expect(sourceIds.length).toBe(2 + DEFAULT_POOLS.length * PRIORITIES.length);
  });

  it('buckets block public access, deny non-TLS, use SSE-KMS (the access-log bucket, SSE-S3 by S3 rule, excepted) and are versioned', () => {
    const all = [...ofType(st, 'AWS::S3::Bucket'), ...ofType(ap, 'AWS::S3::Bucket')];
    expect(all.length).toBeGreaterThanOrEqual(4);
    const policies = [...ofType(st, 'AWS::S3::BucketPolicy'), ...ofType(ap, 'AWS::S3::BucketPolicy')];
    for (const [id, b] of all) {
      const p = b.Properties!;
      expect(p['PublicAccessBlockConfiguration'], id).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(p['VersioningConfiguration'], id).toEqual({ Status: 'Enabled' });
      const algo = p['BucketEncryption'].ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm;
      expect(algo, id).toBe(id === 'AccessLogsBucket' ? 'AES256' : 'aws:kms');
      const policy = policies.find(([, x]) => (x.Properties!['Bucket'] as { Ref: string }).Ref === id);
      expect(policy, `${id} has a bucket policy`).toBeTruthy();
      const statements = policy![1].Properties!['PolicyDocument'].Statement as { Effect: string; Condition?: { Bool?: Record<string, string> } }[];
      expect(statements.some((x) => x.Effect === 'Deny' && x.Condition?.Bool?.['aws:SecureTransport'] === 'false'), `${id} denies non-TLS`).toBe(true);
    }
    const reports = st['ReportsBucket']!.Properties!;
    expect(reports['ObjectLockEnabled']).toBe(true);
    expect(reports['ObjectLockConfiguration'].Rule.DefaultRetention.Days).toBeGreaterThanOrEqual(365 * 15);
  });

  it('S3 notifies the ingest queue (uploads/ only); no S3 → Lambda notification, no notification custom resource', () => {
    const n = st['UploadsBucket']!.Properties!['NotificationConfiguration'];
    expect(n.LambdaConfigurations).toBeUndefined();
    expect(n.QueueConfigurations).toEqual([
      { Event: 's3:ObjectCreated:*', Queue: { 'Fn::GetAtt': ['IngestQueue', 'Arn'] }, Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'uploads/' }] } } },
    ]);
    for (const r of [st, ap]) {
      for (const [, b] of ofType(r, 'AWS::S3::Bucket')) expect(b.Properties?.['NotificationConfiguration']?.LambdaConfigurations).toBeUndefined();
      expect(ofType(r, 'Custom::S3BucketNotifications')).toEqual([]);
      expect(ofType(r, 'AWS::Lambda::Permission').filter(([, p]) => String(p.Properties!['Principal']).startsWith('s3.'))).toEqual([]);
    }
    // The queue policy that lets S3 send exists before the bucket that uses it.
    const ingestPolicy = ofType(st, 'AWS::SQS::QueuePolicy').find(([, p]) => JSON.stringify(p.Properties!['Queues']).includes('"IngestQueue"'));
    expect(ingestPolicy).toBeTruthy();
    expect(JSON.stringify(ingestPolicy![1].Properties!['PolicyDocument'])).toContain('s3.amazonaws.com');
    expect(st['UploadsBucket']!.DependsOn).toContain(ingestPolicy![0]);
  });

  it('the data key lets S3, CloudWatch alarms and EventBridge (the sweep schedule\'s dead letters) write to what it encrypts', () => {
    const key = st['DataKey']!.Properties!['KeyPolicy'].Statement as { Principal?: { Service?: unknown }; Action: string[] }[];
    const services = key.flatMap((x) => [x.Principal?.Service].flat()).filter((v): v is string => typeof v === 'string');
    for (const svc of ['s3.amazonaws.com', 'cloudwatch.amazonaws.com', 'events.amazonaws.com']) expect(services).toContain(svc);
  });

  it('the table has PITR, a customer-managed key and exactly the adapters\' GSIs', () => {
    const t = st['Table']!;
    expect(t.Type).toBe('AWS::DynamoDB::Table');
    expect(t.Properties!['PointInTimeRecoverySpecification']).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(t.Properties!['SSESpecification'].SSEEnabled).toBe(true);
    expect(t.Properties!['SSESpecification'].KMSMasterKeyId).toBeTruthy();
    const gsis = (t.Properties!['GlobalSecondaryIndexes'] as { IndexName: string; KeySchema: { AttributeName: string }[] }[]).map((g) => [
      g.IndexName,
      g.KeySchema.map((k) => k.AttributeName),
    ]);
    expect(gsis).toEqual(TABLE_INDEXES.map((i) => [i.name, [i.pk, i.sk]]));
  });

  it('pins the logical ids of stateful resources', () => {
    const pinned = [
      'DataKey',
      'LogsKey',
      'AlarmTopic',
      'AccessLogsBucket',
      'UploadsBucket',
      'ReportsBucket',
      'Table',
      'IngestQueue',
      'IngestDlq',
      'DeliveryQueue',
      'DeliveryDlq',
      ...DEFAULT_POOLS.flatMap((p) => PRIORITIES.map((q) => `Read${p[0]!.toUpperCase()}${p.slice(1)}${q[0]!.toUpperCase()}${q.slice(1)}Queue`)),
    ];
    for (const id of pinned) expect(st[id], id).toBeDefined();
    expect(ap['UserPool']?.Type).toBe('AWS::Cognito::UserPool');
    for (const id of [...pinned, 'UserPool']) {
      const r = st[id] ?? ap[id]!;
      if (['AWS::S3::Bucket', 'AWS::DynamoDB::Table', 'AWS::KMS::Key', 'AWS::Cognito::UserPool'].includes(r.Type)) {
        expect((r as { DeletionPolicy?: string }).DeletionPolicy, id).toBe('Retain');
      }
    }
  });

  it('each function has its own role, with no managed AWS policy and no inline policy; only ingest reads the ingest queue', () => {
    const fns = ofType(ap, 'AWS::Lambda::Function');
    expect(fns.length).toBe(4);
    const roles = fns.map(([, f]) => (f.Properties!['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
    expect(new Set(roles).size).toBe(4);
    for (const r of roles) {
      expect(ap[r]!.Properties!['ManagedPolicyArns']).toBeUndefined();
      expect(ap[r]!.Properties!['Policies']).toBeUndefined();
    }
    expect(ofType(ap, 'AWS::IAM::Policy')).toEqual([]);
    const policies = ofType(ap, 'AWS::IAM::ManagedPolicy');
    const ingestConsumers = policies.filter(([, p]) =>
      (p.Properties!['PolicyDocument'].Statement as { Action: string | string[]; Resource: unknown }[]).some(
        (x) => [x.Action].flat().includes('sqs:ReceiveMessage') && importedId(x.Resource) === 'IngestQueue',
      ),
    );
    expect(ingestConsumers.map(([id]) => id)).toEqual([expect.stringMatching(/^IngestFunction/)]);
    for (const [, f] of fns) {
      expect(f.Properties!['Runtime']).toMatch(/^nodejs\d+\.x$/);
      expect(f.Properties!['ReservedConcurrentExecutions']).toBeGreaterThan(0);
      expect(f.Properties!['DeadLetterConfig']).toBeDefined();
    }
  });

  it('the api and sweep roles may list the uploads bucket (a missing upload is a 404 to their HEAD, not a 403)', () => {
    for (const fn of ['ApiFunction', 'SweepFunction']) {
      const [policy] = ofType(ap, 'AWS::IAM::ManagedPolicy').filter(([id]) => id.startsWith(fn));
      const statements = policy![1].Properties!['PolicyDocument'].Statement as { Sid: string; Action: string | string[]; Resource: unknown }[];
      const list = statements.find((x) => x.Sid === 'ListUploads');
      expect([list?.Action].flat()).toEqual(['s3:ListBucket']);
      expect(JSON.stringify(list?.Resource)).toContain('UploadsBucketArn');
      expect(JSON.stringify(list?.Resource)).not.toContain('/*');
    }
  });

  it('the sweeper may head uploads and send ingest and delivery jobs (its repairs), and nothing else of theirs', () => {
    const sweep = ofType(ap, 'AWS::IAM::ManagedPolicy').filter(([id]) => id.startsWith('SweepFunction'));
    expect(sweep.length).toBe(1);
    const statements = sweep[0]![1].Properties!['PolicyDocument'].Statement as { Sid: string; Action: string | string[]; Resource: unknown }[];
    const bySid = Object.fromEntries(statements.map((x) => [x.Sid, x]));
    expect([bySid['HeadUploads']?.Action].flat()).toEqual(['s3:GetObject']);
    expect(JSON.stringify(bySid['HeadUploads']?.Resource)).toContain('/uploads/*');
    expect([bySid['SendJobs']?.Action].flat()).toEqual(['sqs:SendMessage']);
    expect([bySid['SendJobs']?.Resource].flat().map(importedId).sort()).toEqual(['DeliveryQueue', 'IngestQueue']);
    expect(statements.flatMap((x) => [x.Action].flat()).filter((a) => /^s3:(Put|Delete)|^sqs:(Receive|Delete)/.test(a))).toEqual([]);
  });

  it('the HTTP API authorizes every route with the JWT authorizer except the public ones', () => {
    const routes = ofType(ap, 'AWS::ApiGatewayV2::Route').map(([, r]) => [r.Properties!['RouteKey'], r.Properties!['AuthorizationType']]);
    expect(Object.fromEntries(routes)).toEqual({
      'GET /api/health': 'NONE',
      'GET /api/keys': 'NONE',
      'GET /api/openapi.json': 'NONE',
      'GET /api/auth/config': 'NONE',
      'GET /api/{proxy+}': 'JWT',
      'POST /api/{proxy+}': 'JWT',
      'PUT /api/{proxy+}': 'JWT',
      'GET /dicomweb/{proxy+}': 'JWT',
    });
    const stage = ofType(ap, 'AWS::ApiGatewayV2::Stage')[0]![1];
    expect(stage.Properties!['AccessLogSettings'].DestinationArn).toBeTruthy();
  });

  it('the sweeper runs on a schedule; the web UI (and /api/*) is served by CloudFront through origin access control', () => {
    expect(ofType(ap, 'AWS::Events::Rule')[0]![1].Properties!['ScheduleExpression']).toBe('rate(1 minute)');
    expect(ofType(ap, 'AWS::CloudFront::OriginAccessControl').length).toBe(1);
    const dist = ofType(ap, 'AWS::CloudFront::Distribution')[0]![1].Properties!['DistributionConfig'];
    expect(dist.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(dist.Origins[0].OriginAccessControlId).toBeTruthy();
    // The API rides on the UI's origin under /api/*, uncached, HTTPS only.
    const api = (dist.CacheBehaviors as { PathPattern: string; ViewerProtocolPolicy: string }[]).find((b) => b.PathPattern === '/api/*');
    expect(api?.ViewerProtocolPolicy).toBe('https-only');
  });
});

/** Logical ids each resource refers to (Ref, Fn::GetAtt, ${…} of Fn::Sub, DependsOn), inside this template. */
function references(r: Record<string, Res & { DependsOn?: string | string[] }>): Map<string, Set<string>> {
  const walk = (n: unknown, out: Set<string>): void => {
    if (Array.isArray(n)) return n.forEach((x) => walk(x, out));
    if (!n || typeof n !== 'object') return;
    for (const [k, v] of Object.entries(n)) {
      if (k === 'Ref' && typeof v === 'string') out.add(v);
      else if (k === 'Fn::GetAtt') out.add((v as [string])[0]);
      else {
        if (k === 'Fn::Sub') for (const m of JSON.stringify(v).matchAll(/\$\{([A-Za-z0-9]+)/g)) out.add(m[1]!);
        walk(v, out);
      }
    }
  };
  const refs = new Map<string, Set<string>>();
  for (const [id, x] of Object.entries(r)) {
    const out = new Set<string>([x.DependsOn ?? []].flat());
    walk(x.Properties, out);
    refs.set(id, new Set([...out].filter((d) => d in r)));
  }
  return refs;
}

/** A dependency cycle among the resources, as a path, or null. */
function cycleOf(r: Record<string, Res>): string[] | null {
  const refs = references(r);
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === 'done') return null;
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'open');
    path.push(id);
    for (const d of refs.get(id) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    path.pop();
    state.set(id, 'done');
    return null;
  };
  for (const id of refs.keys()) {
    const c = visit(id);
    if (c) return c;
  }
  return null;
}

describe('web UI sign-in (Cognito hosted sign-in, OpenID Connect code + PKCE)', () => {
  let s: Synth;
  let ap: Record<string, Res>;
  const one = (type: string) => {
    const found = ofType(ap, type);
    expect(found.length, type).toBe(1);
    return found[0]!;
  };
  const apiEnv = (r: Record<string, Res>) =>
    ofType(r, 'AWS::Lambda::Function').find(([id]) => id.startsWith('ApiFunction'))![1].Properties!['Environment'].Variables as Record<string, unknown>;
  const OIDC_KEYS = ['TELEREAD_OIDC_ISSUER', 'TELEREAD_OIDC_CLIENT_ID', 'TELEREAD_OIDC_SCOPE', 'TELEREAD_OIDC_AUTHORIZATION_ENDPOINT', 'TELEREAD_OIDC_TOKEN_ENDPOINT', 'TELEREAD_OIDC_END_SESSION_ENDPOINT', 'TELEREAD_OIDC_REVOCATION_ENDPOINT'];
  beforeAll(() => {
    s = synth({ nag: false });
    ap = resources(s.app);
  });

  it('the user pool has a hosted domain on managed login, its prefix teleread-<stage>-<stack id> unless one is given', () => {
    const [, domain] = one('AWS::Cognito::UserPoolDomain');
    expect(domain.Properties!['UserPoolId']).toEqual({ Ref: 'UserPool' });
    expect(domain.Properties!['ManagedLoginVersion']).toBe(2);
    expect(domain.Properties!['CustomDomainConfig']).toBeUndefined();
    // Evaluated the way CloudFormation will, on a real stack id: a valid Cognito prefix.
    const stackId = 'arn:aws:cloudformation:ap-southeast-1:123456789012:stack/TeleRead-test-App/5f2c1d3e-9a8b-11ee-b9d1-0242ac120002';
    const evaluate = (v: unknown): unknown => {
      if (typeof v === 'string') return v;
      const o = v as Record<string, unknown[]>;
      if (o['Ref'] === ('AWS::StackId' as unknown)) return stackId;
      if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(evaluate).join(o['Fn::Join'][0] as string);
      if (o['Fn::Split']) return (evaluate(o['Fn::Split'][1]) as string).split(o['Fn::Split'][0] as string);
      if (o['Fn::Select']) return (evaluate(o['Fn::Select'][1]) as unknown[])[o['Fn::Select'][0] as number];
      throw new Error(`cannot evaluate ${JSON.stringify(v)}`);
    };
    expect(evaluate(domain.Properties!['Domain'])).toBe('teleread-test-5f2c1d3e');
    // Managed login needs a style for the client, else it shows an error page.
    const [, style] = one('AWS::Cognito::ManagedLoginBranding');
    expect(style.Properties).toMatchObject({ UserPoolId: { Ref: 'UserPool' }, UseCognitoProvidedValues: true });
    expect(style.Properties!['ClientId']).toEqual({ Ref: one('AWS::Cognito::UserPoolClient')[0] });

    const given = synth({ nag: false, app: { signInDomainPrefix: 'county-teleread-prod' } });
    given.app.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'county-teleread-prod' });
  });

  it('refuses prefixes Cognito refuses: reserved words, upper case, and a stage that makes the default one invalid', () => {
    expect(() => synth({ nag: false, app: { signInDomainPrefix: 'teleread-aws' } })).toThrow(/signInDomainPrefix "teleread-aws" must not contain "aws"/);
    expect(() => synth({ nag: false, app: { signInDomainPrefix: 'TeleRead' } })).toThrow(/lower-case/);
    expect(() => synth({ nag: false, stage: 'cognito' })).toThrow(/default sign-in domain prefix teleread-cognito-<id> must not contain.*signInDomainPrefix/);
  });

  it('the web UI\'s routes are its page by a viewer-request function on the default behaviour only: no distribution-wide error pages hiding the API\'s 403/404', () => {
    const [, dist] = one('AWS::CloudFront::Distribution');
    const cfg = dist.Properties!['DistributionConfig'];
    expect(cfg['CustomErrorResponses']).toBeUndefined();
    const assoc = cfg['DefaultCacheBehavior']['FunctionAssociations'];
    expect(assoc).toHaveLength(1);
    expect(assoc[0].EventType).toBe('viewer-request');
    for (const b of cfg['CacheBehaviors'] ?? []) expect(b['FunctionAssociations'], b['PathPattern']).toBeUndefined();
    // The function itself, run on CloudFront's event shape.
    const [, fn] = one('AWS::CloudFront::Function');
    const handler = new Function(`${fn.Properties!['FunctionCode']}; return handler;`)() as (e: { request: { uri: string } }) => { uri: string };
    const uri = (u: string) => handler({ request: { uri: u } }).uri;
    expect(uri('/auth/callback')).toBe('/index.html');
    expect(uri('/reader/read/case-1')).toBe('/index.html');
    expect(uri('/')).toBe('/index.html');
    expect(uri('/assets/index-abc.js')).toBe('/assets/index-abc.js');
    expect(uri('/favicon.svg')).toBe('/favicon.svg');
  });

  it('the web client: code grant only, scope openid, redirects to the distribution, reads the clinic and pools, no direct sign-in flows', () => {
    const [, client] = one('AWS::Cognito::UserPoolClient');
    const [distId] = one('AWS::CloudFront::Distribution');
    const onDistribution = (path: string) => ({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distId, 'DomainName'] }, path]] });
    expect(client.Properties).toMatchObject({
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid'],
      CallbackURLs: [onDistribution('/auth/callback')],
      LogoutURLs: [onDistribution('/login')],
      GenerateSecret: false,
      SupportedIdentityProviders: ['COGNITO'],
      ReadAttributes: ['custom:clinicId', 'custom:pools'],
    });
    // Only the hosted sign-in and its refresh: no InitiateAuth flow whose tokens reach Cognito's user API.
    expect(client.Properties!['ExplicitAuthFlows']).toEqual(['ALLOW_REFRESH_TOKEN_AUTH']);
    expect(client.Properties!['WriteAttributes']).toBeUndefined();
    // The JWT authorizer accepts exactly this client's ID tokens.
    s.app.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      JwtConfiguration: { Audience: [{ Ref: one('AWS::Cognito::UserPoolClient')[0] }], Issuer: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': ['UserPool', 'ProviderURL'] }]] } },
    });
  });

  it('the api function (only it) has the issuer, the client, the scope and the hosted domain\'s endpoints', () => {
    const [clientId] = one('AWS::Cognito::UserPoolClient');
    const [domainId] = one('AWS::Cognito::UserPoolDomain');
    const hosted = (path: string) => ({ 'Fn::Join': ['', ['https://', { Ref: domainId }, `.auth.ap-southeast-1.amazoncognito.com${path}`]] });
    expect(apiEnv(ap)).toMatchObject({
      TELEREAD_OIDC_ISSUER: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': ['UserPool', 'ProviderURL'] }]] },
      TELEREAD_OIDC_CLIENT_ID: { Ref: clientId },
      TELEREAD_OIDC_SCOPE: 'openid',
      TELEREAD_OIDC_AUTHORIZATION_ENDPOINT: hosted('/oauth2/authorize'),
      TELEREAD_OIDC_TOKEN_ENDPOINT: hosted('/oauth2/token'),
      TELEREAD_OIDC_END_SESSION_ENDPOINT: hosted('/logout'),
      TELEREAD_OIDC_REVOCATION_ENDPOINT: hosted('/oauth2/revoke'),
    });
    for (const [id, f] of ofType(ap, 'AWS::Lambda::Function').filter(([id]) => !id.startsWith('ApiFunction'))) {
      expect(Object.keys(f.Properties!['Environment'].Variables).filter((k) => k.startsWith('TELEREAD_OIDC_')), id).toEqual([]);
    }
    expect(outputs(s.app)['SignInDomainUrl']?.Value).toEqual(hosted(''));
  });

  it('client → distribution → API, authorizer and api function → client: no circular dependency', () => {
    expect(cycleOf(ap)).toBeNull();
    // The check finds a cycle when there is one.
    expect(cycleOf({ A: { Type: 'X', Properties: { v: { Ref: 'B' } } }, B: { Type: 'X', Properties: { v: { 'Fn::GetAtt': ['A', 'Arn'] } } } })).toEqual(['A', 'B', 'A']);
    const refs = references(ap);
    const [clientId] = one('AWS::Cognito::UserPoolClient');
    const [distId] = one('AWS::CloudFront::Distribution');
    expect(refs.get(clientId)).toContain(distId);
  });

  it('web: false with webOrigins: the redirects name those origins only', () => {
    const t = synth({ nag: false, app: { web: false, webOrigins: ['https://teleread.county.example.cn', 'http://localhost:5173'] } });
    const r = resources(t.app);
    expect(ofType(r, 'AWS::CloudFront::Distribution')).toEqual([]);
    t.app.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['code'],
      CallbackURLs: ['https://teleread.county.example.cn/auth/callback', 'http://localhost:5173/auth/callback'],
      LogoutURLs: ['https://teleread.county.example.cn/login', 'http://localhost:5173/login'],
    });
    expect(Object.keys(apiEnv(r)).filter((k) => k.startsWith('TELEREAD_OIDC_')).sort()).toEqual([...OIDC_KEYS].sort());
    expect(() => synth({ nag: false, app: { web: false, webOrigins: ['https://teleread.example/'] } })).toThrow(/webOrigins: .* is not an origin/);
    expect(() => synth({ nag: false, app: { web: false, webOrigins: ['http://teleread.example'] } })).toThrow(/webOrigins/);
    // localhost is for testing: not on the prod stage.
    expect(() => synth({ nag: false, stage: 'prod', app: { web: false, webOrigins: ['http://localhost:5173'] } })).toThrow(/prod stage accepts https origins only/);
  });

  it('web: false and no webOrigins: an API-only deployment (no hosted domain, OAuth off, no OIDC settings) and a warning', () => {
    const t = synth({ nag: false, app: { web: false } });
    const r = resources(t.app);
    expect(ofType(r, 'AWS::Cognito::UserPoolDomain')).toEqual([]);
    expect(ofType(r, 'AWS::Cognito::ManagedLoginBranding')).toEqual([]);
    t.app.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlowsUserPoolClient: false,
      AllowedOAuthFlows: Match.absent(),
      CallbackURLs: Match.absent(),
    });
    expect(Object.keys(apiEnv(r)).filter((k) => k.startsWith('TELEREAD_OIDC_'))).toEqual([]);
    const warnings = t.stacks.app.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    expect(warnings).toEqual([expect.stringMatching(/no hosted sign-in.*--context webOrigins=/)]);
  });
});
