/**
 * The simulated consortium, written into the data directory before the server first starts (the
 * server creates its demo consortium only when no consortium file exists): one county centre,
 * 17 township clinics with one technician each, N readers per pool, one administrator. Readers'
 * signing keys are enrolled under their PIN with the project's own sealed-key signer, the same
 * provisioning step the server performs for its demo readers; everything after this goes through HTTP.
 */
import { hash } from '@node-rs/argon2';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqlite } from '../shared/adapters/local/sqlite.ts';
import { SqliteSignerKeyStore } from '../shared/adapters/local/sqlite-signer-key-store.ts';
import { ConsortiumSchema, type Consortium } from '../shared/contracts/consortium.ts';
import { DEFAULT_ROUTING } from '../shared/domain/routing.ts';
import { SealedKeyReportSigner } from '../shared/signing/sealed-key-signer.ts';

export const POOLS = ['ecg', 'radiography', 'ultrasound'] as const;
export type Pool = (typeof POOLS)[number];

/** Township names for the 17 simulated clinics (fictional). */
const TOWNSHIPS = [
  'Dongguan 东关镇', 'Xihe 西河乡', 'Nanshan 南山镇', 'Beiling 北岭乡', 'Qingshui 清水镇', 'Baiyang 白杨乡',
  'Huangtu 黄土镇', 'Shiqiao 石桥乡', 'Liujia 刘家镇', 'Gaoping 高坪乡', 'Hongqi 红旗镇', 'Taohua 桃花乡',
  'Songlin 松林镇', 'Heping 和平乡', 'Jinshan 金山镇', 'Yuquan 玉泉乡', 'Fengxiang 凤翔镇',
];

export interface SimUsers {
  technicians: { username: string; clinicId: string }[];
  readers: { username: string; pool: Pool }[];
  admin: string;
}

export function simUsers(clinics: number, readers: Record<Pool, number>): SimUsers {
  const technicians = Array.from({ length: clinics }, (_, i) => {
    const n = String(i + 1).padStart(2, '0');
    return { username: `tech-${n}`, clinicId: `clinic-${n}` };
  });
  const rs: SimUsers['readers'] = [];
  for (const pool of POOLS) for (let i = 1; i <= readers[pool]; i++) rs.push({ username: `${pool}-reader-${i}`, pool });
  return { technicians, readers: rs, admin: 'sim-admin' };
}

export async function provisionConsortium(
  dataDir: string,
  users: SimUsers,
  secrets: { password: string; pin: string; scryptLogN: number },
): Promise<Consortium> {
  const passwordHash = await hash(secrets.password);
  const county = '模拟县人民医院 Simulated County Hospital';
  const c: Consortium = ConsortiumSchema.parse({
    name: '模拟县医共体 Simulated County Medical Consortium',
    county: { id: 'county', name: county },
    clinics: users.technicians.map((t, i) => ({ id: t.clinicId, name: `${TOWNSHIPS[i % TOWNSHIPS.length]} Township Health Centre ${i + 1}` })),
    pools: [
      { id: 'ecg', name: '心电诊断中心 Regional ECG Centre' },
      { id: 'radiography', name: '影像诊断中心 (放射) Regional Imaging Centre: X-ray' },
      { id: 'ultrasound', name: '影像诊断中心 (超声) Regional Imaging Centre: ultrasound' },
    ],
    routing: { ...DEFAULT_ROUTING },
    users: [
      ...users.technicians.map((t) => ({ id: t.username, username: t.username, displayName: `技师 ${t.username}`, role: 'technician', clinicId: t.clinicId, passwordHash })),
      ...users.readers.map((r, i) => ({
        id: r.username,
        username: r.username,
        displayName: `医师 ${r.username}`,
        role: 'reader',
        pools: [r.pool],
        passwordHash,
        licenceNumber: `SIM-${String(110000000000000 + i + 1)}`,
        institution: county,
      })),
      { id: users.admin, username: users.admin, displayName: '管理员 Simulation Administrator', role: 'admin', passwordHash },
    ],
  });
  // Signing keys first, the consortium file last (as the server does for its demo).
  const db = openSqlite(join(dataDir, 'teleread.db'));
  try {
    const signer = new SealedKeyReportSigner(new SqliteSignerKeyStore(db), { scrypt: { N: 2 ** secrets.scryptLogN, r: 8, p: 1 } });
    for (const r of users.readers) await signer.enrol(r.username, secrets.pin);
  } finally {
    db.close();
  }
  const file = join(dataDir, 'consortium.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(c, null, 2), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return c;
}
