import type { Principal } from '../contracts/auth.ts';
import type { CreateSubmission } from '../contracts/api.ts';
import type { Case } from '../domain/case.ts';
import { AppError } from '../domain/errors.ts';
import { assertCanSee, requireRole } from './authorize.ts';
import type { Deps } from './deps.ts';
import { caseIdForSubmission, uploadKey } from './keys.ts';

/**
 * A technician declares a study (patient, recorded consent, priority, files) and gets one upload
 * target per file. The case starts AWAITING_FILES and is queued when every declared file is in.
 */
export async function createSubmission(deps: Deps, p: Principal, input: CreateSubmission) {
  requireRole(p, 'technician');
  if (!p.clinicId) throw new AppError('AUTH.NO_CLINIC', 'forbidden', 'Your account is not attached to a clinic.');
  for (const f of input.files) {
    if (f.size > deps.settings.maxUploadBytes) {
      throw new AppError(
        'SUBMISSION.FILE_TOO_LARGE',
        'too_large',
        `File "${f.name}" is ${f.size} bytes; the limit is ${deps.settings.maxUploadBytes} bytes per file.`,
      );
    }
  }
  const now = deps.clock.now();
  const iso = now.toISOString();
  const submissionId = deps.ids.next('sub');
  const caseId = caseIdForSubmission(submissionId);
  const c: Case = {
    caseId,
    submissionId,
    clinicId: p.clinicId,
    status: 'AWAITING_FILES',
    priority: input.priority,
    requestedPriority: input.priority,
    pool: null,
    modality: null,
    declaredFiles: input.files.length,
    declaredSizes: input.files.map((f) => f.size),
    patient: {
      id: input.patient.id,
      name: input.patient.name,
      sex: input.patient.sex,
      birthDate: input.patient.birthDate,
    },
    consent: { obtained: true, recordedBy: input.consent.recordedBy ?? p.userId, recordedAt: iso },
    clinicalNote: input.clinicalNote ?? null,
    createdBy: p.userId,
    createdAt: iso,
    updatedAt: iso,
    events: [{ status: 'AWAITING_FILES', at: iso, actor: p.userId }],
    study: null,
    ecg: null,
    rejection: null,
    lease: null,
    reportVersion: 0,
    readEnqueuedAt: null,
    acknowledgement: null,
    version: 0,
  };
  await deps.cases.create(c);
  const uploads = await Promise.all(
    input.files.map(async (f, index) => {
      // The target allows the declared size (never above the limit): a bigger body is refused at upload.
      const maxBytes = f.size;
      const t = await deps.uploads.create(uploadKey(p.clinicId!, submissionId, index), {
        maxBytes,
        contentType: 'application/dicom',
        expiresInSeconds: deps.settings.uploadUrlTtlSeconds,
      });
      return { index, ...t, maxBytes };
    }),
  );
  await deps.audit.append({ at: iso, actor: p.userId, action: 'submission.create', caseId, detail: { files: input.files.length } });
  deps.log.info('submission created', { caseId, clinicId: p.clinicId, files: input.files.length, priority: input.priority });
  return { submissionId, caseId, uploads };
}

/**
 * Fresh upload targets for the files of a submission that have not arrived yet (the first ones
 * expired, or the connection broke): only the owning clinic, only while the case awaits files.
 */
export async function renewUploadTargets(deps: Deps, p: Principal, submissionId: string) {
  requireRole(p, 'technician');
  const c = assertCanSee(p, /^sub-[A-Za-z0-9_-]{6,64}$/.test(submissionId) ? await deps.cases.get(caseIdForSubmission(submissionId)) : null);
  if (c.status !== 'AWAITING_FILES') {
    throw new AppError('SUBMISSION.COMPLETE', 'conflict', `Every file of this submission has arrived (the case is ${c.status}); nothing to upload.`);
  }
  const uploads = [];
  for (let index = 0; index < c.declaredFiles; index++) {
    const key = uploadKey(c.clinicId, c.submissionId, index);
    if (await deps.blobs.head(key)) continue;
    const declared = c.declaredSizes?.[index];
    if (declared === undefined) continue;
    const t = await deps.uploads.create(key, { maxBytes: declared, contentType: 'application/dicom', expiresInSeconds: deps.settings.uploadUrlTtlSeconds });
    uploads.push({ index, ...t, maxBytes: declared });
  }
  return { submissionId: c.submissionId, caseId: c.caseId, uploads };
}
