import { readFileSync } from 'node:fs';
import { ConsortiumSchema, type Consortium, type UserRecord } from '../../contracts/consortium.ts';
import type { Directory } from '../../ports/directory.ts';
import { describeIssues } from '../../contracts/describe.ts';

/** The consortium file (JSON, zod-validated) as the directory of clinics, pools, routing and users. */
export class FileDirectory implements Directory {
  private readonly c: Consortium;
  constructor(file: string) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`consortium file ${file} is not readable JSON: ${(e as Error).message}`);
    }
    const r = ConsortiumSchema.safeParse(raw);
    if (!r.success) throw new Error(`consortium file ${file} is invalid: ${describeIssues(r.error)}`);
    this.c = r.data;
  }
  consortium(): Consortium {
    return this.c;
  }
  async findUserByUsername(username: string): Promise<UserRecord | null> {
    return this.c.users.find((u) => u.username === username) ?? null;
  }
  async getUser(id: string): Promise<UserRecord | null> {
    return this.c.users.find((u) => u.id === id) ?? null;
  }
}
