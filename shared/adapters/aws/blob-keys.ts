import { AppError } from '../../domain/errors.ts';

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_KEY_LENGTH = 1024;
const MAX_SEGMENT_LENGTH = 200;

const invalidKey = (key: string, why: string) =>
  new AppError('BLOB.INVALID_KEY', 'invalid', `The object key is not valid: ${why}.`, { key: key.slice(0, 200) });

/**
 * The BlobStore key rule (same as on one machine): relative, `/`-separated segments of
 * `[A-Za-z0-9._-]`, no empty, `.` or `..` segment. Throws BLOB.INVALID_KEY.
 */
export function checkBlobKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw invalidKey(String(key), 'it is empty');
  if (key.length > MAX_KEY_LENGTH) throw invalidKey(key, `it is longer than ${MAX_KEY_LENGTH} characters`);
  if (key.startsWith('/')) throw invalidKey(key, 'it must be relative (no leading "/")');
  for (const s of key.split('/')) {
    if (s.length === 0) throw invalidKey(key, 'it has an empty segment');
    if (s === '.' || s === '..') throw invalidKey(key, 'it has a "." or ".." segment');
    if (!SEGMENT.test(s)) throw invalidKey(key, 'segments may hold only A-Z a-z 0-9 . _ -');
    if (s.length > MAX_SEGMENT_LENGTH) throw invalidKey(key, `a segment is longer than ${MAX_SEGMENT_LENGTH} characters`);
  }
}
