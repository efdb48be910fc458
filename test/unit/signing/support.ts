import type { SealedSignerKey, SignerKeyStore } from '../../../shared/ports/signer.ts';
import { mulberry32 } from '../../../shared/synth/random.ts';

/** In-memory SignerKeyStore for unit tests (the SQLite/DynamoDB stores have their own contract suite). */
export class MemorySignerKeyStore implements SignerKeyStore {
  readonly rows: SealedSignerKey[] = [];

  async put(k: SealedSignerKey): Promise<void> {
    if (this.rows.some((r) => r.signerId === k.signerId && r.kid === k.kid)) throw new Error('duplicate signer key');
    this.rows.push(structuredClone(k));
  }
  async current(signerId: string): Promise<SealedSignerKey | null> {
    const mine = this.rows.filter((r) => r.signerId === signerId);
    // newest by createdAt; ties go to the later insert
    let best: SealedSignerKey | null = null;
    for (const r of mine) if (!best || r.createdAt >= best.createdAt) best = r;
    return best ? structuredClone(best) : null;
  }
  async all(): Promise<SealedSignerKey[]> {
    return structuredClone(this.rows);
  }
}

/** Fast scrypt cost for tests; production uses N = 2^15. */
export const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };
export const PIN = '246810';

export const sampleReport = (over: Record<string, unknown> = {}) => ({
  caseId: 'case-0001',
  studyInstanceUid: '1.2.826.0.1.3680043.8.498.1',
  instances: [{ sopInstanceUid: '1.2.826.0.1.3680043.8.498.1.1', sha256: 'ab'.repeat(32) }],
  findings: '窦性心律，心率 72 次/分。ST 段未见明显异常。',
  impression: 'Normal sinus rhythm; 正常心电图',
  critical: false,
  measurements: { heartRate: 72, qrsMs: 88, qtcMs: 412.5, ratio: 0.1 },
  signer: { id: 'ecg-reader', name: '张医生', licence: '110101199001010011', institution: '县人民医院心电中心' },
  signedAt: '2026-11-23T00:00:00.000Z',
  version: 1,
  supersedes: null,
  ...over,
});

export const seededRandom = mulberry32;
