import { Annotations, Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Token, type StackProps } from 'aws-cdk-lib';
import { CorsHttpMethod, HttpApi, HttpMethod, HttpNoneAuthorizer, type CfnStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  AccountRecovery,
  CfnManagedLoginBranding,
  CfnUserPoolGroup,
  ClientAttributes,
  FeaturePlan,
  ManagedLoginVersion,
  Mfa,
  OAuthScope,
  StandardThreatProtectionMode,
  StringAttribute,
  UserPool,
  UserPoolClient,
  type CfnUserPool,
  type UserPoolDomain,
} from 'aws-cdk-lib/aws-cognito';
import {
  AllowedMethods,
  Distribution,
  GeoRestriction,
  HttpVersion,
  PriceClass,
  ViewerProtocolPolicy,
  CachePolicy,
  CacheCookieBehavior,
  CacheHeaderBehavior,
  CacheQueryStringBehavior,
  OriginRequestPolicy,
  Function as CloudFrontFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { asksForIdToken } from '../../shared/contracts/auth.ts';
import { MonitoredQueue } from '../constructs/monitored-queue.ts';
import { TeleReadFunction } from '../constructs/teleread-function.ts';
import { FUNCTION_TIMEOUTS, JOB_MAX_RECEIVES } from '../settings.ts';
import type { StatefulStack } from './stateful-stack.ts';

export interface AppStackProps extends StackProps {
  /** Stage name; must equal the stateful stack's. */
  stage: string;
  stateful: StatefulStack;
  /** Reading lease in seconds (the read message's visibility timeout). Default 300. */
  leaseSeconds?: number;
  /** Reserved concurrency per function. Defaults: api 20, ingest 5, delivery 2, sweep 1. */
  concurrency?: Partial<Record<'api' | 'ingest' | 'delivery' | 'sweep', number>>;
  /** Ingest batch size (records per invocation). Default 5. */
  ingestBatchSize?: number;
  /** Countries allowed to load the web UI (CloudFront geo restriction). Default ['CN']. */
  webCountries?: string[];
  /** Extra origins allowed to call the API (CORS), besides the web UI's CloudFront domain. */
  apiOrigins?: string[];
  /** Log retention of functions and API access logs. Default one year. */
  logRetention?: RetentionDays;
  /**
   * An external OIDC issuer instead of a Cognito user pool (Cognito user pools do not exist in the
   * China regions): its tokens carry `groups` (or `cognito:groups`), `clinicId`/`custom:clinicId` and
   * `pools`/`custom:pools`. Required in `cn-*` regions.
   */
  identity?: {
    issuer: string;
    /** Audiences the API's JWT authorizer accepts (`aud` of ID tokens). */
    audience: string[];
    /**
     * The public client (authorization code + PKCE, no secret) the web UI signs in with; must be one
     * of `audience`. Default `audience[0]`.
     */
    webClientId?: string;
    /** Scopes the web UI asks for. Default `openid profile` (`preferred_username` is a profile claim). */
    scope?: string;
  };
  /**
   * Host the web UI on S3 + CloudFront with origin access control. Default true, except in `cn-*`
   * regions, where CloudFront OAC does not exist and CloudFront needs an ICP-filed domain.
   */
  web?: boolean;
  /**
   * Origins (`https://host[:port]`) the web UI is also served from, besides the CloudFront
   * distribution: Cognito's sign-in returns to `<origin>/auth/callback` and its sign-out to
   * `<origin>/login`. Needed when `web` is false. Without a distribution and without these, the user
   * pool gets no hosted sign-in (an API-only deployment; synthesis warns).
   */
  webOrigins?: string[];
  /**
   * Prefix of the Cognito hosted sign-in domain, `https://<prefix>.auth.<region>.amazoncognito.com`:
   * 1–63 lower-case letters, digits and dashes, unique in the region across all AWS accounts, and
   * without "aws", "amazon" or "cognito". Default `teleread-<stage>-<8 hex digits of the stack id>`,
   * unique per deployment and stable for the stack's life.
   */
  signInDomainPrefix?: string;
}

/**
 * CloudFront Function (viewer request) of the web UI's default behaviour: a path without a file
 * extension is one of the single page's routes, so index.html answers it. Distribution-wide error
 * pages would do the same but also turn the API's 403/404 answers into the page.
 */
const SPA_ROUTES_FUNCTION = `function handler(event) {
  var r = event.request;
  var last = r.uri.split('/').pop();
  if (last.indexOf('.') === -1) r.uri = '/index.html';
  return r;
}`;

/** Paths of the web UI that Cognito redirects to (web/src/oidc.ts). */
const WEB_CALLBACK_PATH = '/auth/callback';
const WEB_SIGNED_OUT_PATH = '/login';
/** The scopes the web UI asks for: Cognito's ID token needs nothing beyond openid (see the client). */
const COGNITO_SCOPE = 'openid';
/** Another issuer releases preferred_username with the profile scope (OIDC Core §5.4). */
const EXTERNAL_SCOPE_DEFAULT = 'openid profile';

/** Why a Cognito domain prefix would be refused (CreateUserPoolDomain's pattern and reserved words), or null. */
function domainPrefixProblem(prefix: string): string | null {
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(prefix)) return 'must be 1-63 lower-case letters, digits or dashes, starting and ending with a letter or digit';
  if (/aws|amazon|cognito/.test(prefix)) return 'must not contain "aws", "amazon" or "cognito"';
  return null;
}

/** A web origin Cognito accepts in redirect URLs: https, or http only on localhost (for testing); no path. */
function checkWebOrigin(origin: string, stage: string): void {
  if (Token.isUnresolved(origin)) return;
  let u: URL | null = null;
  try {
    u = new URL(origin);
  } catch {
    // reported below
  }
  const local = u?.protocol === 'http:' && u.hostname === 'localhost';
  if (!u || u.origin !== origin || !(u.protocol === 'https:' || local)) {
    throw new Error(`webOrigins: ${JSON.stringify(origin)} is not an origin like https://teleread.example.cn (https, no path, no trailing slash)`);
  }
  // A sign-in that returns to http://localhost hands codes to whatever listens there on a user's PC.
  if (local && stage === 'prod') throw new Error(`webOrigins: ${JSON.stringify(origin)} is for testing; the prod stage accepts https origins only`);
}

/**
 * Code and edges, replaceable at will: the four functions (each with its own role), the HTTP API with
 * the Cognito JWT authorizer, the user pool with its role groups and hosted sign-in, the schedule of the
 * sweeper, and the web UI on S3 + CloudFront (origin access control).
 */
export class AppStack extends Stack {
  readonly api: HttpApi;
  readonly userPool: UserPool | null = null;
  readonly userPoolClient: UserPoolClient | null = null;
  readonly functions: Record<'api' | 'ingest' | 'delivery' | 'sweep', TeleReadFunction>;
  readonly web: Bucket | null = null;
  readonly distribution: Distribution | null = null;

  constructor(scope: Construct, id: string, props: AppStackProps) {
    super(scope, id, props);
    const s = props.stateful;
    const name = (x: string) => `teleread-${props.stage}-${x}`;
    const retention = props.logRetention ?? RetentionDays.ONE_YEAR;
    const conc = { api: 20, ingest: 5, delivery: 2, sweep: 1, ...props.concurrency };

    const region = Stack.of(this).region;
    const inChina = !Token.isUnresolved(region) && region.startsWith('cn-');
    if (inChina && !props.identity) {
      throw new Error('Cognito user pools do not exist in the China regions: deploy with --context oidcIssuer=<https issuer> --context oidcAudience=<client id> (see docs/OPERATIONS.md).');
    }
    const withWeb = props.web ?? !inChina;
    const webOrigins = props.webOrigins ?? [];
    for (const o of webOrigins) checkWebOrigin(o, props.stage);

    // --- Who: Cognito user pool, one group per role, the clinic (and pools) as claims; or the given issuer.
    let userPool: UserPool | null = null;
    let signInDomain: UserPoolDomain | null = null;
    if (props.identity) {
      const webClientId = props.identity.webClientId ?? props.identity.audience[0];
      // The web UI's ID tokens carry its client id as `aud`: the authorizer must accept it.
      if (props.identity.scope !== undefined && !asksForIdToken(props.identity.scope)) {
        throw new Error('identity.scope must include openid (without it the provider gives no ID token): --context oidcScope="openid …"');
      }
      if (!webClientId || !props.identity.audience.includes(webClientId)) {
        throw new Error('identity.audience must list the web UI\'s client id (identity.webClientId, default audience[0]): --context oidcAudience=<client id>');
      }
    } else {
      userPool = new UserPool(this, 'Users', {
        userPoolName: name('users'),
        selfSignUpEnabled: false,
        signInAliases: { username: true },
        signInCaseSensitive: false,
        mfa: Mfa.REQUIRED,
        mfaSecondFactor: { otp: true, sms: false },
        passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true, tempPasswordValidity: Duration.days(3) },
        accountRecovery: AccountRecovery.NONE,
        featurePlan: FeaturePlan.PLUS,
        standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
        customAttributes: {
          clinicId: new StringAttribute({ minLen: 1, maxLen: 64, mutable: true }),
          pools: new StringAttribute({ minLen: 1, maxLen: 256, mutable: true }),
        },
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      (userPool.node.defaultChild as CfnUserPool).overrideLogicalId('UserPool');
      for (const role of ['technician', 'reader', 'admin']) {
        new CfnUserPoolGroup(this, `Group${role[0]!.toUpperCase()}${role.slice(1)}`, {
          userPoolId: userPool.userPoolId,
          groupName: role,
          description: `TeleRead ${role}s`,
        });
      }
      if (withWeb || webOrigins.length) {
        signInDomain = userPool.addDomain('SignInDomain', {
          cognitoDomain: { domainPrefix: this.signInDomainPrefix(props) },
          // The newer managed login (Cognito's current sign-in pages, which walk a new user through
          // the password and the TOTP authenticator this pool requires).
          managedLoginVersion: ManagedLoginVersion.NEWER_MANAGED_LOGIN,
        });
      } else {
        Annotations.of(this).addWarningV2(
          'teleread:no-web-sign-in',
          'No web UI origin (web is false and webOrigins is empty): the user pool gets no hosted sign-in, so the web UI cannot sign in to this deployment. Pass --context webOrigins=https://<web origin> to enable it.',
        );
      }
    }

    // --- Failed asynchronous invocations (the sweeper's schedule) land here, alarmed like the rest.
    const asyncFailures = new MonitoredQueue(this, 'AsyncFailures', {
      queueName: name('function-failures'),
      visibilityTimeout: Duration.minutes(5),
      maxReceiveCount: JOB_MAX_RECEIVES,
      encryptionKey: s.dataKey,
      alarmTopic: s.alarmTopic,
      depthAlarmThreshold: 0,
    });

    // --- Environment shared by every function (read by functions/config.ts).
    const queues: Record<string, { url: string; dlqUrl: string }> = {};
    for (const [qname, q] of s.sourceQueues()) queues[qname] = { url: q.queue.queueUrl, dlqUrl: q.dlq.queueUrl };
    const environment = {
      TELEREAD_STAGE: props.stage,
      TELEREAD_TABLE: s.table.tableName,
      TELEREAD_UPLOADS_BUCKET: s.uploads.bucketName,
      TELEREAD_REPORTS_BUCKET: s.reports.bucketName,
      TELEREAD_QUEUES: this.toJsonString(queues),
      TELEREAD_LEASE_SECONDS: String(props.leaseSeconds ?? 300),
    };

    // --- Least privilege, statement by statement.
    const tableRw = new PolicyStatement({
      sid: 'TableReadWriteNoDelete',
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      resources: [s.table.tableArn, `${s.table.tableArn}/index/*`],
    });
    const dataKey = (...actions: string[]) => new PolicyStatement({ sid: 'DataKey', actions, resources: [s.dataKey.keyArn] });
    const objects = (sid: string, actions: string[], arns: string[]) => new PolicyStatement({ sid, actions, resources: arns });
    const CONSUME = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'];
    const readQueueArns = [...s.readQueues.values()].map((q) => q.queue.queueArn);
    const fn = (fid: 'api' | 'ingest' | 'delivery' | 'sweep', memorySize: number, statements: PolicyStatement[]) =>
      new TeleReadFunction(this, `${fid[0]!.toUpperCase()}${fid.slice(1)}Function`, {
        entry: fid,
        functionName: name(fid),
        timeout: FUNCTION_TIMEOUTS[fid],
        memorySize,
        reservedConcurrency: conc[fid],
        environment,
        statements,
        logsKey: s.logsKey,
        deadLetterQueue: asyncFailures.queue,
        logRetention: retention,
      });

    this.functions = {
      ingest: fn('ingest', 1024, [
        tableRw,
        objects('ConsumeIngest', CONSUME, [s.ingest.queue.queueArn]),
        objects('ReadUploads', ['s3:GetObject'], [s.uploads.arnForObjects('uploads/*')]),
        objects('WriteQuarantine', ['s3:PutObject'], [s.uploads.arnForObjects('quarantine/*')]),
        objects('SendReads', ['sqs:SendMessage'], readQueueArns),
        dataKey('kms:Decrypt', 'kms:GenerateDataKey'),
      ]),
      api: fn('api', 1024, [
        tableRw,
        // Presigned PUTs are signed with this role: it may put uploads, nothing else of that bucket.
        objects('UploadsAndFont', ['s3:GetObject', 's3:PutObject'], [s.uploads.arnForObjects('uploads/*')]),
        // Without ListBucket S3 answers the HEAD of an upload not there yet with 403, not 404 (renewing
        // upload targets asks which files are missing). Keys carry ids only.
        objects('ListUploads', ['s3:ListBucket'], [s.uploads.bucketArn]),
        objects('Font', ['s3:GetObject'], [s.uploads.arnForObjects('config/fonts/*')]),
        objects('Reports', ['s3:GetObject', 's3:PutObject'], [s.reports.arnForObjects('reports/*')]),
        objects('Reads', ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:SendMessage', 'sqs:GetQueueAttributes'], readQueueArns),
        objects('SendDelivery', ['sqs:SendMessage'], [s.delivery.queue.queueArn]),
        dataKey('kms:Decrypt', 'kms:GenerateDataKey'),
      ]),
      delivery: fn('delivery', 512, [tableRw, objects('ConsumeDelivery', CONSUME, [s.delivery.queue.queueArn]), dataKey('kms:Decrypt', 'kms:GenerateDataKey')]),
      sweep: fn('sweep', 512, [
        tableRw,
        objects('SendReads', ['sqs:SendMessage'], readQueueArns),
        // A stored upload whose S3 event was lost gets an ingest job; a signature left unapplied, its
        // delivery. HEAD needs GetObject, and ListBucket for a missing upload to be a 404, not a 403.
        objects('HeadUploads', ['s3:GetObject'], [s.uploads.arnForObjects('uploads/*')]),
        objects('ListUploads', ['s3:ListBucket'], [s.uploads.bucketArn]),
        objects('SendJobs', ['sqs:SendMessage'], [s.ingest.queue.queueArn, s.delivery.queue.queueArn]),
        dataKey('kms:Decrypt', 'kms:GenerateDataKey'),
      ]),
    };

    // --- Triggers: SQS event sources with partial batch responses; the sweeper every minute.
    this.functions.ingest.fn.addEventSource(
      new SqsEventSource(s.ingest.queue, { batchSize: props.ingestBatchSize ?? 5, reportBatchItemFailures: true, maxConcurrency: Math.max(2, conc.ingest) }),
    );
    this.functions.delivery.fn.addEventSource(
      new SqsEventSource(s.delivery.queue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: Math.max(2, conc.delivery) }),
    );
    new Rule(this, 'SweepSchedule', {
      description: 'TeleRead: lease expiry, lost read messages, SLA escalations, incomplete submissions, lost upload events, unapplied signatures',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.functions.sweep.fn, { retryAttempts: 2, deadLetterQueue: asyncFailures.queue })],
    });

    // --- HTTP API (its JWT authorizer and routes follow the sign-in client, below).
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { encryptionKey: s.logsKey, retention, removalPolicy: RemovalPolicy.RETAIN });
    this.api = new HttpApi(this, 'Api', {
      apiName: name('api'),
      createDefaultStage: true,
      // The web UI reaches the API through its own CloudFront origin (/api/*); other origins must be listed.
      corsPreflight: props.apiOrigins?.length
        ? {
            allowOrigins: props.apiOrigins,
            allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST, CorsHttpMethod.PUT, CorsHttpMethod.OPTIONS],
            allowHeaders: ['authorization', 'content-type'],
            maxAge: Duration.hours(1),
          }
        : undefined,
    });
    const stage = this.api.defaultStage!.node.defaultChild as CfnStage;
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        requestTime: '$context.requestTime',
        method: '$context.httpMethod',
        path: '$context.path',
        status: '$context.status',
        latency: '$context.responseLatency',
        user: '$context.authorizer.claims.cognito:username',
      }),
    };
    stage.defaultRouteSettings = { throttlingBurstLimit: 100, throttlingRateLimit: 50 };
    const integration = new HttpLambdaIntegration('ApiIntegration', this.functions.api.fn);

    if (withWeb) {
      // --- Web UI: private bucket, CloudFront with origin access control.
      const webKey = new Key(this, 'WebKey', { description: 'TeleRead web UI bucket', enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
      const webBucket = new Bucket(this, 'Web', {
        encryption: BucketEncryption.KMS,
        encryptionKey: webKey,
        bucketKeyEnabled: true,
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        versioned: true,
        serverAccessLogsBucket: s.accessLogs,
        serverAccessLogsPrefix: 'web/',
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const webOrigin = S3BucketOrigin.withOriginAccessControl(webBucket);
      const webRoutes = new CloudFrontFunction(this, 'WebRoutes', {
        comment: 'TeleRead web UI: paths without a file extension are the single page',
        runtime: FunctionRuntime.JS_2_0,
        code: FunctionCode.fromInline(SPA_ROUTES_FUNCTION),
      });
      const distribution = new Distribution(this, 'WebDistribution', {
        comment: `TeleRead ${props.stage} web UI`,
        defaultRootObject: 'index.html',
        defaultBehavior: {
          origin: webOrigin,
          viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
          // The UI's own routes (/login, /auth/callback, /reader/…) are the one page; only here, so an
          // API's 403/404 (AUTH.NO_ROLE, CASE.NOT_FOUND) reaches the UI as what it is.
          functionAssociations: [{ function: webRoutes, eventType: FunctionEventType.VIEWER_REQUEST }],
        },
        // The API on the UI's own origin: no CORS, and the UI's relative /api/* URLs work as on one machine.
        additionalBehaviors: {
          '/api/*': {
            origin: new HttpOrigin(`${this.api.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`),
            viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
            allowedMethods: AllowedMethods.ALLOW_ALL,
            // CloudFront drops Authorization on GET unless the cache key holds it; with it in the key
            // and at most one second of caching, one caller can never see another's answer.
            cachePolicy: new CachePolicy(this, 'ApiCachePolicy', {
              comment: 'TeleRead API through CloudFront: keyed on Authorization, effectively uncached',
              defaultTtl: Duration.seconds(0),
              minTtl: Duration.seconds(0),
              maxTtl: Duration.seconds(1),
              headerBehavior: CacheHeaderBehavior.allowList('authorization'),
              queryStringBehavior: CacheQueryStringBehavior.all(),
              cookieBehavior: CacheCookieBehavior.none(),
            }),
            originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          },
        },
        geoRestriction: GeoRestriction.allowlist(...(props.webCountries ?? ['CN'])),
        httpVersion: HttpVersion.HTTP2_AND_3,
        priceClass: PriceClass.PRICE_CLASS_ALL,
        enableLogging: true,
        logBucket: s.accessLogs,
        logFilePrefix: 'cloudfront/',
      });
      // The key policy must allow any distribution of this account at first deploy (else a cycle between
      // key, bucket and distribution); the condition still pins the account and the CloudFront service.
      Annotations.of(this).acknowledgeWarning(
        '@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac',
        'The web bucket only holds the public static UI; the key policy is scoped to CloudFront of this account.',
      );
      this.web = webBucket;
      this.distribution = distribution;
    }

    // --- Sign-in of the web UI. The Cognito client comes after the distribution because its redirect
    // URLs name the distribution's domain; the distribution needs only the API's id, and the
    // authorizer and the api function's environment need the client: no cycle.
    let jwt: { issuer: string; audience: string[] };
    let oidcEnv: Record<string, string> = {};
    if (userPool) {
      const origins = [...(this.distribution ? [`https://${this.distribution.distributionDomainName}`] : []), ...webOrigins];
      const client = userPool.addClient('WebClient', {
        userPoolClientName: name('web'),
        generateSecret: false,
        // Only the hosted sign-in (code + PKCE) and its refresh: no direct InitiateAuth, whose tokens
        // could call Cognito's self-service user API.
        authFlows: { userSrp: false },
        preventUserExistenceErrors: true,
        idTokenValidity: Duration.hours(1),
        accessTokenValidity: Duration.hours(1),
        refreshTokenValidity: Duration.hours(12),
        // An ID token holds only the attributes its client may read (cognito:groups and
        // cognito:username always): the clinic and the pools must be readable, nothing else need be.
        readAttributes: new ClientAttributes().withCustomAttributes('clinicId', 'pools'),
        writeAttributes: undefined,
        ...(signInDomain
          ? {
              oAuth: {
                // Code + PKCE only: the implicit grant would put tokens in URLs and browser history.
                flows: { authorizationCodeGrant: true },
                // openid alone puts every readable attribute in the ID token; no access to Cognito's user API.
                scopes: [OAuthScope.OPENID],
                callbackUrls: origins.map((o) => `${o}${WEB_CALLBACK_PATH}`),
                logoutUrls: origins.map((o) => `${o}${WEB_SIGNED_OUT_PATH}`),
              },
            }
          : { disableOAuth: true }),
      });
      jwt = { issuer: `https://${userPool.userPoolProviderUrl}`, audience: [client.userPoolClientId] };
      if (signInDomain) {
        // Managed login shows an error page to a client without a style: Cognito's own look will do.
        new CfnManagedLoginBranding(this, 'SignInStyle', { userPoolId: userPool.userPoolId, clientId: client.userPoolClientId, useCognitoProvidedValues: true });
        const base = signInDomain.baseUrl();
        oidcEnv = {
          TELEREAD_OIDC_ISSUER: jwt.issuer,
          TELEREAD_OIDC_CLIENT_ID: client.userPoolClientId,
          TELEREAD_OIDC_SCOPE: COGNITO_SCOPE,
          // Named here so the api function fetches no discovery document at cold start. Cognito's
          // /logout wants client_id and logout_uri rather than RP-initiated logout's parameters.
          TELEREAD_OIDC_AUTHORIZATION_ENDPOINT: `${base}/oauth2/authorize`,
          TELEREAD_OIDC_TOKEN_ENDPOINT: `${base}/oauth2/token`,
          TELEREAD_OIDC_END_SESSION_ENDPOINT: `${base}/logout`,
          TELEREAD_OIDC_REVOCATION_ENDPOINT: `${base}/oauth2/revoke`,
        };
        new CfnOutput(this, 'SignInDomainUrl', { value: base });
      }
      this.userPool = userPool;
      this.userPoolClient = client;
    } else {
      const id = props.identity!;
      jwt = { issuer: id.issuer, audience: id.audience };
      // Endpoints come from the issuer's discovery document, read once per cold start.
      oidcEnv = { TELEREAD_OIDC_ISSUER: id.issuer, TELEREAD_OIDC_CLIENT_ID: id.webClientId ?? id.audience[0]!, TELEREAD_OIDC_SCOPE: id.scope ?? EXTERNAL_SCOPE_DEFAULT };
    }
    // Only the api function answers GET /api/auth/config.
    for (const [k, v] of Object.entries(oidcEnv)) this.functions.api.fn.addEnvironment(k, v);

    const authorizer = new HttpJwtAuthorizer('Jwt', jwt.issuer, { jwtAudience: jwt.audience });
    // Public: liveness, the signers' JWKS, the API description, and how to sign in (asked before any token exists).
    for (const path of ['/api/health', '/api/keys', '/api/openapi.json', '/api/auth/config']) {
      this.api.addRoutes({ path, methods: [HttpMethod.GET], integration, authorizer: new HttpNoneAuthorizer() });
    }
    this.api.addRoutes({
      path: '/api/{proxy+}',
      methods: [HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT],
      integration,
      authorizer,
    });
    // DICOMweb reading (QIDO/WADO) for viewers and county PACS, same tokens; multipart answers over
    // Lambda's payload cap are refused with a pointer to the instance links. STOW-RS is not routed on
    // AWS yet (docs/OPERATIONS.md): its staging needs S3 rights and bodies above 6 MB need another door.
    this.api.addRoutes({ path: '/dicomweb/{proxy+}', methods: [HttpMethod.GET], integration, authorizer });

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    if (this.distribution && this.web) {
      new CfnOutput(this, 'WebUrl', { value: `https://${this.distribution.distributionDomainName}` });
      new CfnOutput(this, 'WebBucketName', { value: this.web.bucketName });
    }
    if (this.userPool && this.userPoolClient) {
      new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: this.userPoolClient.userPoolClientId });
    }
  }

  /** The hosted sign-in domain's prefix: the one given, else one unique to this deployment. */
  private signInDomainPrefix(props: AppStackProps): string {
    if (props.signInDomainPrefix !== undefined) {
      const problem = Token.isUnresolved(props.signInDomainPrefix) ? null : domainPrefixProblem(props.signInDomainPrefix);
      if (problem) throw new Error(`signInDomainPrefix ${JSON.stringify(props.signInDomainPrefix)} ${problem}.`);
      return props.signInDomainPrefix;
    }
    const stem = `teleread-${props.stage}`;
    const problem = domainPrefixProblem(`${stem}-0a1b2c3d`);
    if (problem) throw new Error(`The default sign-in domain prefix ${stem}-<id> ${problem}: choose one with --context signInDomainPrefix=<prefix>.`);
    // Prefixes are unique per region across all accounts, so the stage alone would collide with other
    // consortia's TeleReads; the stack id (arn:…:stack/<name>/<uuid>) is fixed for the stack's life.
    const uuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    return `${stem}-${Fn.select(0, Fn.split('-', uuid))}`;
  }
}
