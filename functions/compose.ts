import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { DEFAULT_SETTINGS, type Deps } from '../shared/application/deps.ts';
import { VerifiedClaimsTokenService } from '../shared/adapters/aws/claims-token-service.ts';
import { DynamoAuditLog } from '../shared/adapters/aws/dynamo-audit-log.ts';
import { DynamoCaseRepository } from '../shared/adapters/aws/dynamo-case-repository.ts';
import { DynamoDirectory } from '../shared/adapters/aws/dynamo-directory.ts';
import { DynamoNotifier } from '../shared/adapters/aws/dynamo-notifier.ts';
import { DynamoSignerKeyStore } from '../shared/adapters/aws/dynamo-signer-key-store.ts';
import { RandomIdsAws } from '../shared/adapters/aws/ids.ts';
import { PowertoolsLoggerAdapter } from '../shared/adapters/aws/powertools-logger.ts';
import { S3BlobStore } from '../shared/adapters/aws/s3-blob-store.ts';
import { S3UploadTargetSigner } from '../shared/adapters/aws/s3-upload-target-signer.ts';
import { queueMap, SqsJobQueue, SqsReadQueue } from '../shared/adapters/aws/sqs-queue.ts';
import { systemClock } from '../shared/ports/clock.ts';
import { SealedKeyReportSigner } from '../shared/signing/sealed-key-signer.ts';
import type { AwsConfig } from './config.ts';
import { PdfReportRenderer } from '../shared/reports/pdf.ts';
import { loadCjkFont } from '../shared/reports/font.ts';
import { fetchFontFile } from './font.ts';
import { lambdaInspector } from './inspector.ts';

export interface AwsSystem {
  deps: Deps;
  tokens: VerifiedClaimsTokenService;
  powertools: PowertoolsLogger;
}

/** The AWS composition (mirrors local/compose.ts): SDK clients and adapters, built once per cold start. */
export async function composeAws(cfg: AwsConfig, service: string, opts: { renders?: boolean } = {}): Promise<AwsSystem> {
  const dynamo = new DynamoDBClient({});
  const s3 = new S3Client({});
  const sqs = new SQSClient({});
  const powertools = new PowertoolsLogger({ serviceName: `teleread-${service}` });
  const resolve = queueMap(cfg.TELEREAD_QUEUES);
  const fontFile = opts.renders
    ? await fetchFontFile(s3, cfg.TELEREAD_UPLOADS_BUCKET, cfg.TELEREAD_FONT_KEY, '/tmp/teleread-fonts/NotoSansCJKsc-Regular.otf')
    : null;
  const deps: Deps = {
    cases: new DynamoCaseRepository(dynamo, cfg.TELEREAD_TABLE),
    blobs: new S3BlobStore(s3, { bucket: cfg.TELEREAD_UPLOADS_BUCKET, prefixBuckets: { 'reports/': cfg.TELEREAD_REPORTS_BUCKET } }),
    readQueue: new SqsReadQueue(sqs, { resolve, waitTimeSeconds: cfg.TELEREAD_READ_WAIT_SECONDS }),
    jobQueue: new SqsJobQueue(sqs, { resolve }),
    inspector: lambdaInspector(),
    renderer: new PdfReportRenderer({
      font: () => {
        if (!fontFile) throw new Error(`the report font is missing: put it at s3://${cfg.TELEREAD_UPLOADS_BUCKET}/${cfg.TELEREAD_FONT_KEY}`);
        return loadCjkFont({ fontFile });
      },
    }),
    signer: new SealedKeyReportSigner(new DynamoSignerKeyStore(dynamo, cfg.TELEREAD_TABLE), {
      scrypt: { N: 2 ** cfg.TELEREAD_SCRYPT_LOG_N, r: 8, p: 1 },
    }),
    directory: await DynamoDirectory.load(dynamo, cfg.TELEREAD_TABLE),
    uploads: new S3UploadTargetSigner(s3, cfg.TELEREAD_UPLOADS_BUCKET),
    notifier: new DynamoNotifier(dynamo, cfg.TELEREAD_TABLE),
    audit: new DynamoAuditLog(dynamo, cfg.TELEREAD_TABLE),
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
  return { deps, tokens: new VerifiedClaimsTokenService(), powertools };
}
