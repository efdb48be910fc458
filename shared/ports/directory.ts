import type { Consortium, UserRecord } from '../contracts/consortium.ts';

/** The consortium: clinics, pools, routing and users (with their password hashes). */
export interface Directory {
  consortium(): Consortium;
  findUserByUsername(username: string): Promise<UserRecord | null>;
  getUser(id: string): Promise<UserRecord | null>;
}
