import type { Case } from '../../../shared/domain/case.ts';

export const T0 = Date.parse('2026-03-01T08:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

export function makeCase(over: Partial<Case> & { caseId: string }): Case {
  const createdAt = over.createdAt ?? at(0);
  return {
    submissionId: `sub-${over.caseId}`,
    clinicId: 'clinic-a',
    status: 'AWAITING_FILES',
    priority: 'routine',
    requestedPriority: 'routine',
    pool: 'ecg',
    modality: 'ECG',
    declaredFiles: 1,
    patient: { id: `p-${over.caseId}`, name: 'Test Patient', sex: 'F', birthDate: '1960-01-01' },
    consent: { obtained: true, recordedBy: 'tech-a', recordedAt: createdAt },
    clinicalNote: null,
    createdBy: 'tech-a',
    createdAt,
    updatedAt: createdAt,
    events: [{ status: 'AWAITING_FILES', at: createdAt, actor: 'tech-a' }],
    study: null,
    ecg: null,
    rejection: null,
    lease: null,
    reportVersion: 0,
    readEnqueuedAt: null,
    acknowledgement: null,
    version: 1,
    ...over,
  };
}

