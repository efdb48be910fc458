import { randomBytes } from 'node:crypto';
import type { IdGenerator } from '../../ports/ids.ts';

/** Random, URL-safe ids `<prefix>-<base36 ms><random>` (the same shape as on one machine); never derived from PHI. */
export class RandomIdsAws implements IdGenerator {
  next(prefix: string): string {
    return `${prefix}-${Date.now().toString(36)}${randomBytes(9).toString('base64url')}`;
  }
}
