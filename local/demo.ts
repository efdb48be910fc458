import type { Consortium } from '../shared/contracts/consortium.ts';
import type { PasswordHasher } from '../shared/ports/auth.ts';
import { DEFAULT_ROUTING } from '../shared/domain/routing.ts';

/** The demo consortium of DESIGN.md "Running it": one county centre, three township clinics, three pools, five users. */
export async function demoConsortium(hasher: PasswordHasher, password: string): Promise<Consortium> {
  const passwordHash = await hasher.hash(password);
  return {
    name: '示范县医共体 Demo County Medical Consortium',
    county: { id: 'county', name: '示范县人民医院 Demo County Hospital' },
    clinics: [
      { id: 'clinic-a', name: '东关镇卫生院 Dongguan Township Health Centre' },
      { id: 'clinic-b', name: '西河乡卫生院 Xihe Township Health Centre' },
      { id: 'clinic-c', name: '南山镇卫生院 Nanshan Township Health Centre' },
    ],
    pools: [
      { id: 'ecg', name: '心电诊断中心 Regional ECG Centre' },
      { id: 'radiography', name: '影像诊断中心 (放射) Regional Imaging Centre: X-ray' },
      { id: 'ultrasound', name: '影像诊断中心 (超声) Regional Imaging Centre: ultrasound' },
    ],
    routing: { ...DEFAULT_ROUTING },
    users: [
      { id: 'tech-a', username: 'tech-a', displayName: '技师 A (东关镇)', role: 'technician', clinicId: 'clinic-a', passwordHash },
      { id: 'tech-b', username: 'tech-b', displayName: '技师 B (西河乡)', role: 'technician', clinicId: 'clinic-b', passwordHash },
      {
        id: 'ecg-reader',
        username: 'ecg-reader',
        displayName: '心电医师 李明',
        role: 'reader',
        pools: ['ecg'],
        passwordHash,
        licenceNumber: 'DEMO-110000000000001',
        institution: '示范县人民医院 Demo County Hospital',
      },
      {
        id: 'rad-reader',
        username: 'rad-reader',
        displayName: '影像医师 王静',
        role: 'reader',
        pools: ['radiography', 'ultrasound'],
        passwordHash,
        licenceNumber: 'DEMO-110000000000002',
        institution: '示范县人民医院 Demo County Hospital',
      },
      { id: 'admin', username: 'admin', displayName: '管理员 Administrator', role: 'admin', passwordHash },
    ],
  };
}
