import { REPLAYABLE } from '../ports/unit-of-work.ts';
import type { Principal } from '../contracts/auth.ts';
import type { CaseView } from '../contracts/api.ts';
import type { Case, CaseStatus } from '../domain/case.ts';
import { timelineOf, transition } from '../domain/case.ts';
import { AppError } from '../domain/errors.ts';
import { DEFAULT_SLA, slaTarget } from '../domain/sla.ts';
import type { CasePage } from '../ports/case-repository.ts';
import { assertCanSee, requireRole } from './authorize.ts';
import type { Deps } from './deps.ts';
import { criticalResultOf } from './sla.ts';
import { updateWithRetry } from './update.ts';

/** The case as its viewers see it: status, timeline, study projection, ECG advisory, rejection, report link. */
export async function getCase(deps: Deps, p: Principal, caseId: string): Promise<CaseView> {
  const c = assertCanSee(p, await deps.cases.get(caseId));
  await deps.audit.append({ at: deps.clock.now().toISOString(), actor: p.userId, action: 'case.view', caseId });
  return toView(deps, c, true);
}

export async function toView(deps: Deps, c: Case, detailed: boolean): Promise<CaseView> {
  const outcomes = detailed ? await deps.cases.listFileOutcomes(c.caseId) : [];
  const instances = detailed ? await deps.cases.listInstances(c.caseId) : [];
  const files = Array.from({ length: c.declaredFiles }, (_, index) => {
    const o = outcomes.find((x) => x.fileIndex === index);
    return o
      ? { index, outcome: o.outcome, ...(o.code ? { code: o.code } : {}), ...(o.message ? { message: o.message } : {}) }
      : { index, outcome: 'pending' as const };
  });
  return {
    caseId: c.caseId,
    submissionId: c.submissionId,
    clinicId: c.clinicId,
    status: c.status,
    priority: c.priority,
    requestedPriority: c.requestedPriority,
    pool: c.pool,
    modality: c.modality,
    patient: {
      id: c.patient.id,
      name: c.patient.name,
      ...(c.patient.sex ? { sex: c.patient.sex } : {}),
      ...(c.patient.birthDate ? { birthDate: c.patient.birthDate } : {}),
    },
    clinicalNote: c.clinicalNote,
    declaredFiles: c.declaredFiles,
    files: detailed ? files : [],
    timeline: timelineOf(c) as Record<string, string>,
    events: c.events.map((e) => ({ ...e })),
    study: c.study,
    ecg: c.ecg ? { measurements: c.ecg.measurements, flags: c.ecg.flags, advisory: true as const } : null,
    rejection: c.rejection,
    lease: c.lease ? { id: c.lease.id, readerId: c.lease.readerId, expiresAt: c.lease.expiresAt } : null,
    report: c.reportVersion > 0 ? { version: c.reportVersion, href: `/api/cases/${c.caseId}/report` } : null,
    instances: instances
      .sort((a, b) => a.fileIndex - b.fileIndex)
      .map((i) => ({ index: i.fileIndex, SOPInstanceUID: i.sopInstanceUID, href: `/api/cases/${c.caseId}/instances/${i.fileIndex}` })),
    acknowledgement: c.acknowledgement
      ? {
          by: c.acknowledgement.by,
          at: c.acknowledgement.at,
          ...(c.acknowledgement.receivedBy ? { receivedBy: c.acknowledgement.receivedBy } : {}),
          ...(c.acknowledgement.readBack ? { readBack: c.acknowledgement.readBack } : {}),
        }
      : null,
    escalations: (c.escalations ?? []).map((e) => ({ kind: e.kind, at: e.at, ...(e.fromPriority ? { fromPriority: e.fromPriority, toPriority: e.toPriority } : {}) })),
    sla: slaOf(c),
    critical: c.criticalResult != null,
    criticalResult: c.criticalResult ?? null,
    uploadCompletedAt: c.uploadCompletedAt ?? null,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

/** Cases visible to the caller; filters are narrowed to the caller's scope, never widened. */
export async function listCases(
  deps: Deps,
  p: Principal,
  q: { status?: CaseStatus | undefined; pool?: string | undefined; clinicId?: string | undefined; patientId?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<{ items: CaseView[]; nextCursor: string | null }> {
  const filter = { status: q.status, pool: q.pool, clinicId: q.clinicId, patientId: q.patientId, limit: q.limit, cursor: q.cursor } as Parameters<typeof deps.cases.list>[0];
  if (p.role === 'technician') {
    if (q.clinicId && q.clinicId !== p.clinicId) return { items: [], nextCursor: null };
    filter.clinicId = p.clinicId;
  } else if (p.role === 'reader') {
    const mine = p.pools ?? [];
    if (q.pool && !mine.includes(q.pool)) return { items: [], nextCursor: null };
    filter.pools = q.pool ? [q.pool] : mine;
  }
  let page: CasePage;
  try {
    page = await deps.cases.list(filter);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('CASE.BAD_CURSOR', 'invalid', 'The cursor is not valid; start again without it.');
  }
  return { items: await Promise.all(page.items.map((c) => toView(deps, c, false))), nextCursor: page.nextCursor };
}

/** The owning clinic records receipt; a critical report also needs who received it and what they read back. */
export async function acknowledge(
  deps: Deps,
  p: Principal,
  caseId: string,
  body: { receivedBy?: string | undefined; readBack?: string | undefined },
): Promise<CaseView> {
  // ACKNOWLEDGED and its audit record are durable together before the clinic sees the answer.
  return deps.uow.run(async () => {
    requireRole(p, 'technician');
    const c = assertCanSee(p, await deps.cases.get(caseId));
    if (c.status === 'ACKNOWLEDGED') return toView(deps, c, true);
    if (c.status !== 'DELIVERED') {
      throw new AppError('CASE.NOT_DELIVERED', 'conflict', `There is no delivered report to acknowledge yet (the case is ${c.status}).`);
    }
    const report = await deps.cases.getSignedReport(caseId);
    const critical = report ? (JSON.parse(report.canonical) as { critical?: boolean }).critical === true : false;
    if (critical && (!body.receivedBy || !body.readBack)) {
      throw new AppError(
        'ACK.READ_BACK_REQUIRED',
        'invalid',
        'This is a critical result: give receivedBy (who took the result) and readBack (the result as read back) to acknowledge it.',
      );
    }
    const now = deps.clock.now();
    const cr = critical ? (c.criticalResult ?? (await criticalResultOf(deps, c))) : null;
    const done = await updateWithRetry(deps, caseId, (cur) =>
      cur.status === 'DELIVERED'
        ? {
            ...transition(cur, 'ACKNOWLEDGED', p.userId, now),
            acknowledgement: { by: p.userId, at: now.toISOString(), receivedBy: body.receivedBy, readBack: body.readBack, method: 'in-app' as const },
            // The loop closes: receiver, time received and the read-back complete the ACR fields.
            ...(cr ? { criticalResult: { ...cr, receiver: body.receivedBy, receivedAt: now.toISOString(), readBack: body.readBack, acknowledgedBy: p.userId } } : {}),
          }
        : null,
    );
    const after = done ?? (await deps.cases.get(caseId))!;
    await deps.audit.append({ at: now.toISOString(), actor: p.userId, action: 'report.acknowledge', caseId, detail: { critical } });
    return toView(deps, after, true);
  }, REPLAYABLE);
}

/** The stored bytes of one accepted instance, for readers of the pool, the owning clinic and admins. */
export async function getInstance(deps: Deps, p: Principal, caseId: string, index: number) {
  const c = assertCanSee(p, await deps.cases.get(caseId));
  const inst = (await deps.cases.listInstances(caseId)).find((i) => i.fileIndex === index);
  if (!inst) throw new AppError('INSTANCE.NOT_FOUND', 'not_found', `Case has no accepted file number ${index}.`);
  await deps.audit.append({ at: deps.clock.now().toISOString(), actor: p.userId, action: 'instance.view', caseId: c.caseId, detail: { index } });
  return { key: inst.key, size: inst.size, sha256: inst.sha256 };
}

/** The decoded leads of an accepted ECG instance (mV per lead), for the viewer. Recorded in the audit log. */
export async function getWaveform(deps: Deps, p: Principal, caseId: string, index: number) {
  const c = assertCanSee(p, await deps.cases.get(caseId));
  const inst = (await deps.cases.listInstances(caseId)).find((i) => i.fileIndex === index);
  if (!inst) throw new AppError('INSTANCE.NOT_FOUND', 'not_found', `Case has no accepted file number ${index}.`);
  if (inst.modality.toUpperCase() !== 'ECG') {
    throw new AppError('INSTANCE.NOT_A_WAVEFORM', 'invalid', `File ${index} is a ${inst.modality} image, not an ECG: open it in the image viewer.`);
  }
  const out = await deps.inspector.readWaveform({ size: inst.size, readRange: (o, l) => deps.blobs.readRange(inst.key, o, l) });
  if (!out.ok) throw new AppError(out.code, 'unprocessable', out.message);
  await deps.audit.append({ at: deps.clock.now().toISOString(), actor: p.userId, action: 'instance.view', caseId: c.caseId, detail: { index, waveform: true } });
  return out.waveform;
}

/** The consortium as a caller may see it: clinics and pools for all; users (never their password hashes) for admins. */
export function consortiumView(deps: Deps, p: Principal) {
  const c = deps.directory.consortium();
  return {
    name: c.name,
    county: c.county,
    clinics: c.clinics.map((x) => ({ id: x.id, name: x.name })),
    pools: c.pools.map((x) => ({ id: x.id, name: x.name })),
    routing: c.routing,
    ...(p.role === 'admin'
      ? {
          users: c.users.map((u) => ({
            id: u.id,
            username: u.username,
            displayName: u.displayName,
            role: u.role,
            ...(u.clinicId ? { clinicId: u.clinicId } : {}),
            ...(u.pools ? { pools: u.pools } : {}),
            ...(u.licenceNumber ? { licenceNumber: u.licenceNumber } : {}),
          })),
        }
      : {}),
  };
}

/** When a waiting case reaches its SLA warning and breach points (from its first QUEUED time). */
function slaOf(c: Case): { warnAt: string; breachAt: string } | null {
  const queuedAt = c.events.find((e) => e.status === 'QUEUED')?.at;
  if (!queuedAt || !c.pool) return null;
  const t = slaTarget(DEFAULT_SLA, c.pool, c.slaPriority ?? c.requestedPriority);
  const at = (min: number) => new Date(Date.parse(queuedAt) + min * 60_000).toISOString();
  return { warnAt: at(t.warnMinutes), breachAt: at(t.breachMinutes) };
}
