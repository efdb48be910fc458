import { REPLAYABLE } from '../ports/unit-of-work.ts';
import type { Principal } from '../contracts/auth.ts';
import type { ReportBody } from '../contracts/api.ts';
import {
  contentOf,
  templateForModality,
  verificationCode,
  type AmendBody,
  type AmendmentKind,
  type FieldValue,
  type ReportContent,
  type SignedReportDocument,
} from '../contracts/report.ts';
import type { Case, CriticalResult } from '../domain/case.ts';
import { transition } from '../domain/case.ts';
import { AppError, isAppError } from '../domain/errors.ts';
import type { ReportDraft, SignedReportRecord } from '../ports/case-repository.ts';
import type { ReportSigner } from '../ports/signer.ts';
import { assertCanSee, assertLeaseHolder, requireRole } from './authorize.ts';
import { giveBackLocked } from './reads.ts';
import { pinLimitedSigner } from './signing-pin.ts';
import type { Deps } from './deps.ts';
import { updateWithRetry } from './update.ts';

/** Serialises a report document to the exact bytes that are signed (RFC 8785). Injected: no crypto here. */
export type Canonicalize = (doc: unknown) => Uint8Array;

/** What signing a version answers: the API's `{version, report, jws}` plus rendering warnings. */
export interface SignedVersion {
  version: number;
  report: SignedReportDocument;
  jws: string;
  warnings: { code: string; message: string; chars?: string[] }[];
}

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
/** SHA-256 (hex) with the platform's WebCrypto (a global in Node 20 and Lambda: no import needed). */
export const sha256Hex = async (bytes: Uint8Array): Promise<string> => hex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));

/** Save (replace) the lease holder's draft; with `leaseId`, only under that lease (see assertLeaseHolder). */
export async function saveDraft(deps: Deps, p: Principal, caseId: string, body: ReportBody, leaseId?: string): Promise<void> {
  requireRole(p, 'reader');
  const c = assertCanSee(p, await deps.cases.get(caseId));
  assertLeaseHolder(p, c, deps.clock.now(), leaseId);
  await deps.cases.saveDraft({ caseId, authorId: p.userId, body, updatedAt: deps.clock.now().toISOString() });
}

interface ContentInput {
  findings: string;
  impression: string;
  critical?: boolean | undefined;
  fields?: Record<string, FieldValue> | undefined;
  language?: 'zh-CN' | 'en' | undefined;
}

/** The content the signer attests, from the case record, the instances read and what they wrote. */
async function buildContent(
  deps: Deps,
  p: Principal,
  c: Case,
  input: ContentInput,
  at: Date,
  version: number,
  supersedes: number | null,
  amendment?: { kind: AmendmentKind; reason: string },
): Promise<ReportContent> {
  if (!input.impression?.trim()) throw new AppError('REPORT.IMPRESSION_REQUIRED', 'invalid', 'A signed report needs an impression.');
  const user = await deps.directory.getUser(p.userId);
  if (!user) throw new AppError('AUTH.UNKNOWN_USER', 'unauthenticated', 'Your account no longer exists.');
  const consortium = deps.directory.consortium();
  const clinic = consortium.clinics.find((x) => x.id === c.clinicId);
  const instances = (await deps.cases.listInstances(c.caseId)).sort((a, b) => a.fileIndex - b.fileIndex);
  const template = templateForModality(c.modality);
  return {
    type: 'teleread.report',
    schemaVersion: 2,
    caseId: c.caseId,
    clinic: { id: c.clinicId, name: clinic?.name ?? c.clinicId },
    consortium: consortium.name,
    patient: { id: c.patient.id, name: c.patient.name, ...(c.patient.sex ? { sex: c.patient.sex } : {}), ...(c.patient.birthDate ? { birthDate: c.patient.birthDate } : {}) },
    StudyInstanceUID: instances[0]?.studyInstanceUID ?? '',
    Modality: c.modality ?? '',
    instances: instances.map((i) => ({ SOPInstanceUID: i.sopInstanceUID, sha256: i.sha256 })),
    template: template.id,
    findings: input.findings,
    impression: input.impression,
    critical: input.critical ?? false,
    fields: input.fields ?? {},
    language: input.language ?? 'zh-CN',
    ...(c.ecg ? { advisoryMeasurements: { ...c.ecg.measurements }, automaticFlags: [...c.ecg.flags] } : {}),
    signer: {
      id: user.id,
      name: user.displayName,
      licenceNumber: user.licenceNumber ?? '',
      institution: user.institution ?? consortium.county.name,
    },
    signedAt: at.toISOString(),
    version,
    supersedes,
    ...(amendment ? { amendment } : {}),
  };
}

/**
 * Signs one report's content and renders its PDF, storing nothing: (1) the content is signed
 * (contentSignature); (2) the PDF is rendered from the content, printing the verification code built
 * from that signature; (3) the report = content + contentSignature + pdfSha256 is signed — the detached
 * JWS the API returns. Both signatures come from one unsealing of the signer's current key.
 */
export async function sealReport(
  ports: { signer: Pick<ReportSigner, 'openSession'>; renderer: Deps['renderer'] },
  canonicalize: Canonicalize,
  signerId: string,
  pin: string,
  content: ReportContent,
) {
  // One unseal (the PIN's scrypt is the expensive step) for both signatures, so both are one key.
  const session = await ports.signer.openSession(signerId, pin);
  const contentSigned = await session.signDetached(canonicalize(content));
  const code = verificationCode(content.caseId, content.version, contentSigned.jws);
  const rendered = await ports.renderer.render(content, { verificationCode: code, kid: contentSigned.kid });
  const pdfSha256 = await sha256Hex(rendered.pdf);
  const report: SignedReportDocument = { ...content, contentSignature: contentSigned.jws, pdfSha256 };
  const canonical = canonicalize(report);
  const { jws, kid } = await session.signDetached(canonical);
  return { report, canonical, jws, kid, pdf: rendered.pdf, pdfSha256, verificationCode: code, missingGlyphs: rendered.missingGlyphs };
}

/**
 * Signs and stores one report version. The PDF is stored under a key holding its hash before the
 * version record, so a signed record never points at a missing or a different PDF (and a signer who
 * loses a race for a version overwrites nothing).
 */
async function signVersion(deps: Deps, canonicalize: Canonicalize, p: Principal, c: Case, content: ReportContent, pin: string) {
  const sealed = await sealReport({ signer: pinLimitedSigner(deps), renderer: deps.renderer }, canonicalize, p.userId, pin, content);
  const pdfKey = `reports/${c.clinicId}/${c.caseId}/v${content.version}-${sealed.pdfSha256.slice(0, 16)}.pdf`;
  await deps.blobs.put(pdfKey, sealed.pdf, { contentType: 'application/pdf' });
  const record: SignedReportRecord = {
    caseId: c.caseId,
    version: content.version,
    canonical: new TextDecoder().decode(sealed.canonical),
    jws: sealed.jws,
    signerId: p.userId,
    signedAt: content.signedAt,
    pdfKey,
  };
  await deps.cases.putSignedReport(record);
  const warnings: SignedVersion['warnings'] = [];
  if (sealed.missingGlyphs.length) {
    warnings.push({
      code: 'PDF.MISSING_GLYPHS',
      message: `The PDF font has no glyph for ${sealed.missingGlyphs.join(' ')}; those characters print as a placeholder box (the signed JSON keeps them exactly).`,
      chars: sealed.missingGlyphs,
    });
    deps.log.warn('report PDF has characters without glyphs', { caseId: c.caseId, version: content.version, count: sealed.missingGlyphs.length });
  }
  return { report: sealed.report, jws: sealed.jws, warnings };
}

/**
 * Sign the draft with the signer's own key (unsealed by their PIN): version n+1 of the report,
 * create-once; the case becomes SIGNED, its read message is deleted and delivery is queued. With
 * `leaseId`, only under that lease (see assertLeaseHolder).
 */
export async function signReport(deps: Deps, canonicalize: Canonicalize, p: Principal, caseId: string, pin: string, leaseId?: string): Promise<SignedVersion> {
  // The signed version, SIGNED, the delivery job, the read message deleted and the audit record are durable
  // together before the signer hears of it (the PDF is a blob, synced when stored). Delivery runs
  // elsewhere and makes its own writes durable before it notifies anyone.
  return deps.uow.run(async () => {
    requireRole(p, 'reader');
    const c = assertCanSee(p, await deps.cases.get(caseId));
    const now = deps.clock.now();
    assertLeaseHolder(p, c, now, leaseId);
    const draft = await deps.cases.getDraft(caseId, p.userId);
    if (!draft) {
      throw new AppError('REPORT.NO_DRAFT', 'conflict', 'Save the report (findings and impression) before signing it.');
    }
    const body = draft.body as ReportBody;
    const version = c.reportVersion + 1;
    const content = await buildContent(deps, p, c, body, now, version, c.reportVersion > 0 ? c.reportVersion : null);
    let signedVersion: SignedVersion;
    // Whether the signed version says what the draft says: only then has the draft served its purpose.
    let draftSigned = true;
    try {
      const { report, jws, warnings } = await signVersion(deps, canonicalize, p, c, content, pin);
      signedVersion = { version, report, jws, warnings };
    } catch (e) {
      if (isAppError(e) && e.code === 'SIGN.PIN_LOCKED') throw await giveBackLocked(deps, p, caseId, e);
      if (!(isAppError(e) && e.code === 'REPORT.VERSION_EXISTS')) throw e;
      // A version stored before a crash or a lost lease: it is signed, so it stands — apply it to the case.
      const stored = (await deps.cases.getSignedReport(caseId, version))!;
      await applySignature(deps, caseId, version, stored.signerId, now);
      if (stored.signerId !== p.userId) {
        throw new AppError('REPORT.ALREADY_SIGNED', 'conflict', 'Another reader signed this case meanwhile; open it to see their report.');
      }
      const report = JSON.parse(stored.canonical) as SignedVersion['report'];
      draftSigned = saysTheSame(report, body);
      const warnings: SignedVersion['warnings'] = draftSigned
        ? []
        : [
            {
              code: 'REPORT.EARLIER_VERSION_SIGNED',
              message: `Version ${version}, signed before (its answer was lost), stands as it was signed; what you changed in the draft since is not in it. Your draft is kept: amend the report to add it.`,
            },
          ];
      signedVersion = { version, report, jws: stored.jws, warnings };
    }
    const lease = c.lease!;
    await applySignature(deps, caseId, version, p.userId, now);
    await deps.readQueue.delete(lease.queue, lease.receipt).catch((e: unknown) => {
      // A stale receipt means the message was already gone or re-received; the case state decides.
      if (!(isAppError(e) && e.code === 'QUEUE.RECEIPT_INVALID')) throw e;
    });
    await deps.audit.append({ at: now.toISOString(), actor: p.userId, action: 'report.sign', caseId, detail: { version } });
    // The signed version holds what the draft said. Left behind, a draft is only clinical text kept
    // twice: no reason to fail a signature that stands.
    if (draftSigned) {
      await discardServedDraft(deps, draft, 'signed');
    }
    deps.log.info('report signed', { caseId, version, readerId: p.userId });
    return signedVersion;
  }, REPLAYABLE);
}

/**
 * Discard a draft whose words a signed version now holds. Left behind it is only clinical text kept
 * twice, so a failure is logged and never fails the signature that stands.
 */
async function discardServedDraft(deps: Deps, draft: ReportDraft, how: 'signed' | 'amended'): Promise<void> {
  await deps.cases.discardDraft(draft).catch((e: unknown) =>
    deps.log.warn(`the ${how} draft was not discarded`, { caseId: draft.caseId, code: (e as { code?: string })?.code, error: (e as Error)?.name }),
  );
}

/** Whether a signed version says what a draft says (the reader's words and choices; not who or when). */
function saysTheSame(report: Pick<ReportContent, 'findings' | 'impression' | 'critical' | 'language' | 'fields'>, draft: ReportBody): boolean {
  const a = report.fields ?? {};
  const b = draft.fields ?? {};
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return (
    report.findings === draft.findings &&
    report.impression === draft.impression &&
    (report.critical ?? false) === (draft.critical ?? false) &&
    (report.language ?? 'zh-CN') === (draft.language ?? 'zh-CN') &&
    keys.every((k) => (a as Record<string, unknown>)[k] === (b as Record<string, unknown>)[k])
  );
}

/**
 * Move the case to SIGNED for a stored signed version and queue its delivery. A signature is never
 * dropped: if the signer's lease ran out while signing (the case went back to the queue, or another
 * reader took it), the signed version still stands and the case records how it got there. Idempotent.
 */
export async function applySignature(deps: Deps, caseId: string, version: number, signerId: string, now: Date): Promise<boolean> {
  const done = await updateWithRetry(deps, caseId, (cur) => {
    if (cur.reportVersion >= version || !['QUEUED', 'CLAIMED'].includes(cur.status)) return null;
    let c = cur;
    if (c.status === 'CLAIMED' && c.lease?.readerId !== signerId) {
      c = { ...transition(c, 'QUEUED', 'system:lease', now, 'superseded-by-signature'), lease: null };
    }
    if (c.status === 'QUEUED') c = transition(c, 'CLAIMED', signerId, now, 'signed-after-lease-expiry');
    return { ...transition(c, 'SIGNED', signerId, now), lease: null, reportVersion: version };
  });
  if (done) await deps.jobQueue.send('delivery', { type: 'deliver', caseId, version });
  return done !== null;
}

/**
 * Sweeper repair for a crash between storing a signed version and applying it: a waiting or claimed
 * case with a stored signed version newer than its own is moved to SIGNED and delivered.
 */
export async function repairUnappliedSignatures(deps: Deps): Promise<number> {
  let repaired = 0;
  for (const status of ['QUEUED', 'CLAIMED'] as const) {
    let cursor: string | undefined;
    do {
      const page = await deps.cases.list({ status, limit: 200, cursor });
      for (const c of page.items) {
        // Only a case that was ever claimed can hold a signature: the rest cost no read.
        if (!c.events.some((e) => e.status === 'CLAIMED')) continue;
        const r = await deps.cases.getSignedReport(c.caseId);
        if (r && r.version > c.reportVersion && (await applySignature(deps, c.caseId, r.version, r.signerId, deps.clock.now()))) repaired++;
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  if (repaired) deps.log.warn('applied signed reports a crash or lost lease had left unapplied', { cases: repaired });
  return repaired;
}

/**
 * Amend a signed report: an addendum or a correction is signed as version n+1 with `supersedes: n`
 * and a reason; version n stays exactly as signed. Any reader of the case's pool may amend (no lease:
 * the case has been read). The case keeps its status (states only move forward); the new version is
 * delivered to the clinic, which acknowledges it on its own (see acknowledgeReportVersion).
 */
export async function amendReport(deps: Deps, canonicalize: Canonicalize, p: Principal, caseId: string, body: AmendBody): Promise<SignedVersion> {
  // The new version, the case, the delivery job and the audit record are durable together before the answer.
  return deps.uow.run(async () => {
    requireRole(p, 'reader');
    const c = assertCanSee(p, await deps.cases.get(caseId));
    if (c.reportVersion < 1 || !['SIGNED', 'DELIVERED', 'ACKNOWLEDGED'].includes(c.status)) {
      throw new AppError('REPORT.NOT_SIGNED', 'conflict', 'Only a signed report can be amended; sign the first version from the reading lease.');
    }
    const previous = await deps.cases.getSignedReport(caseId);
    const prevVersion = Math.max(previous?.version ?? 0, c.reportVersion);
    const now = deps.clock.now();
    const version = prevVersion + 1;
    const content = await buildContent(deps, p, c, body, now, version, prevVersion, { kind: body.kind, reason: body.reason.trim() });
    const { report, jws, warnings } = await signVersion(deps, canonicalize, p, c, content, body.pin);
    await updateWithRetry(deps, caseId, (cur) => (cur.reportVersion < version ? { ...cur, reportVersion: version, updatedAt: now.toISOString() } : null));
    await deps.jobQueue.send('delivery', { type: 'deliver', caseId, version });
    await deps.audit.append({
      at: now.toISOString(),
      actor: p.userId,
      action: 'report.amend',
      caseId,
      detail: { version, supersedes: prevVersion, kind: body.kind },
    });
    // A draft kept for this amendment (a version signed without it: REPORT.EARLIER_VERSION_SIGNED) has
    // served its purpose once the amendment's text is the draft's (an amendment carries no template
    // fields of its own, so they are not compared).
    const kept = await deps.cases.getDraft(caseId, p.userId);
    const k = kept?.body as ReportBody | undefined;
    if (kept && k && k.findings === content.findings && k.impression === content.impression && (k.critical ?? false) === content.critical) {
      await discardServedDraft(deps, kept, 'amended');
    }
    deps.log.info('report amended', { caseId, version, supersedes: prevVersion, readerId: p.userId });
    return { version, report, jws, warnings };
  }, REPLAYABLE);
}

const isCritical = (r: SignedReportRecord | null) => (r ? (JSON.parse(r.canonical) as { critical?: boolean }).critical === true : false);

/**
 * Delivery job: SIGNED → DELIVERED and the clinic is told; for an amendment of a delivered report the
 * clinic is told of the new version. Idempotent on caseId + version.
 */
export async function deliverReport(deps: Deps, caseId: string, version: number): Promise<Case | null> {
  const now = deps.clock.now();
  const report = await deps.cases.getSignedReport(caseId, version);
  const critical = isCritical(report);
  const c = await updateWithRetry(deps, caseId, (cur) => {
    if (cur.status !== 'SIGNED' || cur.reportVersion !== version) return null;
    const delivered = transition(cur, 'DELIVERED', 'system:delivery', now);
    // The critical-result loop opens now (finding, time identified, reader, notified at); acknowledgement closes it.
    return critical && report ? { ...delivered, criticalResult: criticalRecord(report, now.toISOString()) } : delivered;
  });
  if (c) {
    await deps.notifier.notify({ to: { clinicId: c.clinicId }, kind: critical ? 'report.critical' : 'report.delivered', caseId, at: now.toISOString(), version });
    deps.log.info('report delivered', { caseId, version, critical });
    return c;
  }
  const cur = await deps.cases.get(caseId);
  if (!cur || !report || version < 2 || !['DELIVERED', 'ACKNOWLEDGED'].includes(cur.status)) return null;
  // An amendment: tell the clinic once per version (a retried job finds the notice already there).
  const kind = critical ? 'report.critical' : 'report.amended';
  const inbox = await deps.notifier.list({ clinicId: cur.clinicId }, 500);
  if (!inbox.some((n) => n.caseId === caseId && n.version === version && (n.kind === kind || n.kind === 'report.amended'))) {
    await deps.notifier.notify({ to: { clinicId: cur.clinicId }, kind, caseId, at: now.toISOString(), version });
  }
  deps.log.info('report amendment delivered', { caseId, version, critical });
  return cur;
}

export interface ReportHistoryEntry {
  version: number;
  signedAt: string;
  signerId: string;
  supersedes: number | null;
  critical: boolean;
  amendment: { kind: AmendmentKind; reason: string } | null;
  pdfSha256: string | null;
  /** When the owning clinic acknowledged this version, and who. */
  acknowledged: { at: string; by: string } | null;
}

/** Acknowledgements per version: the case-level one covers the version current when it was given. */
async function acknowledgements(deps: Deps, c: Case, records: SignedReportRecord[]): Promise<Map<number, { at: string; by: string }>> {
  const out = new Map<number, { at: string; by: string }>();
  if (c.acknowledgement) {
    const covered = records.filter((r) => r.signedAt <= c.acknowledgement!.at).map((r) => r.version);
    if (covered.length) out.set(Math.max(...covered), { at: c.acknowledgement.at, by: c.acknowledgement.by });
  }
  for (const e of await deps.audit.list({ caseId: c.caseId, limit: 1000 })) {
    const v = e.detail?.version;
    if (e.action === 'report.acknowledge-version' && typeof v === 'number' && !out.has(v)) out.set(v, { at: e.at, by: e.actor });
  }
  return out;
}

async function history(deps: Deps, c: Case): Promise<ReportHistoryEntry[]> {
  const records = await deps.cases.listSignedReports(c.caseId);
  const acks = await acknowledgements(deps, c, records);
  return records.map((x) => {
    const doc = JSON.parse(x.canonical) as Partial<SignedReportDocument>;
    return {
      version: x.version,
      signedAt: x.signedAt,
      signerId: x.signerId,
      supersedes: doc.supersedes ?? null,
      critical: doc.critical === true,
      amendment: doc.amendment ?? null,
      pdfSha256: doc.pdfSha256 ?? null,
      acknowledged: acks.get(x.version) ?? null,
    };
  });
}

/** The latest (or a given) signed version, for readers of the pool, the owning clinic and admins. Recorded in the audit log. */
export async function getReport(deps: Deps, p: Principal, caseId: string, version?: number) {
  const c = assertCanSee(p, await deps.cases.get(caseId));
  const r = await deps.cases.getSignedReport(caseId, version);
  if (!r) throw new AppError('REPORT.NOT_FOUND', 'not_found', 'This case has no signed report yet.');
  const hist = await history(deps, c);
  await deps.audit.append({ at: deps.clock.now().toISOString(), actor: p.userId, action: 'report.view', caseId, detail: { version: r.version } });
  const latest = hist.length ? hist[hist.length - 1]!.version : r.version;
  return {
    version: r.version,
    latestVersion: latest,
    report: JSON.parse(r.canonical) as Record<string, unknown>,
    jws: r.jws,
    pdf: r.pdfKey ? { href: `/api/cases/${caseId}/report?format=pdf&version=${r.version}` } : null,
    history: hist,
  };
}

/**
 * The PDF of the latest (or a given) version, checked against the pdfSha256 the report signs before it
 * leaves. Recorded in the audit log (report.download). The bytes go to the authenticated caller only:
 * there is no bearer-less link that could outlive the request.
 */
export async function getReportPdf(deps: Deps, p: Principal, caseId: string, version?: number) {
  assertCanSee(p, await deps.cases.get(caseId));
  const r = await deps.cases.getSignedReport(caseId, version);
  if (!r) throw new AppError('REPORT.NOT_FOUND', 'not_found', 'This case has no signed report yet.');
  const doc = JSON.parse(r.canonical) as { pdfSha256?: string };
  if (!r.pdfKey || !doc.pdfSha256) {
    throw new AppError('REPORT.PDF_NOT_AVAILABLE', 'not_found', 'This report version was signed before PDFs were produced; use the JSON report and its signature.');
  }
  const parts: Uint8Array[] = [];
  for await (const chunk of deps.blobs.stream(r.pdfKey)) parts.push(chunk);
  const bytes = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of parts) {
    bytes.set(x, at);
    at += x.length;
  }
  const sha256 = await sha256Hex(bytes);
  if (sha256 !== doc.pdfSha256) {
    deps.log.error('stored report PDF does not match its signed hash', { caseId, version: r.version });
    throw new AppError('REPORT.PDF_CORRUPT', 'internal', 'The stored PDF does not match the signed report.');
  }
  await deps.audit.append({ at: deps.clock.now().toISOString(), actor: p.userId, action: 'report.download', caseId, detail: { version: r.version, format: 'pdf' } });
  return { version: r.version, bytes, sha256, filename: `${caseId}-v${r.version}.pdf` };
}

/**
 * The owning clinic acknowledges one report version (amendments are acknowledged one by one; the
 * first delivered version is acknowledged by POST /acknowledge, which moves the case to ACKNOWLEDGED).
 * A critical version needs receivedBy and readBack. Idempotent: a second acknowledgement answers the first.
 */
export async function acknowledgeReportVersion(
  deps: Deps,
  p: Principal,
  caseId: string,
  version: number,
  body: { receivedBy?: string | undefined; readBack?: string | undefined },
) {
  // A repeat answers the first acknowledgement (an audit record perhaps not yet on disk): REPLAYABLE.
  return deps.uow.run(async () => {
    requireRole(p, 'technician');
    const c = assertCanSee(p, await deps.cases.get(caseId));
    const r = await deps.cases.getSignedReport(caseId, version);
    if (!r) throw new AppError('REPORT.NOT_FOUND', 'not_found', `This case has no signed report version ${version}.`);
    if (c.status === 'DELIVERED') {
      throw new AppError('ACK.CASE_FIRST', 'conflict', 'Acknowledge the delivered report with POST /api/cases/{caseId}/acknowledge first; it covers the latest version.');
    }
    if (c.status !== 'ACKNOWLEDGED') {
      throw new AppError('CASE.NOT_DELIVERED', 'conflict', `There is no delivered report to acknowledge yet (the case is ${c.status}).`);
    }
    const existing = (await history(deps, c)).find((h) => h.version === version)?.acknowledged;
    if (existing) return { version, acknowledged: existing };
    const critical = isCritical(r);
    if (critical && (!body.receivedBy || !body.readBack)) {
      throw new AppError(
        'ACK.READ_BACK_REQUIRED',
        'invalid',
        'This is a critical result: give receivedBy (who took the result) and readBack (the result as read back) to acknowledge it.',
      );
    }
    const at = deps.clock.now().toISOString();
    await deps.audit.append({
      at,
      actor: p.userId,
      action: 'report.acknowledge-version',
      caseId,
      detail: { version, critical, ...(body.receivedBy ? { receivedBy: body.receivedBy } : {}), ...(body.readBack ? { readBack: body.readBack } : {}) },
    });
    return { version, acknowledged: { at, by: p.userId } };
  }, REPLAYABLE);
}

/** The content a signed report's contentSignature covers (re-exported for verifiers of the API's answer). */
export { contentOf };

function criticalRecord(r: SignedReportRecord, notifiedAt: string): CriticalResult {
  const doc = JSON.parse(r.canonical) as { impression?: string; signedAt?: string };
  return { finding: doc.impression ?? '', identifiedAt: doc.signedAt ?? r.signedAt, readerId: r.signerId, reportVersion: r.version, notifiedAt, method: 'in-app' };
}

/** The caller's saved draft of a case they are reading (to resume after reopening the screen). */
export async function getOwnDraft(deps: Deps, p: Principal, caseId: string) {
  requireRole(p, 'reader');
  assertCanSee(p, await deps.cases.get(caseId));
  const d = await deps.cases.getDraft(caseId, p.userId);
  if (!d) throw new AppError('REPORT.NO_DRAFT', 'not_found', 'You have no saved draft for this case.');
  return { body: d.body, updatedAt: d.updatedAt };
}
