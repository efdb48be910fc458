/**
 * The register of every cdk-nag acknowledgment (AwsSolutions and HIPAA.Security packs). Each names
 * the construct (stack + path), the rule, the finding where the rule reports several, and why the
 * finding is accepted. `applyNagAcknowledgments` is the only place acknowledgments are made, and
 * test/infra/nag.test.ts checks both directions: every finding is acknowledged here, and every
 * entry here still matches a finding and a construct.
 */
export interface NagAcknowledgment {
  /** `stateful` or `app`. */
  stack: 'stateful' | 'app';
  /** Construct path inside the stack (`Uploads`, `IngestFunction/Role`, …). */
  path: string;
  /** The rule id, e.g. `AwsSolutions-IAM5` or `HIPAA.Security-LambdaInsideVPC`. */
  rule: string;
  /**
   * The finding (`Resource::…`, `Action::…`) for rules that report several; omitted when the rule
   * reports one. `{stateful}` stands for the stateful stack's name (cross-stack exports carry it).
   */
  finding?: string;
  /** Why this is acceptable; at least 40 characters. */
  reason: string;
  /** The construct exists only in some configurations (the web UI is not hosted in cn-* regions). */
  optional?: boolean;
}

const VPC_REASON =
  'The functions reach only AWS service APIs (S3, DynamoDB, SQS, KMS, CloudWatch Logs) over TLS with IAM-signed requests and hold no network-reachable resource; a VPC would add NAT or interface endpoints without protecting any data path.';
const TABLE_INDEX_REASON =
  'Query on the table\'s own global secondary indexes (cases by clinic, pool, status, patient hash, lease expiry): the wildcard is the index name under this one table ARN, not other tables.';
const REPLICATION_REASON =
  'Versioning (and Object Lock on reports) plus server access logs protect the objects; cross-region replication to the second China region is a per-consortium cost decision documented in docs/OPERATIONS.md, not a default.';

const fnEntries = (fn: 'Ingest' | 'Api' | 'Delivery' | 'Sweep'): NagAcknowledgment[] => [
  { stack: 'app', path: `${fn}Function/Function`, rule: 'HIPAA.Security-LambdaInsideVPC', reason: VPC_REASON },
  {
    stack: 'app',
    path: `${fn}Function/Policy`,
    rule: 'AwsSolutions-IAM5',
    finding: 'Resource::{stateful}:ExportsOutputFnGetAttTableArn48754775/index/*',
    reason: TABLE_INDEX_REASON,
  },
];

export const NAG_ACKNOWLEDGMENTS: readonly NagAcknowledgment[] = [
  ...fnEntries('Ingest'),
  ...fnEntries('Api'),
  ...fnEntries('Delivery'),
  ...fnEntries('Sweep'),
  {
    stack: 'app',
    path: 'IngestFunction/Policy',
    rule: 'AwsSolutions-IAM5',
    finding: 'Resource::{stateful}:ExportsOutputFnGetAttUploadsBucketArnAB1FB954/uploads/*',
    reason: 'Ingest reads any stored upload (keys uploads/<clinic>/<submission>/<n> are created at run time); GetObject only, limited to the uploads/ prefix.',
  },
  {
    stack: 'app',
    path: 'SweepFunction/Policy',
    rule: 'AwsSolutions-IAM5',
    finding: 'Resource::{stateful}:ExportsOutputFnGetAttUploadsBucketArnAB1FB954/uploads/*',
    reason: 'The sweeper HEADs the uploads of submissions still waiting for files (an S3 event that never reached the ingest queue gets its job); GetObject (which HeadObject needs) only, limited to the uploads/ prefix.',
  },
  {
    stack: 'app',
    path: 'IngestFunction/Policy',
    rule: 'AwsSolutions-IAM5',
    finding: 'Resource::{stateful}:ExportsOutputFnGetAttUploadsBucketArnAB1FB954/quarantine/*',
    reason: 'Ingest copies refused uploads byte-identical under quarantine/<clinic>/<submission>/<n>; PutObject only, limited to the quarantine/ prefix.',
  },
  {
    stack: 'app',
    path: 'ApiFunction/Policy',
    rule: 'AwsSolutions-IAM5',
    finding: 'Resource::{stateful}:ExportsOutputFnGetAttUploadsBucketArnAB1FB954/uploads/*',
    reason: 'The api role signs the presigned upload PUTs (each bound to one key, type and length) and streams accepted instances to readers; uploads/ prefix only.',
  },
  {
    stack: 'app',
    path: 'ApiFunction/Policy',
    rule: 'AwsSolutions-IAM5',
    finding: 'Resource::{stateful}:ExportsOutputFnGetAttUploadsBucketArnAB1FB954/config/fonts/*',
    reason: 'The api function fetches the report PDF font (Noto Sans CJK SC) at cold start; read-only, limited to the config/fonts/ prefix.',
  },
  {
    stack: 'app',
    path: 'ApiFunction/Policy',
    rule: 'AwsSolutions-IAM5',
    finding: 'Resource::{stateful}:ExportsOutputFnGetAttReportsBucketArn5273BD29/reports/*',
    reason: 'Signed report PDFs are written create-once under reports/<clinic>/<case>/v<n>.pdf and read back for the clinic; Object Lock keeps every version.',
  },
  ...(['health', 'keys', 'openapi.json'] as const).map(
    (route): NagAcknowledgment => ({
      stack: 'app',
      path: `Api/GET--api--${route}`,
      rule: 'AwsSolutions-APIG4',
      reason: `GET /api/${route} is public by design (liveness, the signers' public JWKS for offline verification, the API description); it returns no PHI.`,
    }),
  ),
  {
    stack: 'app',
    path: 'Api/GET--api--auth--config',
    rule: 'AwsSolutions-APIG4',
    reason: 'GET /api/auth/config tells the web UI how to sign in (issuer, public client id, scope, endpoints) before it holds a token; all of it is public OIDC metadata, no PHI.',
  },
  {
    stack: 'app',
    path: 'WebDistribution',
    rule: 'AwsSolutions-CFR4',
    optional: true,
    reason: 'Without a custom domain the distribution uses the default CloudFront certificate, whose policy CloudFront fixes; deploy with a domain and ACM certificate for TLSv1.2_2021.',
  },
  {
    stack: 'app',
    path: 'WebDistribution',
    rule: 'AwsSolutions-CFR2',
    optional: true,
    reason: 'The distribution serves only the static UI (no PHI, no API); WAF web ACLs for CloudFront live in us-east-1 and are attached per deployment where required.',
  },
  { stack: 'app', path: 'Web', rule: 'HIPAA.Security-S3BucketReplicationEnabled', optional: true, reason: 'The web bucket holds only the rebuildable static UI (npm run build && aws s3 sync); replication would protect nothing.' },
  { stack: 'stateful', path: 'Uploads', rule: 'HIPAA.Security-S3BucketReplicationEnabled', reason: REPLICATION_REASON },
  { stack: 'stateful', path: 'Reports', rule: 'HIPAA.Security-S3BucketReplicationEnabled', reason: REPLICATION_REASON },
  { stack: 'stateful', path: 'AccessLogs', rule: 'HIPAA.Security-S3BucketReplicationEnabled', reason: 'Access logs are an audit trail of the data buckets kept 400 days with versioning; they are not themselves patient data to replicate.' },
  {
    stack: 'stateful',
    path: 'Table',
    rule: 'HIPAA.Security-DynamoDBInBackupPlan',
    reason: 'Point-in-time recovery (35 days, continuous) and deletion protection are on; a long-term AWS Backup plan follows the consortium retention policy and is added per deployment (docs/OPERATIONS.md).',
  },
  {
    stack: 'stateful',
    path: 'AccessLogs',
    rule: 'HIPAA.Security-S3DefaultEncryptionKMS',
    reason: 'S3 server access log delivery (and CloudFront standard logging) supports only SSE-S3 on the target bucket; the logs hold request metadata, not object contents.',
  },
];
