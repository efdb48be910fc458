import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AppError } from '../../domain/errors.ts';
import { systemClock, type Clock } from '../../ports/clock.ts';
import type { UploadTarget, UploadTargetSigner } from '../../ports/upload-targets.ts';
import { checkBlobKey } from './blob-keys.ts';

/** Presigned URLs never live longer than this, whatever the caller asks. */
export const MAX_UPLOAD_URL_SECONDS = 300;

/**
 * Presigned S3 PUTs: SigV4 over the exact key, the content type and the content length (the declared
 * size), expiring within five minutes. A PUT of another size or type, or to another key, fails the
 * signature check at S3.
 */
export class S3UploadTargetSigner implements UploadTargetSigner {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly clock: Clock = systemClock,
  ) {}

  async create(key: string, opts: { maxBytes: number; contentType: string; expiresInSeconds: number }): Promise<UploadTarget> {
    checkBlobKey(key);
    if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < 0) {
      throw new AppError('UPLOAD.INVALID_SIZE', 'invalid', 'The declared size must be a non-negative integer.');
    }
    const expiresIn = Math.max(1, Math.min(MAX_UPLOAD_URL_SECONDS, Math.floor(opts.expiresInSeconds)));
    const signingDate = this.clock.now();
    const url = await getSignedUrl(
      this.s3,
      new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: opts.contentType, ContentLength: opts.maxBytes }),
      { expiresIn, signingDate, signableHeaders: new Set(['content-type', 'content-length']) },
    );
    return {
      url,
      method: 'PUT',
      // content-length is signed too: clients send exactly the declared number of bytes (browsers do so by themselves).
      headers: { 'content-type': opts.contentType },
      expiresAt: new Date(signingDate.getTime() + expiresIn * 1000).toISOString(),
    };
  }
}

/** Presigned S3 GETs of one stored object (instances for viewers), valid for `expiresInSeconds` (default 60). */
export class S3DownloadUrlSigner {
  constructor(
    private readonly s3: S3Client,
    private readonly bucketOf: (key: string) => string,
    private readonly expiresInSeconds = 60,
  ) {}

  async url(key: string): Promise<string> {
    checkBlobKey(key);
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucketOf(key), Key: key }), {
      expiresIn: Math.max(1, Math.min(MAX_UPLOAD_URL_SECONDS, this.expiresInSeconds)),
    });
  }
}
