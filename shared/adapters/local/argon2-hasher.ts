import { hash, verify } from '@node-rs/argon2';
import type { PasswordHasher } from '../../ports/auth.ts';

/** argon2id with the library's defaults (m=19 MiB, t=2, p=1: OWASP's minimum). */
export class Argon2Hasher implements PasswordHasher {
  hash(password: string): Promise<string> {
    return hash(password);
  }
  recognizes(h: string): boolean {
    return h.startsWith('$argon2');
  }
  async verify(h: string, password: string): Promise<boolean> {
    try {
      return await verify(h, password);
    } catch {
      return false;
    }
  }
}
