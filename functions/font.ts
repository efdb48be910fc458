import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * The CJK face of the report PDFs is ~16 MB, too big for a function bundle: the operator puts it once
 * in the uploads bucket (`teleread font extract`, then `aws s3 cp`, see docs/OPERATIONS.md) and the
 * functions that render fetch it into /tmp at cold start. Returns the local file, or null when the
 * object is missing (rendering then fails with a clear error, signing is not attempted half-way).
 */
export async function fetchFontFile(s3: S3Client, bucket: string, key: string, file: string): Promise<string | null> {
  if (existsSync(file)) return file;
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await r.Body!.transformToByteArray();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, bytes);
    renameSync(`${file}.tmp`, file);
    return file;
  } catch (e) {
    if ((e as { name?: string }).name === 'NoSuchKey') return null;
    throw e;
  }
}
