import type { Database, Statement } from 'better-sqlite3';
import { AppError } from '../../domain/errors.ts';
import type { SealedSignerKey, SignerKeyStore } from '../../ports/signer.ts';
import { durable } from './sqlite.ts';

const isUniqueViolation = (e: unknown) =>
  typeof e === 'object' &&
  e !== null &&
  ['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE'].includes((e as { code?: string }).code ?? '');

/** Normalized so `created_at` orders as text. */
const iso = (s: string): string => {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toISOString();
};

/** Sealed signer keys, create-once on (signerId, kid); `current` is the newest by createdAt. */
export class SqliteSignerKeyStore implements SignerKeyStore {
  private readonly st: {
    insert: Statement<unknown[]>;
    current: Statement<[string], { doc: string }>;
    all: Statement<[], { doc: string }>;
  };

  constructor(private readonly db: Database) {
    this.st = {
      insert: db.prepare('INSERT INTO signer_keys (signer_id, kid, created_at, doc) VALUES (?, ?, ?, ?)'),
      current: db.prepare(
        'SELECT doc FROM signer_keys WHERE signer_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1',
      ),
      all: db.prepare('SELECT doc FROM signer_keys ORDER BY signer_id, created_at, rowid'),
    };
  }

  async put(k: SealedSignerKey): Promise<void> {
    try {
      this.st.insert.run(k.signerId, k.kid, iso(k.createdAt), JSON.stringify(k));
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new AppError('SIGN.KEY_EXISTS', 'conflict', 'This signer already has a key with this id.', {
          signerId: k.signerId,
          kid: k.kid,
        });
      }
      throw e;
    }
    await durable(this.db);
  }

  async current(signerId: string): Promise<SealedSignerKey | null> {
    const r = this.st.current.get(signerId);
    return r ? (JSON.parse(r.doc) as SealedSignerKey) : null;
  }

  /** Every key of every signer (old ones included), by signer then oldest first. */
  async all(): Promise<SealedSignerKey[]> {
    return this.st.all.all().map((r) => JSON.parse(r.doc) as SealedSignerKey);
  }
}
