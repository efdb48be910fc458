import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { DEFAULT_SETTINGS, type Deps } from '../shared/application/deps.ts';
import { VerifiedClaimsTokenService } from '../shared/adapters/aws/claims-token-service.ts';
import { DynamoAttemptLimiter } from '../shared/adapters/aws/dynamo-attempt-limiter.ts';
import { DynamoAuditLog } from '../shared/adapters/aws/dynamo-audit-log.ts';
import { DynamoCaseRepository } from '../shared/adapters/aws/dynamo-case-repository.ts';
import { DynamoDirectory } from '../shared/adapters/aws/dynamo-directory.ts';
import { DynamoNotifier } from '../shared/adapters/aws/dynamo-notifier.ts';
import { DynamoSignerKeyStore } from '../shared/adapters/aws/dynamo-signer-key-store.ts';
import { ImmediateUnitOfWork } from '../shared/adapters/aws/immediate-unit-of-work.ts';
import { RandomIdsAws } from '../shared/adapters/aws/ids.ts';
import { PowertoolsLoggerAdapter } from '../shared/adapters/aws/powertools-logger.ts';
import { S3BlobStore } from '../shared/adapters/aws/s3-blob-store.ts';
import { S3DownloadUrlSigner, S3UploadTargetSigner } from '../shared/adapters/aws/s3-upload-target-signer.ts';
import { queueMap, SqsJobQueue, SqsReadQueue } from '../shared/adapters/aws/sqs-queue.ts';
import { systemClock } from '../shared/ports/clock.ts';
import { SealedKeyReportSigner } from '../shared/signing/sealed-key-signer.ts';
import type { AwsConfig } from './config.ts';
import type { ReportRenderer } from '../shared/ports/report-renderer.ts';
import { lambdaInspector } from './inspector.ts';

export interface AwsSystem {
  deps: Deps;
  /** Presigned GET of a stored object (uploads bucket; reports/ in the reports bucket). */
  objectUrl: (key: string) => Promise<string>;
  tokens: VerifiedClaimsTokenService;
  powertools: PowertoolsLogger;
}

/** The AWS composition (mirrors local/compose.ts): SDK clients and adapters, built once per cold start. */
/** For functions that never render a PDF: keeps pdfkit and fontkit out of their bundles. */
const NO_RENDERER: ReportRenderer = {
  render: () => Promise.reject(new Error('this function does not render reports')),
};

export interface ComposeOptions {
  /** The PDF renderer (the api function passes one; see api.lambda.ts). */
  renderer?: (s3: S3Client) => Promise<ReportRenderer>;
}

export async function composeAws(cfg: AwsConfig, service: string, opts: ComposeOptions = {}): Promise<AwsSystem> {
  const dynamo = new DynamoDBClient({});
  const s3 = new S3Client({});
  const sqs = new SQSClient({});
  const powertools = new PowertoolsLogger({ serviceName: `teleread-${service}` });
  const resolve = queueMap(cfg.TELEREAD_QUEUES);
  const renderer = opts.renderer ? await opts.renderer(s3) : NO_RENDERER;
  const deps: Deps = {
    cases: new DynamoCaseRepository(dynamo, cfg.TELEREAD_TABLE),
    blobs: new S3BlobStore(s3, { bucket: cfg.TELEREAD_UPLOADS_BUCKET, prefixBuckets: { 'reports/': cfg.TELEREAD_REPORTS_BUCKET } }),
    readQueue: new SqsReadQueue(sqs, { resolve, waitTimeSeconds: cfg.TELEREAD_READ_WAIT_SECONDS }),
    jobQueue: new SqsJobQueue(sqs, { resolve }),
    inspector: lambdaInspector(),
    renderer,
    signer: new SealedKeyReportSigner(new DynamoSignerKeyStore(dynamo, cfg.TELEREAD_TABLE), {
      scrypt: { N: 2 ** cfg.TELEREAD_SCRYPT_LOG_N, r: 8, p: 1 },
    }),
    attempts: new DynamoAttemptLimiter(dynamo, cfg.TELEREAD_TABLE),
    directory: await DynamoDirectory.load(dynamo, cfg.TELEREAD_TABLE),
    uploads: new S3UploadTargetSigner(s3, cfg.TELEREAD_UPLOADS_BUCKET),
    notifier: new DynamoNotifier(dynamo, cfg.TELEREAD_TABLE),
    audit: new DynamoAuditLog(dynamo, cfg.TELEREAD_TABLE),
    uow: new ImmediateUnitOfWork(),
    clock: systemClock,
    ids: new RandomIdsAws(),
    log: new PowertoolsLoggerAdapter(powertools),
    settings: {
      ...DEFAULT_SETTINGS,
      leaseSeconds: cfg.TELEREAD_LEASE_SECONDS,
      uploadUrlTtlSeconds: cfg.TELEREAD_UPLOAD_URL_SECONDS,
      maxUploadBytes: cfg.TELEREAD_MAX_UPLOAD_BYTES,
    },
  };
  const downloads = new S3DownloadUrlSigner(s3, (key) => (key.startsWith('reports/') ? cfg.TELEREAD_REPORTS_BUCKET : cfg.TELEREAD_UPLOADS_BUCKET));
  return { deps, objectUrl: (key) => downloads.url(key), tokens: new VerifiedClaimsTokenService(), powertools };
}
