import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption, type CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectLockRetention,
  ObjectOwnership,
  HttpMethods,
  type CfnBucket,
} from 'aws-cdk-lib/aws-s3';
import { Topic, type CfnTopic } from 'aws-cdk-lib/aws-sns';
import { CfnQueuePolicy } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TABLE_INDEXES } from '../../shared/adapters/aws/dynamo-schema.ts';
import { MonitoredQueue } from '../constructs/monitored-queue.ts';
import {
  DEFAULT_POOLS,
  FUNCTION_TIMEOUTS,
  JOB_MAX_RECEIVES,
  READ_MAX_RECEIVES,
  VISIBILITY_FACTOR,
  idOf,
  readQueueNames,
} from '../settings.ts';

export interface StatefulStackProps extends StackProps {
  /** Stage name (`dev`, `prod`, …): part of every physical name. Required. */
  stage: string;
  /** Reading pools; one read queue per pool × priority. Default: ecg, radiography, ultrasound. */
  pools?: readonly string[];
  /**
   * Retention of signed reports under S3 Object Lock, in days. Default 15 years (5479 days): the
   * outpatient record retention of 医疗机构病历管理规定; raise it for inpatient records (30 years).
   */
  reportRetentionDays?: number;
  /** Object Lock mode of the reports bucket. Default COMPLIANCE for stage `prod`, GOVERNANCE otherwise. */
  reportLockMode?: 'COMPLIANCE' | 'GOVERNANCE';
  /** Origins allowed to PUT uploads and GET instances with presigned URLs (the web UI). Default: none (set it at deploy). */
  uploadOrigins?: readonly string[];
  /** Keep data on stack deletion (default true; tests may pass false). */
  retainData?: boolean;
}

/**
 * Everything that holds data and outlives code: buckets, the table, queues, keys and the alarm
 * topic. Logical ids are pinned, so refactoring the constructs never replaces a stateful resource.
 */
export class StatefulStack extends Stack {
  readonly stage: string;
  readonly pools: readonly string[];
  readonly dataKey: Key;
  readonly logsKey: Key;
  readonly accessLogs: Bucket;
  readonly uploads: Bucket;
  readonly reports: Bucket;
  readonly table: Table;
  readonly alarmTopic: Topic;
  readonly ingest: MonitoredQueue;
  readonly delivery: MonitoredQueue;
  /** Logical read-queue name (`ecg.stat`) → queue. */
  readonly readQueues: Map<string, MonitoredQueue>;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    this.stage = props.stage;
    this.pools = props.pools ?? DEFAULT_POOLS;
    const removalPolicy = props.retainData === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const name = (s: string) => `teleread-${props.stage}-${s}`;
    const pin = (c: { node: { defaultChild?: unknown } }, logicalId: string) =>
      (c.node.defaultChild as { overrideLogicalId(id: string): void }).overrideLogicalId(logicalId);

    // Keys: one for data at rest (buckets, table, queues, alarm topic), one for log groups.
    this.dataKey = new Key(this, 'DataKey', {
      alias: `alias/${name('data')}`,
      description: 'TeleRead data at rest: uploads, reports, table, queues',
      enableKeyRotation: true,
      removalPolicy,
    });
    pin(this.dataKey, 'DataKey');
    // S3 sends object-created events to the encrypted ingest queue; CloudWatch alarms publish to the
    // encrypted topic; EventBridge puts a sweep it could not invoke into the encrypted failures queue
    // (without the key it cannot, and the failure would leave no trace).
    for (const service of ['s3', 'cloudwatch', 'events']) {
      this.dataKey.addToResourcePolicy(
        new PolicyStatement({
          sid: `Allow${service}ToUseTheKeyForNotifications`,
          effect: Effect.ALLOW,
          principals: [new ServicePrincipal(`${service}.amazonaws.com`)],
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
        }),
      );
    }
    this.logsKey = new Key(this, 'LogsKey', {
      alias: `alias/${name('logs')}`,
      description: 'TeleRead CloudWatch log groups',
      enableKeyRotation: true,
      removalPolicy,
    });
    pin(this.logsKey, 'LogsKey');
    this.logsKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchLogs',
        principals: [new ServicePrincipal(`logs.${Aws.REGION}.${Aws.URL_SUFFIX}`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` },
        },
      }),
    );

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      topicName: name('alarms'),
      masterKey: this.dataKey,
      enforceSSL: true,
    });
    (this.alarmTopic.node.defaultChild as CfnTopic).overrideLogicalId('AlarmTopic');

    // Server access logs of the data buckets (and CloudFront's). S3 log delivery supports SSE-S3 only.
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(400), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy,
    });
    pin(this.accessLogs, 'AccessLogsBucket');

    this.uploads = new Bucket(this, 'Uploads', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'uploads/',
      lifecycleRules: [
        { noncurrentVersionExpiration: Duration.days(30) },
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      cors: props.uploadOrigins?.length
        ? [{ allowedMethods: [HttpMethods.PUT, HttpMethods.GET], allowedOrigins: [...props.uploadOrigins], allowedHeaders: ['content-type'], maxAge: 3000 }]
        : undefined,
      removalPolicy,
    });
    pin(this.uploads, 'UploadsBucket');

    const days = props.reportRetentionDays ?? 5479;
    const lockMode = props.reportLockMode ?? (props.stage === 'prod' ? 'COMPLIANCE' : 'GOVERNANCE');
    this.reports = new Bucket(this, 'Reports', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention:
        lockMode === 'COMPLIANCE' ? ObjectLockRetention.compliance(Duration.days(days)) : ObjectLockRetention.governance(Duration.days(days)),
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'reports/',
      removalPolicy,
    });
    pin(this.reports, 'ReportsBucket');

    // One table; its GSIs are the adapters' (shared/adapters/aws/dynamo-schema.ts).
    this.table = new Table(this, 'Table', {
      tableName: name('data'),
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.dataKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.retainData !== false,
      removalPolicy,
    });
    for (const i of TABLE_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: i.name,
        partitionKey: { name: i.pk, type: AttributeType.STRING },
        sortKey: { name: i.sk, type: AttributeType.STRING },
      });
    }
    (this.table.node.defaultChild as CfnTable).overrideLogicalId('Table');

    const queue = (qid: string, queueName: string, consumerTimeout: Duration | null, maxReceiveCount: number) =>
      new MonitoredQueue(this, qid, {
        queueName: name(queueName),
        visibilityTimeout: consumerTimeout ? Duration.seconds(consumerTimeout.toSeconds() * VISIBILITY_FACTOR) : Duration.minutes(5),
        maxReceiveCount,
        encryptionKey: this.dataKey,
        alarmTopic: this.alarmTopic,
      });
    this.ingest = queue('Ingest', 'ingest', FUNCTION_TIMEOUTS.ingest, JOB_MAX_RECEIVES);
    this.delivery = queue('Delivery', 'delivery', FUNCTION_TIMEOUTS.delivery, JOB_MAX_RECEIVES);
    this.readQueues = new Map(
      readQueueNames(this.pools).map((q) => [q, queue(`Read${idOf(q)}`, `read-${q.replace('.', '-')}`, null, READ_MAX_RECEIVES)]),
    );

    // S3 → SQS directly (no notification custom resource): the queue policy first, then the bucket's
    // notification configuration. The policy cannot name the bucket's ARN (a cycle), so it is scoped
    // to S3 acting for this account.
    this.ingest.queue.addToResourcePolicy(
      new PolicyStatement({
        sid: 'S3ObjectCreated',
        principals: [new ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.ingest.queue.queueArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    const ingestPolicy = this.ingest.queue.node.findChild('Policy').node.defaultChild as CfnQueuePolicy;
    const cfnUploads = this.uploads.node.defaultChild as CfnBucket;
    cfnUploads.notificationConfiguration = {
      queueConfigurations: [
        {
          event: 's3:ObjectCreated:*',
          queue: this.ingest.queue.queueArn,
          filter: { s3Key: { rules: [{ name: 'prefix', value: 'uploads/' }] } },
        },
      ],
    };
    cfnUploads.addResourceDependency(ingestPolicy);

    new CfnOutput(this, 'UploadsBucketName', { value: this.uploads.bucketName });
    new CfnOutput(this, 'ReportsBucketName', { value: this.reports.bucketName });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
  }

  /** Every source queue (ingest, delivery, reads) by logical name. */
  sourceQueues(): Map<string, MonitoredQueue> {
    return new Map([['ingest', this.ingest], ['delivery', this.delivery], ...this.readQueues]);
  }
}
