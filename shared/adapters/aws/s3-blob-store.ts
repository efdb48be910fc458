import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { AppError } from '../../domain/errors.ts';
import type { BlobStore, PutOptions, StoredObject } from '../../ports/blob-store.ts';
import { checkBlobKey } from './blob-keys.ts';

export interface S3BlobStoreOptions {
  /** Bucket of every key that no `prefixBuckets` entry claims (uploads/, quarantine/). */
  bucket: string;
  /** Key prefix → bucket, e.g. `{ 'reports/': reportsBucket }` (the versioned, Object-Locked one). */
  prefixBuckets?: Record<string, string>;
  /** Bodies larger than this go up as a multipart upload of parts this size (≥ 5 MiB). Default 8 MiB. */
  partBytes?: number;
}

const notFound = () => new AppError('BLOB.NOT_FOUND', 'not_found', 'No object is stored under this key.');
const tooLarge = (max: number) =>
  new AppError('BLOB.TOO_LARGE', 'too_large', `The object is larger than the ${max} bytes allowed.`, { maxBytes: max });

const isMissing = (e: unknown) => {
  const x = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return x?.name === 'NoSuchKey' || x?.name === 'NotFound' || x?.$metadata?.httpStatusCode === 404;
};
const isInvalidRange = (e: unknown) => {
  const x = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return x?.name === 'InvalidRange' || x?.$metadata?.httpStatusCode === 416;
};

async function* asChunks(body: unknown): AsyncIterable<Uint8Array> {
  if (!body) return;
  for await (const c of body as AsyncIterable<Uint8Array | string>) yield typeof c === 'string' ? Buffer.from(c) : c;
}

/**
 * BlobStore on S3. Puts are atomic (S3 shows the old object or the whole new one); bodies over one
 * part go up as a multipart upload that is aborted on failure or when `maxBytes` is exceeded, so a
 * refused or broken put leaves nothing behind. The SDK client is injected.
 */
export class S3BlobStore implements BlobStore {
  private readonly partBytes: number;
  private readonly routes: Array<[string, string]>;

  constructor(
    private readonly s3: S3Client,
    private readonly opts: S3BlobStoreOptions,
  ) {
    this.partBytes = Math.max(5 * 1024 * 1024, opts.partBytes ?? 8 * 1024 * 1024);
    this.routes = Object.entries(opts.prefixBuckets ?? {}).sort((a, b) => b[0].length - a[0].length);
  }

  private bucketOf(key: string): string {
    for (const [prefix, bucket] of this.routes) if (key.startsWith(prefix)) return bucket;
    return this.opts.bucket;
  }

  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<StoredObject> {
    checkBlobKey(key);
    const max = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
    const Bucket = this.bucketOf(key);
    const ContentType = opts.contentType ?? 'application/octet-stream';
    if (body instanceof Uint8Array) {
      if (body.byteLength > max) throw tooLarge(max);
      if (body.byteLength <= this.partBytes) {
        await this.s3.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentLength: body.byteLength, ContentType }));
        return { key, size: body.byteLength, sha256: createHash('sha256').update(body).digest('hex') };
      }
    }
    const source: AsyncIterable<Uint8Array> =
      body instanceof Uint8Array
        ? (async function* () {
            yield body;
          })()
        : body;
    const hash = createHash('sha256');
    let size = 0;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let uploadId: string | undefined;
    const parts: { ETag: string; PartNumber: number }[] = [];
    const flush = async (bytes: Buffer) => {
      if (!uploadId) {
        const r = await this.s3.send(new CreateMultipartUploadCommand({ Bucket, Key: key, ContentType }));
        uploadId = r.UploadId!;
      }
      const PartNumber = parts.length + 1;
      const r = await this.s3.send(
        new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber, Body: bytes, ContentLength: bytes.byteLength }),
      );
      parts.push({ ETag: r.ETag!, PartNumber });
    };
    try {
      for await (const chunk of source) {
        size += chunk.byteLength;
        if (size > max) throw tooLarge(max);
        hash.update(chunk);
        pending.push(chunk);
        pendingBytes += chunk.byteLength;
        while (pendingBytes >= this.partBytes) {
          const all = Buffer.concat(pending);
          await flush(all.subarray(0, this.partBytes));
          const rest = all.subarray(this.partBytes);
          pending = rest.byteLength ? [rest] : [];
          pendingBytes = rest.byteLength;
        }
      }
      const tail = Buffer.concat(pending);
      if (!uploadId) {
        await this.s3.send(new PutObjectCommand({ Bucket, Key: key, Body: tail, ContentLength: tail.byteLength, ContentType }));
      } else {
        if (tail.byteLength) await flush(tail);
        await this.s3.send(
          new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
        );
      }
    } catch (e) {
      if (uploadId) {
        await this.s3.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      }
      throw e;
    }
    return { key, size, sha256: hash.digest('hex') };
  }

  async head(key: string): Promise<{ size: number; lastModified?: string } | null> {
    checkBlobKey(key);
    try {
      const r = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucketOf(key), Key: key }));
      return { size: r.ContentLength ?? 0, ...(r.LastModified ? { lastModified: r.LastModified.toISOString() } : {}) };
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  async readRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    checkBlobKey(key);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new AppError('BLOB.INVALID_RANGE', 'invalid', 'offset and length must be non-negative integers.');
    }
    if (length === 0) {
      if (!(await this.head(key))) throw notFound();
      return new Uint8Array(0);
    }
    try {
      const r = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucketOf(key), Key: key, Range: `bytes=${offset}-${offset + length - 1}` }),
      );
      // Trust the object's total size (Content-Range) over the body: some S3 stand-ins answer a range
      // of an empty object with a length they never send.
      const total = /\/(\d+)$/.exec(r.ContentRange ?? '')?.[1];
      const want = total === undefined ? length : Math.max(0, Math.min(length, Number(total) - offset));
      if (want === 0) {
        (r.Body as { destroy?: () => void } | undefined)?.destroy?.();
        return new Uint8Array(0);
      }
      const parts: Uint8Array[] = [];
      for await (const c of asChunks(r.Body)) parts.push(c);
      return Buffer.concat(parts).subarray(0, want);
    } catch (e) {
      if (isInvalidRange(e)) {
        if (await this.head(key)) return new Uint8Array(0);
        throw notFound();
      }
      if (isMissing(e)) throw notFound();
      throw e;
    }
  }

  async *stream(key: string): AsyncIterable<Uint8Array> {
    checkBlobKey(key);
    let body: unknown;
    try {
      body = (await this.s3.send(new GetObjectCommand({ Bucket: this.bucketOf(key), Key: key }))).Body;
    } catch (e) {
      if (isMissing(e)) throw notFound();
      throw e;
    }
    yield* asChunks(body);
  }

  async sha256(key: string): Promise<string> {
    const h = createHash('sha256');
    for await (const c of this.stream(key)) h.update(c);
    return h.digest('hex');
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    checkBlobKey(fromKey);
    checkBlobKey(toKey);
    try {
      // Keys are restricted to [A-Za-z0-9._-/], so the copy source needs no further encoding.
      await this.s3.send(
        new CopyObjectCommand({ Bucket: this.bucketOf(toKey), Key: toKey, CopySource: `${this.bucketOf(fromKey)}/${fromKey}` }),
      );
    } catch (e) {
      if (isMissing(e)) throw notFound();
      throw e;
    }
  }

  async move(fromKey: string, toKey: string): Promise<void> {
    // S3 has no rename: a copy, then a delete of the source only once the copy exists. The move is
    // done once the copy is: a failed delete leaves a stale staging object, not a failed move.
    await this.copy(fromKey, toKey);
    await this.delete(fromKey).catch(() => undefined);
  }

  async delete(key: string): Promise<void> {
    checkBlobKey(key);
    // S3 answers a delete of a missing key with success, which is what the port promises.
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucketOf(key), Key: key }));
  }

  async list(prefix: string): Promise<string[]> {
    const buckets = new Set([this.opts.bucket, ...this.routes.map(([, b]) => b)]);
    const out: string[] = [];
    for (const Bucket of buckets) {
      let token: string | undefined;
      do {
        const r = await this.s3.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of r.Contents ?? []) if (o.Key && this.bucketOf(o.Key) === Bucket) out.push(o.Key);
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    }
    return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
