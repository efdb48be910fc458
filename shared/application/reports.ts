import type { Principal } from '../contracts/auth.ts';
import type { ReportBody } from '../contracts/api.ts';
import type { Case } from '../domain/case.ts';
import { transition } from '../domain/case.ts';
import { AppError, isAppError } from '../domain/errors.ts';
import type { SignedReportRecord } from '../ports/case-repository.ts';
import { assertCanSee, assertLeaseHolder, requireRole } from './authorize.ts';
import type { Deps } from './deps.ts';
import { updateWithRetry } from './update.ts';

/** Serialises a report document to the exact bytes that are signed (RFC 8785). Injected: no crypto here. */
export type Canonicalize = (doc: unknown) => Uint8Array;

/** Save (replace) the lease holder's draft. */
export async function saveDraft(deps: Deps, p: Principal, caseId: string, body: ReportBody): Promise<void> {
  requireRole(p, 'reader');
  const c = assertCanSee(p, await deps.cases.get(caseId));
  assertLeaseHolder(p, c, deps.clock.now());
  await deps.cases.saveDraft({ caseId, authorId: p.userId, body, updatedAt: deps.clock.now().toISOString() });
}

/**
 * Sign the draft with the signer's own key (unsealed by their PIN): version n+1 of the report,
 * create-once; the case becomes SIGNED, its read message is deleted and delivery is queued.
 */
export async function signReport(deps: Deps, canonicalize: Canonicalize, p: Principal, caseId: string, pin: string) {
  requireRole(p, 'reader');
  const c = assertCanSee(p, await deps.cases.get(caseId));
  const now = deps.clock.now();
  assertLeaseHolder(p, c, now);
  const draft = await deps.cases.getDraft(caseId);
  if (!draft || draft.authorId !== p.userId) {
    throw new AppError('REPORT.NO_DRAFT', 'conflict', 'Save the report (findings and impression) before signing it.');
  }
  const body = draft.body as ReportBody;
  if (!body.impression?.trim()) throw new AppError('REPORT.IMPRESSION_REQUIRED', 'invalid', 'A signed report needs an impression.');
  const user = await deps.directory.getUser(p.userId);
  if (!user) throw new AppError('AUTH.UNKNOWN_USER', 'unauthenticated', 'Your account no longer exists.');
  const clinic = deps.directory.consortium().clinics.find((x) => x.id === c.clinicId);
  const instances = (await deps.cases.listInstances(caseId)).sort((a, b) => a.fileIndex - b.fileIndex);
  const version = c.reportVersion + 1;
  const document = {
    type: 'teleread.report',
    schemaVersion: 1,
    caseId,
    clinic: { id: c.clinicId, name: clinic?.name ?? c.clinicId },
    consortium: deps.directory.consortium().name,
    patient: { id: c.patient.id, name: c.patient.name, ...(c.patient.sex ? { sex: c.patient.sex } : {}), ...(c.patient.birthDate ? { birthDate: c.patient.birthDate } : {}) },
    StudyInstanceUID: instances[0]?.studyInstanceUID ?? '',
    Modality: c.modality ?? '',
    instances: instances.map((i) => ({ SOPInstanceUID: i.sopInstanceUID, sha256: i.sha256 })),
    findings: body.findings,
    impression: body.impression,
    critical: body.critical ?? false,
    fields: body.fields ?? {},
    language: body.language ?? 'zh-CN',
    ...(c.ecg ? { advisoryMeasurements: { ...c.ecg.measurements }, automaticFlags: [...c.ecg.flags] } : {}),
    signer: {
      id: user.id,
      name: user.displayName,
      licenceNumber: user.licenceNumber ?? '',
      institution: user.institution ?? deps.directory.consortium().county.name,
    },
    signedAt: now.toISOString(),
    version,
    supersedes: c.reportVersion > 0 ? c.reportVersion : null,
  };
  const canonical = canonicalize(document);
  const { jws } = await deps.signer.signDetached(p.userId, pin, canonical);
  const record: SignedReportRecord = {
    caseId,
    version,
    canonical: new TextDecoder().decode(canonical),
    jws,
    signerId: p.userId,
    signedAt: document.signedAt,
  };
  await deps.cases.putSignedReport(record);
  const lease = c.lease!;
  const signed = await updateWithRetry(deps, caseId, (cur) =>
    cur.status === 'CLAIMED' && cur.lease?.id === lease.id
      ? { ...transition(cur, 'SIGNED', p.userId, now), lease: null, reportVersion: version }
      : null,
  );
  if (!signed) throw new AppError('LEASE.LOST', 'conflict', 'The lease was lost while signing; the signature was not applied to the case.');
  await deps.readQueue.delete(lease.queue, lease.receipt).catch((e: unknown) => {
    // A stale receipt means the message was already gone or re-received; the case state decides.
    if (!(isAppError(e) && e.code === 'QUEUE.RECEIPT_INVALID')) throw e;
  });
  await deps.jobQueue.send('delivery', { type: 'deliver', caseId, version });
  await deps.audit.append({ at: now.toISOString(), actor: p.userId, action: 'report.sign', caseId, detail: { version } });
  deps.log.info('report signed', { caseId, version, readerId: p.userId });
  return { version, report: document, jws };
}

/** Delivery job: SIGNED → DELIVERED and the clinic is told. Idempotent on caseId + version. */
export async function deliverReport(deps: Deps, caseId: string, version: number): Promise<Case | null> {
  const now = deps.clock.now();
  const c = await updateWithRetry(deps, caseId, (cur) =>
    cur.status === 'SIGNED' && cur.reportVersion === version ? transition(cur, 'DELIVERED', 'system:delivery', now) : null,
  );
  if (!c) return null;
  const report = await deps.cases.getSignedReport(caseId, version);
  const critical = report ? (JSON.parse(report.canonical) as { critical?: boolean }).critical === true : false;
  await deps.notifier.notify({ to: { clinicId: c.clinicId }, kind: critical ? 'report.critical' : 'report.delivered', caseId, at: now.toISOString() });
  deps.log.info('report delivered', { caseId, version, critical });
  return c;
}

/** The latest (or a given) signed version, for readers of the pool, the owning clinic and admins. Recorded in the audit log. */
export async function getReport(deps: Deps, p: Principal, caseId: string, version?: number) {
  assertCanSee(p, await deps.cases.get(caseId));
  const r = await deps.cases.getSignedReport(caseId, version);
  if (!r) throw new AppError('REPORT.NOT_FOUND', 'not_found', 'This case has no signed report yet.');
  const history = (await deps.cases.listSignedReports(caseId)).map((x) => ({ version: x.version, signedAt: x.signedAt, signerId: x.signerId }));
  await deps.audit.append({ at: deps.clock.now().toISOString(), actor: p.userId, action: 'report.view', caseId, detail: { version: r.version } });
  return { version: r.version, report: JSON.parse(r.canonical) as Record<string, unknown>, jws: r.jws, history };
}
