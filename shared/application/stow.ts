import type { Principal } from '../contracts/auth.ts';
import { CreateSubmissionSchema, type CreateSubmission } from '../contracts/api.ts';
import type { StudyMetadata } from '../contracts/study.ts';
import { transition } from '../domain/case.ts';
import { AppError, isAppError } from '../domain/errors.ts';
import type { Priority } from '../domain/priority.ts';
import { requireRole } from './authorize.ts';
import type { Deps } from './deps.ts';
import { ingestObject } from './ingest.ts';
import type { InspectOutcome } from '../ports/study-inspector.ts';
import { uploadKey } from './keys.ts';
import { createSubmission } from './submissions.ts';
import { updateWithRetry } from './update.ts';

/** One part of a STOW-RS request: the bytes of one DICOM instance, read once. */
export interface StowPart {
  body: AsyncIterable<Uint8Array>;
}

export interface StowRequest {
  parts: AsyncIterable<StowPart>;
  /** The StudyInstanceUID of the request path: parts of any other study fail. */
  studyInstanceUID?: string | undefined;
  /** The clinic's attestation that the patient consented to remote diagnosis (a STOW client cannot send a JSON submission). */
  consent: { recordedBy?: string | undefined };
  priority: Priority;
  clinicalNote?: string | undefined;
}

interface InstanceIds {
  sopClassUID: string;
  sopInstanceUID: string;
  studyInstanceUID: string;
  seriesInstanceUID: string;
}

export type StowOutcome =
  | ({ part: number; status: 'stored'; caseId: string } & InstanceIds)
  | ({ part: number; status: 'failed'; failureReason: number; code: string; message: string; caseId?: string } & Partial<InstanceIds>);

export interface StowResult {
  /** One outcome per part, in request order. */
  outcomes: StowOutcome[];
  /** Every case this request created: one per study, plus one REJECTED case holding the unreadable parts. */
  caseIds: string[];
}

/** PS3.18 Table I.2-2 Failure Reason values, and DIMSE 0111 for an instance TeleRead already holds. */
export const FAILURE = {
  outOfResources: 0xa700,
  doesNotMatch: 0xa900,
  cannotUnderstand: 0xc000,
  transferSyntaxNotSupported: 0xc122,
  processingFailure: 0x0110,
  duplicateInstance: 0x0111,
  sopClassNotSupported: 0x0122,
} as const;

const MAX_PARTS = 500;

/**
 * Parts are streamed here first, under opaque ids only, because a part's study (and so its
 * submission) is known only once its header is read; they are deleted once filed or refused.
 */
const stagingKey = (clinicId: string, stowId: string, part: number) => `stow/${clinicId}/${stowId}/${part}`;

/** The case of unreadable parts has no DICOM header to name a patient; this says so on the case. */
const UNREADABLE_PATIENT = { id: '(not readable)', name: '(not readable: see the rejection reason)' };

/** Only technicians of a clinic store studies, exactly as with POST /api/submissions. */
export function assertCanStore(p: Principal): void {
  requireRole(p, 'technician');
  if (!p.clinicId) throw new AppError('AUTH.NO_CLINIC', 'forbidden', 'Your account is not attached to a clinic.');
}

interface Staged {
  part: number;
  key: string;
  size: number;
  sha256: string;
  /** When the part was received: the SLA's start, as an upload's store time is. */
  storedAt: string;
  /** Its header's inspection, passed on to ingest so that it is not done twice (an ECG's analysis is the costly part). */
  inspection?: InspectOutcome;
}

interface Readable extends Staged {
  meta: StudyMetadata;
}

/**
 * STOW-RS: stream each part to staging, read its header, and file the parts of each study as one
 * submission through the same path as browser uploads (createSubmission, then ingestObject on each
 * upload key), so validation, routing, quarantine and the case lifecycle are the browser's. Parts
 * that cannot be read are filed together as one submission that ingest rejects, so their bytes are
 * kept in quarantine and the technician sees the reason. Ingest runs inside the request: the answer
 * states each instance's outcome. A broken body (AppError, kind invalid) stores nothing.
 */
export async function storeInstances(deps: Deps, p: Principal, req: StowRequest): Promise<StowResult> {
  assertCanStore(p);
  const clinicId = p.clinicId!;
  const stowId = deps.ids.next('stow');
  const staged: Staged[] = [];
  const outcomes: StowOutcome[] = [];
  const caseIds: string[] = [];
  try {
    let count = 0;
    for await (const part of req.parts) {
      const index = count++;
      if (index >= MAX_PARTS) {
        throw new AppError('STOW.TOO_MANY_PARTS', 'invalid', `At most ${MAX_PARTS} instances per request: split the study into several requests.`);
      }
      const key = stagingKey(clinicId, stowId, index);
      try {
        const s = await deps.blobs.put(key, part.body, { maxBytes: deps.settings.maxUploadBytes, contentType: 'application/dicom' });
        staged.push({ part: index, key, size: s.size, sha256: s.sha256, storedAt: deps.clock.now().toISOString() });
      } catch (e) {
        if (!isAppError(e) || e.kind !== 'too_large') throw e;
        outcomes.push(failed(index, FAILURE.outOfResources, 'STOW.PART_TOO_LARGE', `The instance is larger than the ${deps.settings.maxUploadBytes} bytes TeleRead takes per file. Export fewer frames or a compressed (JPEG) version.`));
      }
    }
    if (count === 0) throw new AppError('STOW.NO_PARTS', 'invalid', 'The multipart body holds no part: send one DICOM instance per part.');

    const studies = new Map<string, Readable[]>();
    const unreadable: Staged[] = [];
    for (const s of staged) {
      const res = await deps.inspector.inspect({ size: s.size, readRange: (o, l) => deps.blobs.readRange(s.key, o, l) });
      s.inspection = res;
      if (!res.ok) {
        unreadable.push(s);
        continue;
      }
      const refusal = refuseBeforeFiling(res.metadata, req.studyInstanceUID);
      if (refusal) {
        // An aECG/SCP-ECG file's identifiers are not DICOM UIDs: they are not echoed as such.
        outcomes.push(failed(s.part, refusal.reason, refusal.code, refusal.message, refusal.code === 'STOW.NOT_DICOM' ? {} : idsOf(res.metadata)));
        continue;
      }
      const uid = res.metadata.study.StudyInstanceUID;
      studies.set(uid, [...(studies.get(uid) ?? []), { ...s, meta: res.metadata }]);
    }

    for (const parts of studies.values()) {
      const input = CreateSubmissionSchema.safeParse(submissionFor(parts, req));
      if (!input.success) {
        for (const x of parts) {
          outcomes.push(
            failed(x.part, FAILURE.processingFailure, 'STOW.PATIENT_INVALID', 'PatientID (0010,0020) or PatientName (0010,0010) is longer than TeleRead takes (64 and 200 characters). Correct the patient on the device and send again.', idsOf(x.meta)),
          );
        }
        continue;
      }
      outcomes.push(...(await file(deps, p, input.data, parts, caseIds)));
    }

    if (unreadable.length) {
      const input: CreateSubmission = {
        patient: UNREADABLE_PATIENT,
        consent: { obtained: true, ...(req.consent.recordedBy ? { recordedBy: req.consent.recordedBy } : {}) },
        priority: req.priority,
        ...(req.clinicalNote ? { clinicalNote: req.clinicalNote } : {}),
        files: unreadable.map((s) => ({ name: `stow-part-${s.part + 1}.dcm`, size: s.size, contentType: 'application/dicom' })),
      };
      outcomes.push(...(await file(deps, p, input, unreadable, caseIds)));
    }
  } finally {
    // Filed parts were moved under uploads/ (and copied to quarantine/ when refused); the others stay
    // with the sender, who got a failure.
    await Promise.all(staged.map((s) => deps.blobs.delete(s.key).catch(() => undefined)));
  }
  outcomes.sort((a, b) => a.part - b.part);
  const stored = outcomes.filter((o) => o.status === 'stored').length;
  deps.log.info('stow processed', { clinicId, parts: outcomes.length, stored, failed: outcomes.length - stored, cases: caseIds });
  return { outcomes, caseIds };
}

/**
 * Remove staged STOW parts older than `minAgeSeconds`: a request whose process died before it filed
 * or deleted them left them behind, and nobody else will (the sender got no answer, so it still
 * holds the instances). For the runtime's start and its sweeper.
 */
export async function removeStaleStowStaging(deps: Deps, minAgeSeconds: number): Promise<number> {
  const now = deps.clock.now().getTime();
  let removed = 0;
  for (const key of await deps.blobs.list('stow/')) {
    const head = await deps.blobs.head(key);
    if (!head?.lastModified || now - Date.parse(head.lastModified) < minAgeSeconds * 1000) continue;
    await deps.blobs.delete(key);
    removed++;
  }
  if (removed) deps.log.info('removed stale STOW staging', { objects: removed });
  return removed;
}

/** Checks that need the header but not the pipeline: DICOM at all, the path's study, a named patient. */
function refuseBeforeFiling(m: StudyMetadata, pathStudy: string | undefined): { reason: number; code: string; message: string } | null {
  if (!/^[0-9]+(\.[0-9]+)*$/.test(m.instance.SOPClassUID)) {
    return {
      reason: FAILURE.cannotUnderstand,
      code: 'STOW.NOT_DICOM',
      message: 'This part is an ECG file in another format (HL7 aECG or SCP-ECG), not a DICOM instance. DICOMweb takes DICOM only: upload this file on the TeleRead upload page.',
    };
  }
  if (pathStudy !== undefined && m.study.StudyInstanceUID !== pathStudy) {
    return {
      reason: FAILURE.doesNotMatch,
      code: 'STOW.STUDY_MISMATCH',
      message: 'This instance belongs to another study than the StudyInstanceUID in the request path. Send it to /dicomweb/studies, or to the URL of its own study.',
    };
  }
  if (!m.patient.id?.trim() || !displayName(m.patient.name)) {
    return {
      reason: FAILURE.processingFailure,
      code: 'STOW.PATIENT_MISSING',
      message: 'The instance has no PatientID (0010,0020) or no PatientName (0010,0010). TeleRead must know whose study it is to send the report back: enter the patient on the device (or its worklist) and send again, or use the upload page.',
    };
  }
  return null;
}

/** The submission of one study: the patient from the first instance's header, the rest from the request. */
function submissionFor(parts: Readable[], req: StowRequest): CreateSubmission {
  const pt = parts[0]!.meta.patient;
  const sex = pt.sex?.trim().toUpperCase();
  const birth = /^(\d{4})(\d{2})(\d{2})$/.exec(pt.birthDate?.trim() ?? '');
  return {
    patient: {
      id: pt.id!.trim(),
      name: displayName(pt.name),
      ...(sex === 'M' || sex === 'F' || sex === 'O' ? { sex } : {}),
      ...(birth ? { birthDate: `${birth[1]}-${birth[2]}-${birth[3]}` } : {}),
    },
    consent: { obtained: true, ...(req.consent.recordedBy ? { recordedBy: req.consent.recordedBy } : {}) },
    priority: req.priority,
    ...(req.clinicalNote ? { clinicalNote: req.clinicalNote } : {}),
    files: parts.map((x) => ({ name: `stow-part-${x.part + 1}.dcm`, size: x.size, contentType: 'application/dicom' })),
  };
}

/**
 * A DICOM person name (PN) as people write it: the ideographic group when there is one (Chinese
 * clinics; family and given name run together, 王^芳 → 王芳), else the alphabetic one, spaced.
 */
function displayName(pn: string | undefined): string {
  const [alphabetic = '', ideographic = ''] = (pn ?? '').split('=');
  const join = (g: string, sep: string) => g.split('^').map((x) => x.trim()).filter(Boolean).join(sep);
  return join(ideographic, '') || join(alphabetic, ' ');
}

/** Create the submission, move its parts under its upload keys, ingest each, and read back each file's outcome. */
async function file(deps: Deps, p: Principal, input: CreateSubmission, parts: (Staged & { meta?: StudyMetadata })[], caseIds: string[]): Promise<StowOutcome[]> {
  const sub = await createSubmission(deps, p, input);
  caseIds.push(sub.caseId);
  const keys = parts.map((_, i) => uploadKey(p.clinicId!, sub.submissionId, i));
  try {
    for (const [i, x] of parts.entries()) await deps.blobs.move(x.key, keys[i]!);
    // One at a time: the inspector's workers are shared with the ingest worker, and the last file decides the case.
    for (const [i, x] of parts.entries()) {
      await ingestObject(deps, keys[i]!, { sha256: x.sha256, size: x.size, storedAt: x.storedAt, ...(x.inspection ? { inspection: x.inspection } : {}) });
    }
  } catch (e) {
    // This study's parts are answered as failed (the other studies of the request keep their own
    // outcomes) and its case is closed rather than left waiting and holding the instances, so that
    // sending the study again takes them over. Moved files stay stored.
    deps.log.error('stow filing failed', { caseId: sub.caseId, code: (e as { code?: string })?.code ?? (e as Error)?.name });
    await closeUnfiled(deps, sub.caseId).catch((err: unknown) =>
      deps.log.error('stow: could not close the unfiled case', { caseId: sub.caseId, code: (err as { code?: string })?.code ?? (err as Error)?.name }),
    );
  }

  const c = (await deps.cases.get(sub.caseId))!;
  const byIndex = new Map((await deps.cases.listFileOutcomes(sub.caseId)).map((o) => [o.fileIndex, o]));
  const instances = new Map((await deps.cases.listInstances(sub.caseId)).map((r) => [r.fileIndex, r]));
  return parts.map((x, i): StowOutcome => {
    const o = byIndex.get(i);
    const rec = instances.get(i);
    const ids: Partial<InstanceIds> = rec
      ? { sopClassUID: rec.sopClassUID, sopInstanceUID: rec.sopInstanceUID, studyInstanceUID: rec.studyInstanceUID, seriesInstanceUID: rec.seriesInstanceUID }
      : x.meta
        ? idsOf(x.meta)
        : {};
    if (c.rejection?.code === FILING_FAILED.code) return failed(x.part, FAILURE.processingFailure, FILING_FAILED.code, FILING_FAILED.message, ids, sub.caseId);
    if (!o) {
      return failed(x.part, FAILURE.processingFailure, 'STOW.NOT_PROCESSED', 'The instance was stored but not yet checked; follow its case, or send it again later.', ids, sub.caseId);
    }
    if (o.outcome === 'rejected') {
      return failed(x.part, failureReasonOf(o.code), o.code ?? 'FILE.REJECTED', o.message ?? 'The file was refused.', ids, sub.caseId);
    }
    if (c.status === 'REJECTED' || c.status === 'AWAITING_FILES' || !rec) {
      const why = c.rejection ? `${c.rejection.code}: ${c.rejection.message}` : 'the study was not queued for reading';
      return failed(x.part, FAILURE.processingFailure, 'STOW.STUDY_REJECTED', `The instance was read, but its study was refused as a whole (${why}).`, ids, sub.caseId);
    }
    return {
      part: x.part,
      status: 'stored',
      caseId: sub.caseId,
      sopClassUID: rec.sopClassUID,
      sopInstanceUID: rec.sopInstanceUID,
      studyInstanceUID: rec.studyInstanceUID,
      seriesInstanceUID: rec.seriesInstanceUID,
    };
  });
}

/** The closest PS3.18 Failure Reason for a TeleRead refusal code. */
export function failureReasonOf(code: string | undefined): number {
  switch (code) {
    case 'DICOM.UNSUPPORTED_SOP_CLASS':
    case 'STUDY.UNSUPPORTED_MODALITY':
      return FAILURE.sopClassNotSupported;
    case 'DICOM.UNSUPPORTED_TRANSFER_SYNTAX':
      return FAILURE.transferSyntaxNotSupported;
    case 'STUDY.DUPLICATE_INSTANCE':
      return FAILURE.duplicateInstance;
    case 'FILE.TOO_LARGE':
      return FAILURE.outOfResources;
    case 'DICOM.MISSING_ATTRIBUTE':
    case 'DICOM.INVALID_VALUE':
    case 'DICOM.INVALID_GEOMETRY':
    case 'DICOM.PIXEL_DATA_MISSING':
    case 'DICOM.PIXEL_DATA_LENGTH_MISMATCH':
    case 'DICOM.WAVEFORM_INVALID':
      return FAILURE.doesNotMatch;
    case 'FILE.READ_FAILED':
    case 'FILE.PARSE_TIMEOUT':
    case 'FILE.PARSE_CRASHED':
      return FAILURE.processingFailure;
    default:
      return FAILURE.cannotUnderstand;
  }
}

const idsOf = (m: StudyMetadata): InstanceIds => ({
  sopClassUID: m.instance.SOPClassUID,
  sopInstanceUID: m.instance.SOPInstanceUID,
  studyInstanceUID: m.study.StudyInstanceUID,
  seriesInstanceUID: m.series.SeriesInstanceUID,
});

function failed(part: number, failureReason: number, code: string, message: string, ids: Partial<InstanceIds> = {}, caseId?: string): StowOutcome {
  return { part, status: 'failed', failureReason, code, message, ...ids, ...(caseId ? { caseId } : {}) };
}

const FILING_FAILED = {
  code: 'STOW.FILING_FAILED',
  message: 'TeleRead could not finish filing this study (a server error); the sender was told so. Send the study again.',
};

/** REJECTED with STOW.FILING_FAILED, if the case is still waiting for its files. */
async function closeUnfiled(deps: Deps, caseId: string): Promise<void> {
  const now = deps.clock.now();
  await updateWithRetry(deps, caseId, (cur) =>
    cur.status === 'AWAITING_FILES' ? { ...transition(cur, 'REJECTED', 'system:stow', now, FILING_FAILED.code), rejection: { ...FILING_FAILED } } : null,
  );
}
