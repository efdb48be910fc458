import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** esbuild settings shared by synth and by infra/bundle-report.ts. */
export const BUNDLING = {
  format: 'esm' as const,
  target: 'node22',
  platform: 'node' as const,
  minify: true,
  mainFields: ['module', 'main'],
  /** The Lambda Node.js runtime ships the AWS SDK v3: not bundled. */
  external: ['@aws-sdk/*'],
  /** CommonJS dependencies call require(); give the ESM bundle one. */
  banner: "import { createRequire as __teleread_cr } from 'node:module'; const require = __teleread_cr(import.meta.url);",
  /** fontkit's WOFF2 decoder (brotli, ~475 KB) is never used with the .otf report font. */
  alias: { brotli: fileURLToPath(new URL('../stubs/brotli', import.meta.url)) } as Record<string, string>,
};

export const FUNCTIONS_DIR = fileURLToPath(new URL('../../functions/', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface TeleReadFunctionProps {
  /** `functions/<entry>.lambda.ts`. */
  entry: 'ingest' | 'api' | 'delivery' | 'sweep';
  functionName: string;
  timeout: Duration;
  memorySize: number;
  reservedConcurrency: number;
  environment: Record<string, string>;
  /** Exactly what this function may do, besides writing its own log group. */
  statements: PolicyStatement[];
  logsKey: IKey;
  /** Where failed asynchronous invocations go (the schedule's). */
  deadLetterQueue: IQueue;
  logRetention?: RetentionDays;
}

/**
 * One Lambda function with its own least-privilege role (no managed policies: only its log group and
 * the statements given), its own KMS-encrypted log group, reserved concurrency and a
 * dead-letter queue for asynchronous invocations. Bundled with esbuild (no Docker).
 */
export class TeleReadFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly policy: ManagedPolicy;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: TeleReadFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      encryptionKey: props.logsKey,
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `TeleRead ${props.entry} function: least privilege`,
    });
    // One customer-managed policy holds every permission (HIPAA: no inline policies); the function
    // gets the role without policy updates, so no construct can widen it behind our back.
    this.policy = new ManagedPolicy(this, 'Policy', {
      description: `TeleRead ${props.entry} function`,
      roles: [this.role],
      statements: [
        new PolicyStatement({ sid: 'OwnLogGroup', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
        new PolicyStatement({ sid: 'AsyncFailures', actions: ['sqs:SendMessage'], resources: [props.deadLetterQueue.queueArn] }),
        ...props.statements,
      ],
    });

    this.fn = new NodejsFunction(this, 'Function', {
      functionName: props.functionName,
      entry: `${FUNCTIONS_DIR}${props.entry}.lambda.ts`,
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role.withoutPolicyUpdates(),
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrency,
      deadLetterQueue: props.deadLetterQueue,
      environment: { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_LOG_LEVEL: 'INFO', ...props.environment },
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLING.target,
        minify: BUNDLING.minify,
        sourceMap: true,
        mainFields: BUNDLING.mainFields,
        externalModules: BUNDLING.external,
        banner: BUNDLING.banner,
        esbuildArgs: { '--alias': Object.entries(BUNDLING.alias).map(([k, v]) => `${k}=${v}`) },
        forceDockerBundling: false,
      },
    });
  }

  get function(): IFunction {
    return this.fn;
  }
}
