import { createHash, randomBytes } from 'node:crypto';
import type { IdGenerator } from '../../ports/ids.ts';

/** Random, URL-safe, time-ordered-enough ids: `<prefix>-<base36 ms><random>`; never derived from PHI. */
export class RandomIds implements IdGenerator {
  next(prefix: string): string {
    return `${prefix}-${Date.now().toString(36)}${randomBytes(9).toString('base64url')}`;
  }

  derive(prefix: string, ...parts: string[]): string {
    // NUL-separated so ('a','bc') and ('ab','c') differ; 24 base64url chars = 144 bits.
    return `${prefix}-${createHash('sha256').update([prefix, ...parts].join('\u0000')).digest('base64url').slice(0, 24)}`;
  }
}
