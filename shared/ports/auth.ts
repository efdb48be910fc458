import type { Principal } from '../contracts/auth.ts';

/** Issues and checks the bearer tokens of the API. */
export interface TokenService {
  issue(p: Principal): Promise<string>;
  /** Throws AUTH.INVALID_TOKEN / AUTH.TOKEN_EXPIRED. */
  verify(token: string): Promise<Principal>;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** Whether `hash` is one this hasher writes (a placeholder such as "!unset" or "!cognito" is not). */
  recognizes(hash: string): boolean;
}
