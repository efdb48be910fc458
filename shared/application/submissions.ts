import { REPLAYABLE } from '../ports/unit-of-work.ts';
import type { Principal } from '../contracts/auth.ts';
import type { CreateSubmission } from '../contracts/api.ts';
import type { Case } from '../domain/case.ts';
import { AppError, isAppError } from '../domain/errors.ts';
import { assertCanSee, requireRole } from './authorize.ts';
import type { Deps } from './deps.ts';
import { caseIdForSubmission, uploadKey } from './keys.ts';

/**
 * A technician declares a study (patient, recorded consent, priority, files) and gets one upload
 * target per file. The case starts AWAITING_FILES and is queued when every declared file is in.
 * With a `clientReference` the submission id is derived from (clinic, reference): repeating the call
 * answers the same submission (fresh targets for the files not yet received, none once all arrived)
 * instead of creating a second case, so a client that crashed before it recorded the answer can retry.
 */
export async function createSubmission(deps: Deps, p: Principal, input: CreateSubmission) {
  // The case and its audit record share one durability wait, paid before the technician gets the targets.
  return deps.uow.run(async () => {
    requireRole(p, 'technician');
    if (!p.clinicId) throw new AppError('AUTH.NO_CLINIC', 'forbidden', 'Your account is not attached to a clinic.');
    for (const [i, f] of input.files.entries()) {
      if (f.size > deps.settings.maxUploadBytes) {
        // The file's number, not its name: devices and people name exports after the patient.
        throw new AppError(
          'SUBMISSION.FILE_TOO_LARGE',
          'too_large',
          `File ${i + 1} of the submission is ${f.size} bytes; the limit is ${deps.settings.maxUploadBytes} bytes per file.`,
        );
      }
    }
    const now = deps.clock.now();
    const iso = now.toISOString();
    const ref = input.clientReference;
    const submissionId = ref === undefined ? deps.ids.next('sub') : deps.ids.derive('sub', p.clinicId, ref);
    const caseId = caseIdForSubmission(submissionId);
    if (ref !== undefined) {
      const existing = await deps.cases.get(caseId);
      if (existing) return replaySubmission(deps, p, existing, input);
    }
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
    try {
      await deps.cases.create(c);
    } catch (e) {
      // Two concurrent calls with one reference: the loser answers what the winner created.
      const winner = ref !== undefined && isAppError(e) && e.code === 'CASE.ALREADY_EXISTS' ? await deps.cases.get(caseId) : null;
      if (winner) return replaySubmission(deps, p, winner, input);
      throw e;
    }
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
    return { submissionId, caseId, uploads, status: c.status };
  }, REPLAYABLE);
}

/** A repeated clientReference: the same submission, targets only for what has not arrived. */
async function replaySubmission(deps: Deps, p: Principal, c: Case, input: CreateSubmission) {
  const sizes = input.files.map((f) => f.size);
  if (c.clinicId !== p.clinicId || c.declaredFiles !== sizes.length || (c.declaredSizes && c.declaredSizes.some((s, i) => s !== sizes[i]))) {
    throw new AppError(
      'SUBMISSION.CLIENT_REFERENCE_REUSED',
      'conflict',
      'This clientReference was already used for a submission with other files. Use a new clientReference for a new study.',
    );
  }
  const uploads = c.status === 'AWAITING_FILES' ? await missingUploadTargets(deps, c) : [];
  deps.log.info('submission replayed', { caseId: c.caseId, clinicId: c.clinicId, status: c.status, uploads: uploads.length });
  return { submissionId: c.submissionId, caseId: c.caseId, uploads, status: c.status };
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
  return { submissionId: c.submissionId, caseId: c.caseId, uploads: await missingUploadTargets(deps, c) };
}

async function missingUploadTargets(deps: Deps, c: Case) {
  const uploads = [];
  for (let index = 0; index < c.declaredFiles; index++) {
    const key = uploadKey(c.clinicId, c.submissionId, index);
    if (await deps.blobs.head(key)) continue;
    const declared = c.declaredSizes?.[index];
    if (declared === undefined) continue;
    const t = await deps.uploads.create(key, { maxBytes: declared, contentType: 'application/dicom', expiresInSeconds: deps.settings.uploadUrlTtlSeconds });
    uploads.push({ index, ...t, maxBytes: declared });
  }
  return uploads;
}
