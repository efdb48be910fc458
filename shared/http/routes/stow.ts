import type { Context } from 'hono';
import { assertCanStore, storeInstances, type StowOutcome, type StowPart } from '../../application/stow.ts';
import { AppError } from '../../domain/errors.ts';
import { PRIORITIES, type Priority } from '../../domain/priority.ts';
import type { Env, RouteKit } from '../kit.ts';
import { assertBoundary, parseMediaType, readMultipart } from '../multipart.ts';

/** The request headers that stand in for the JSON submission a DICOMweb client cannot send. */
export const STOW_HEADERS = {
  consent: 'X-TeleRead-Consent',
  recordedBy: 'X-TeleRead-Consent-Recorded-By',
  priority: 'X-TeleRead-Priority',
  clinicalNote: 'X-TeleRead-Clinical-Note',
  caseIds: 'X-TeleRead-Case-Ids',
} as const;

const MEDIA_TYPE = 'multipart/related; type="application/dicom"; boundary=…';
const UID = /^[0-9]+(\.[0-9]+)*$/;

/** DICOM JSON (PS3.18 F.2) of the few attributes a Store Instances Response holds. */
type Attr = { vr: string; Value?: unknown[] };
type DicomJson = Record<string, Attr>;

/**
 * TeleRead's own reading of each failure, in a private block (PS3.5 7.8.1) of the FailedSOPSequence
 * item: (0009,0010) creator "TELEREAD", (0009,1010) refusal code, (0009,1011) message. The case id
 * goes in (0009,1012) of stored and failed items alike.
 */
const PRIVATE_CREATOR = { '00090010': { vr: 'LO', Value: ['TELEREAD'] } };

/** DICOMweb STOW-RS (`POST /dicomweb/studies`): another way in for technicians' software. */
export function registerStowRoutes(kit: RouteKit): void {
  const { app, deps, doc, me } = kit;

  const store = async (c: Context<Env>) => {
    const p = me(c);
    assertCanStore(p);
    const boundary = boundaryOf(c.req.header('content-type'));
    const opts = submissionHeaders(c);
    const study = c.req.param('study');
    if (study !== undefined && (!UID.test(study) || study.length > 64)) {
      throw new AppError('STOW.INVALID_STUDY_UID', 'invalid', 'The StudyInstanceUID in the path is not a DICOM UID (digits and dots, at most 64 characters).');
    }
    const raw = (c.req.raw.body ?? (async function* () {})()) as AsyncIterable<Uint8Array>;
    const parts = (async function* (): AsyncGenerator<StowPart> {
      for await (const part of readMultipart(raw, boundary)) yield { body: part.body };
    })();
    const r = await storeInstances(deps, p, { parts, studyInstanceUID: study, ...opts });

    const base = `${new URL(c.req.url).origin}/dicomweb`;
    const stored = r.outcomes.filter((o) => o.status === 'stored');
    const failedOnes = r.outcomes.filter((o) => o.status === 'failed');
    const studies = [...new Set(stored.map((o) => o.studyInstanceUID))];
    const body: DicomJson = {
      // Type 2: the study's URL when the stored instances belong to one study.
      '00081190': studies.length === 1 ? { vr: 'UR', Value: [`${base}/studies/${studies[0]}`] } : { vr: 'UR' },
    };
    if (failedOnes.length) body['00081198'] = { vr: 'SQ', Value: failedOnes.map((o) => failedItem(o)) };
    if (stored.length) body['00081199'] = { vr: 'SQ', Value: stored.map((o) => storedItem(o, base)) };
    // PS3.18 10.5.3: 200 all stored, 202 some, 409 none (the request itself was well formed).
    const status = failedOnes.length === 0 ? 200 : stored.length ? 202 : 409;
    return c.body(JSON.stringify(body), status, {
      'content-type': 'application/dicom+json',
      [STOW_HEADERS.caseIds]: r.caseIds.join(','),
      'cache-control': 'no-store',
    });
  };

  app.post('/dicomweb/studies', store);
  app.post('/dicomweb/studies/:study', store);

  const headers = [
    { name: STOW_HEADERS.consent, required: true, description: '`obtained`: the clinic attests that the patient consented to remote diagnosis (as consent.obtained in POST /api/submissions). Without it: 400 STOW.CONSENT_REQUIRED.' },
    { name: STOW_HEADERS.priority, description: '`stat`, `urgent` or `routine` (default).' },
    { name: STOW_HEADERS.clinicalNote, description: 'Clinical note for the reader, percent-encoded UTF-8 (at most 4000 characters).' },
    { name: STOW_HEADERS.recordedBy, description: 'Who recorded the consent, percent-encoded UTF-8 (default: the signed-in technician).' },
  ];
  const responses = {
    '200': 'All instances stored (application/dicom+json: ReferencedSOPSequence with RetrieveURLs). Header X-TeleRead-Case-Ids lists the cases created (one per study).',
    '202': 'Some stored, some failed: FailedSOPSequence items carry FailureReason and, in private block TELEREAD (0009,10xx), the TeleRead code, message and case id',
    '400': 'Broken multipart body (MULTIPART.*), no consent header (STOW.CONSENT_REQUIRED) or a bad X-TeleRead-* value; nothing stored',
    '403': 'Not a technician of a clinic',
    '409': 'No instance stored (each failure in FailedSOPSequence); unreadable parts are kept as a REJECTED case',
    '415': 'Content-Type is not multipart/related with type application/dicom',
  };
  const rawBody = { contentType: 'multipart/related', description: 'One DICOM Part 10 instance per part (PS3.18 10.5). Content-Type: multipart/related; type="application/dicom"; boundary=…' };
  doc({ method: 'post', path: '/dicomweb/studies', summary: 'STOW-RS: store DICOM instances; each study becomes one case, checked like a browser upload', roles: 'technician', headers, responses, rawBody });
  doc({ method: 'post', path: '/dicomweb/studies/{study}', summary: 'STOW-RS into one study: instances of other studies fail (FailureReason A900)', roles: 'technician', headers, responses, rawBody });
}

function boundaryOf(contentType: string | undefined): string {
  const mt = parseMediaType(contentType);
  if (!mt || mt.type !== 'multipart/related') {
    throw new AppError(
      'STOW.UNSUPPORTED_MEDIA_TYPE',
      'unsupported_media_type',
      `STOW-RS takes Content-Type: ${MEDIA_TYPE}, one DICOM instance per part${mt ? `; this request sent ${mt.type}` : ''}.`,
    );
  }
  const type = mt.params.type?.toLowerCase();
  if (type !== undefined && type !== 'application/dicom') {
    throw new AppError(
      'STOW.UNSUPPORTED_MEDIA_TYPE',
      'unsupported_media_type',
      `TeleRead stores DICOM Part 10 instances: the type parameter must be "application/dicom" (metadata with bulk data, ${type}, is not taken). Send Content-Type: ${MEDIA_TYPE}.`,
    );
  }
  return assertBoundary(mt.params.boundary);
}

/** Consent, priority and clinical note from the X-TeleRead-* headers. */
function submissionHeaders(c: Context<Env>): { consent: { recordedBy?: string }; priority: Priority; clinicalNote?: string } {
  const consent = c.req.header(STOW_HEADERS.consent)?.trim().toLowerCase();
  if (consent !== 'obtained') {
    throw new AppError(
      'STOW.CONSENT_REQUIRED',
      'invalid',
      `Remote diagnosis needs the patient's recorded consent: add the request header "${STOW_HEADERS.consent}: obtained" once the clinic has recorded it (in a DICOMweb client, set it among the client's headers).`,
    );
  }
  const rawPriority = c.req.header(STOW_HEADERS.priority)?.trim().toLowerCase();
  if (rawPriority !== undefined && !(PRIORITIES as readonly string[]).includes(rawPriority)) {
    throw new AppError('STOW.INVALID_PRIORITY', 'invalid', `${STOW_HEADERS.priority} must be stat, urgent or routine.`);
  }
  const note = decoded(c, STOW_HEADERS.clinicalNote, 4000);
  const recordedBy = decoded(c, STOW_HEADERS.recordedBy, 200);
  return {
    consent: recordedBy ? { recordedBy } : {},
    priority: (rawPriority ?? 'routine') as Priority,
    ...(note ? { clinicalNote: note } : {}),
  };
}

/** A percent-encoded UTF-8 header (HTTP header values cannot carry Chinese text as is). */
function decoded(c: Context<Env>, name: string, max: number): string | undefined {
  const v = c.req.header(name);
  if (v === undefined) return undefined;
  let text: string;
  try {
    text = decodeURIComponent(v).trim();
  } catch {
    throw new AppError('STOW.INVALID_HEADER', 'invalid', `${name} must be percent-encoded UTF-8 (as encodeURIComponent makes it).`);
  }
  if (text.length > max) throw new AppError('STOW.INVALID_HEADER', 'invalid', `${name} holds at most ${max} characters.`);
  return text || undefined;
}

function sopRef(o: StowOutcome): DicomJson {
  return {
    ...(o.sopClassUID ? { '00081150': { vr: 'UI', Value: [o.sopClassUID] } } : {}),
    ...(o.sopInstanceUID ? { '00081155': { vr: 'UI', Value: [o.sopInstanceUID] } } : {}),
  };
}

function storedItem(o: Extract<StowOutcome, { status: 'stored' }>, base: string): DicomJson {
  return {
    ...sopRef(o),
    '00081190': { vr: 'UR', Value: [`${base}/studies/${o.studyInstanceUID}/series/${o.seriesInstanceUID}/instances/${o.sopInstanceUID}`] },
    ...PRIVATE_CREATOR,
    '00091012': { vr: 'LO', Value: [o.caseId] },
  };
}

function failedItem(o: Extract<StowOutcome, { status: 'failed' }>): DicomJson {
  return {
    ...sopRef(o),
    '00081197': { vr: 'US', Value: [o.failureReason] },
    ...PRIVATE_CREATOR,
    '00091010': { vr: 'LO', Value: [o.code] },
    '00091011': { vr: 'UT', Value: [o.message] },
    ...(o.caseId ? { '00091012': { vr: 'LO', Value: [o.caseId] } } : {}),
  };
}
