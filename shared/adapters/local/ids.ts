import { randomBytes } from 'node:crypto';
import type { IdGenerator } from '../../ports/ids.ts';

/** Random, URL-safe, time-ordered-enough ids: `<prefix>-<base36 ms><random>`; never derived from PHI. */
export class RandomIds implements IdGenerator {
  next(prefix: string): string {
    return `${prefix}-${Date.now().toString(36)}${randomBytes(9).toString('base64url')}`;
  }
}
