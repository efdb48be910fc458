import type { Case, Rejection } from '../domain/case.ts';
import { transition } from '../domain/case.ts';
import { isAppError } from '../domain/errors.ts';
import { higherPriority } from '../domain/priority.ts';
import { readQueueName, routeModality } from '../domain/routing.ts';
import type { FileOutcome } from '../ports/case-repository.ts';
import type { InspectOutcome } from '../ports/study-inspector.ts';
import { REPLAYABLE } from '../ports/unit-of-work.ts';
import type { Deps } from './deps.ts';
import { routingOf } from './deps.ts';
import { caseIdForSubmission, parseUploadKey, quarantineKey, uploadKey } from './keys.ts';
import { updateWithRetry } from './update.ts';

export type IngestResult =
  | { result: 'ignored'; reason: string }
  | { result: 'accepted' | 'rejected' | 'duplicate'; caseId: string; caseStatus: Case['status'] };

const SYSTEM = 'system:ingest';

/**
 * Ingest one stored upload: inspect it (header-only for images), record the instance (idempotent on
 * SOPInstanceUID) or the refusal (original kept byte-identical under quarantine/), and once every
 * declared file has an outcome, queue or reject the case. Safe to run any number of times, concurrently.
 */
export function ingestObject(deps: Deps, key: string, hint: StoredUploadHint = {}): Promise<IngestResult> {
  // One unit of work: its writes (instance, projection, outcome, QUEUED, read message) share one
  // durability wait, paid before the job is acknowledged. A crash in between keeps a prefix of them,
  // which the retried job or the reconcile completes.
  // REPLAYABLE: a duplicate run answers from the first run's outcome (STOW reports it to its sender).
  return deps.uow.run(() => ingestInOneUnit(deps, key, hint), REPLAYABLE);
}

/**
 * What the notice of a stored upload may already tell about it (the S3 event, or the local upload
 * route that has just written it), so that ingest need not ask the store again. All optional: a
 * repair job knows only the key.
 */
export interface StoredUploadHint {
  /** When the object was stored (S3 event time); the SLA's start. */
  storedAt?: string;
  /** SHA-256 (hex) computed while storing. */
  sha256?: string;
  /** Its size in bytes (with storedAt, spares a HEAD). */
  size?: number;
  /** Its bytes, while the storer still holds them (small uploads in the local runtime). */
  bytes?: Uint8Array;
  /** The inspection of exactly these bytes, when the caller has run it already (STOW reads every part's header to group the parts by study). */
  inspection?: InspectOutcome;
}

async function ingestInOneUnit(deps: Deps, key: string, hint: StoredUploadHint): Promise<IngestResult> {
  const parsed = parseUploadKey(key);
  if (!parsed) return { result: 'ignored', reason: 'not an upload key' };
  const caseId = caseIdForSubmission(parsed.submissionId);
  const c = await deps.cases.get(caseId);
  if (!c || c.clinicId !== parsed.clinicId) return { result: 'ignored', reason: 'no such submission' };
  if (parsed.index >= c.declaredFiles) return { result: 'ignored', reason: 'file index not declared' };

  const existing = (await deps.cases.listFileOutcomes(caseId)).find((o) => o.fileIndex === parsed.index);
  let outcome: FileOutcome['outcome'] | 'duplicate' = existing ? 'duplicate' : 'accepted';
  if (!existing) outcome = await inspectAndRecord(deps, c, key, parsed.index, hint);
  const after = await completeIfAllIn(deps, caseId);
  return { result: outcome, caseId, caseStatus: after.status };
}

async function inspectAndRecord(deps: Deps, c: Case, key: string, fileIndex: number, hint: StoredUploadHint): Promise<'accepted' | 'rejected'> {
  const known = hint.size !== undefined && hint.storedAt !== undefined ? { size: hint.size, lastModified: hint.storedAt } : null;
  const head = known ?? (await deps.blobs.head(key));
  if (!head) throw new Error('upload object vanished before ingest');
  // A repair job carries no event time: the object's own store time is when the upload completed.
  const storedAt = hint.storedAt ?? head.lastModified;
  const started = Date.now();
  const bytes = hint.bytes?.length === head.size ? hint.bytes : null;
  const res =
    hint.inspection ??
    (await deps.inspector.inspect({
      size: head.size,
      readRange: bytes ? async (o, l) => bytes.subarray(o, Math.min(bytes.length, o + l)) : (o, l) => deps.blobs.readRange(key, o, l),
    }));
  const at = deps.clock.now().toISOString();
  let refusal: { code: string; message: string } | null = res.ok ? null : { code: res.code, message: res.message };
  let pool: string | null = null;
  if (res.ok) {
    try {
      pool = routeModality(res.metadata.Modality, routingOf(deps));
    } catch (e) {
      if (!isAppError(e)) throw e;
      refusal = { code: e.code, message: e.message };
    }
  }
  if (refusal || !res.ok) {
    const r = refusal!;
    const qKey = quarantineKey(c.clinicId, c.submissionId, fileIndex);
    await deps.blobs.copy(key, qKey);
    await deps.cases.putFileOutcome({ caseId: c.caseId, fileIndex, key, outcome: 'rejected', code: r.code, message: r.message, quarantineKey: qKey, storedAt, at });
    deps.log.info('file rejected', { caseId: c.caseId, fileIndex, code: r.code, bytes: head.size, ms: Date.now() - started });
    return 'rejected';
  }
  const m = res.metadata;
  const sha256 = hint.sha256 ?? (await deps.blobs.sha256(key));
  const record = {
    sopInstanceUID: m.instance.SOPInstanceUID,
    caseId: c.caseId,
    fileIndex,
    key,
    size: head.size,
    sha256,
    studyInstanceUID: m.study.StudyInstanceUID,
    seriesInstanceUID: m.series.SeriesInstanceUID,
    sopClassUID: m.instance.SOPClassUID,
    modality: m.Modality,
    receivedAt: at,
  };
  const { created, instance } = await deps.cases.putInstance(record);
  // Held by a case that was REJECTED (closed incomplete, mixed pools, another file refused): that
  // case is never read, so this submission takes the image over instead of being refused for it.
  const heldElsewhere = !created && instance.caseId !== c.caseId;
  const takenOver =
    heldElsewhere && (await deps.cases.get(instance.caseId))?.status === 'REJECTED' && (await deps.cases.takeOverInstance(record, instance));
  if (takenOver) deps.log.info('instance taken over from a rejected case', { caseId: c.caseId, fromCaseId: instance.caseId, fileIndex });
  if (heldElsewhere && !takenOver) {
    const r = {
      code: 'STUDY.DUPLICATE_INSTANCE',
      message: 'This image (same SOPInstanceUID) was already sent in an earlier submission. Check that you picked the right file.',
    };
    const qKey = quarantineKey(c.clinicId, c.submissionId, fileIndex);
    await deps.blobs.copy(key, qKey);
    await deps.cases.putFileOutcome({ caseId: c.caseId, fileIndex, key, outcome: 'rejected', ...r, quarantineKey: qKey, storedAt, at });
    return 'rejected';
  }
  // The first accepted file's projection and ECG summary describe the case. Written before the
  // outcome, so a crash in between re-runs this on retry instead of queueing a case without a pool.
  await updateWithRetry(deps, c.caseId, (cur) =>
    cur.study ? null : { ...cur, study: m as unknown as Record<string, unknown>, modality: m.Modality, pool, ecg: res.ecg },
  );
  await deps.cases.putFileOutcome({ caseId: c.caseId, fileIndex, key, outcome: 'accepted', sopInstanceUID: m.instance.SOPInstanceUID, storedAt, at });
  deps.log.info('file accepted', { caseId: c.caseId, fileIndex, pool, bytes: head.size, ms: Date.now() - started });
  return 'accepted';
}

/** When every declared file has an outcome, move AWAITING_FILES → QUEUED (or REJECTED) and enqueue the read. */
async function completeIfAllIn(deps: Deps, caseId: string): Promise<Case> {
  const outcomes = await deps.cases.listFileOutcomes(caseId);
  let c = (await deps.cases.get(caseId))!;
  if (c.status !== 'AWAITING_FILES' || outcomes.length < c.declaredFiles) {
    return c.status === 'QUEUED' ? ensureReadEnqueued(deps, c) : c;
  }
  const rejection = rejectionFor(outcomes, await poolsOf(deps, caseId));
  const now = deps.clock.now();
  const uploadCompletedAt = outcomes.map((o) => o.storedAt ?? o.at).sort().at(-1) ?? null;
  const won = await updateWithRetry(deps, caseId, (cur) => {
    if (cur.status !== 'AWAITING_FILES') return null;
    if (rejection) return { ...transition(cur, 'REJECTED', SYSTEM, now, rejection.code), rejection, uploadCompletedAt };
    const flagged = (cur.ecg?.flags.length ?? 0) > 0;
    const priority = flagged ? higherPriority(cur.priority, 'stat') : cur.priority;
    return {
      ...transition({ ...cur, priority }, 'QUEUED', SYSTEM, now, flagged ? 'ecg-auto-flag' : undefined),
      readEnqueuedAt: null,
      uploadCompletedAt,
      slaPriority: priority,
    };
  });
  if (!won) return ensureReadEnqueued(deps, (await deps.cases.get(caseId))!);
  c = won;
  if (c.status === 'REJECTED') {
    await deps.notifier.notify({ to: { clinicId: c.clinicId }, kind: 'case.rejected', caseId, at: now.toISOString() });
    deps.log.info('case rejected', { caseId, code: c.rejection?.code });
    return c;
  }
  return sendRead(deps, c);
}

async function poolsOf(deps: Deps, caseId: string): Promise<Set<string>> {
  const routing = routingOf(deps);
  const pools = new Set<string>();
  for (const i of await deps.cases.listInstances(caseId)) pools.add(routing[i.modality.toUpperCase()] ?? '?');
  return pools;
}

function rejectionFor(outcomes: FileOutcome[], pools: Set<string>): Rejection | null {
  const bad = [...outcomes].sort((a, b) => a.fileIndex - b.fileIndex).find((o) => o.outcome === 'rejected');
  if (bad) {
    return { code: bad.code ?? 'FILE.REJECTED', message: `File ${bad.fileIndex + 1}: ${bad.message ?? 'refused'}`, fileIndex: bad.fileIndex };
  }
  if (pools.size > 1) {
    return {
      code: 'STUDY.MIXED_POOLS',
      message: `The files of this submission go to different reading pools (${[...pools].join(', ')}). Submit each kind of study separately.`,
    };
  }
  return null;
}

/** Put the read message on `<pool>.<priority>` and record that it is there. */
export async function sendRead(deps: Deps, c: Case): Promise<Case> {
  await deps.readQueue.send(readQueueName(c.pool!, c.priority), { caseId: c.caseId });
  const at = deps.clock.now().toISOString();
  const done = await updateWithRetry(deps, c.caseId, (cur) =>
    cur.status === 'QUEUED' && !cur.readEnqueuedAt ? { ...cur, readEnqueuedAt: at } : null,
  );
  deps.log.info('case queued', { caseId: c.caseId, pool: c.pool, priority: c.priority });
  return done ?? (await deps.cases.get(c.caseId))!;
}

/**
 * Repair for a crash between "case QUEUED" and "message sent": if the message is still unconfirmed
 * after the grace period, send it (a duplicate is harmless: claims are conditional on the case).
 */
export async function ensureReadEnqueued(deps: Deps, c: Case, graceSeconds = deps.settings.enqueueGraceSeconds): Promise<Case> {
  if (c.status !== 'QUEUED' || c.readEnqueuedAt) return c;
  const queuedAt = Date.parse(c.events.at(-1)?.at ?? c.updatedAt);
  if (deps.clock.now().getTime() - queuedAt < graceSeconds * 1000) return c;
  return sendRead(deps, c);
}

/** Send the read message of every QUEUED case that lacks a confirmed one (at start: grace 0, nothing is in flight). */
export async function repairUnconfirmedReads(deps: Deps, graceSeconds: number): Promise<number> {
  let repaired = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.cases.list({ status: 'QUEUED', limit: 200, cursor });
    for (const c of page.items) {
      if (c.readEnqueuedAt) continue;
      if ((await ensureReadEnqueued(deps, c, graceSeconds)).readEnqueuedAt) repaired++;
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return repaired;
}

/**
 * Repair for a stored upload whose ingest never started (one machine: a crash between "object stored"
 * and "ingest job sent"; AWS: an S3 event notification that never reached the queue): a stored upload
 * of a case still AWAITING_FILES without an outcome gets an ingest job, once (recorded after it is
 * sent: `markUploadRepaired`), so an upload whose ingest keeps failing is not sent again on every sweep
 * (on SQS standard queues, which do not deduplicate, that would pile up jobs); its messages end in the
 * dead-letter queue, which alarms. `resendRecorded` (the one machine's start) gives such an upload one
 * more job per start. Duplicates are harmless (ingest is idempotent). `minAgeSeconds` skips cases and
 * objects young enough to have their notice on the way.
 */
export async function reconcileUploads(deps: Deps, minAgeSeconds: number, opts: { resendRecorded?: boolean } = {}): Promise<number> {
  const now = deps.clock.now().getTime();
  let sent = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.cases.list({ status: 'AWAITING_FILES', limit: 200, cursor });
    for (const c of page.items) {
      if (now - Date.parse(c.updatedAt) < minAgeSeconds * 1000) continue;
      const done = new Set((await deps.cases.listFileOutcomes(c.caseId)).map((o) => o.fileIndex));
      // Every file has its outcome but the case never moved on (a crash just before): finish it now.
      if (done.size >= c.declaredFiles) {
        await completeIfAllIn(deps, c.caseId);
        continue;
      }
      for (let i = 0; i < c.declaredFiles; i++) {
        if (done.has(i)) continue;
        if (!opts.resendRecorded && (await deps.cases.isUploadRepaired(c.caseId, i))) continue;
        const key = uploadKey(c.clinicId, c.submissionId, i);
        const stored = await deps.blobs.head(key);
        if (!stored) continue;
        // An object stored moments ago has its notice (S3 event, local dispatch) on the way. Its age is
        // unknown when the store does not say, or says a time after this clock's now (a simulated clock).
        const storedAt = stored.lastModified === undefined ? NaN : Date.parse(stored.lastModified);
        const age = Number.isFinite(storedAt) && storedAt <= now ? now - storedAt : Infinity;
        if (age < minAgeSeconds * 1000) continue;
        // Deduplicated on the key where the queue can (the local one).
        await deps.jobQueue.send('ingest', { type: 'ingest', key }, { deduplicationId: key });
        await deps.cases.markUploadRepaired(c.caseId, i, new Date(now).toISOString());
        sent++;
      }
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  if (sent) deps.log.warn('sent ingest jobs for stored uploads whose ingest never started', { jobs: sent });
  return sent;
}

/**
 * Close submissions whose files never all arrived (the technician gave up, or the answer to the
 * submission was lost): REJECTED with SUBMISSION.INCOMPLETE after `incompleteAfterHours`, so no case
 * waits forever unseen. Files that did arrive stay stored; nothing is deleted.
 */
export async function expireIncompleteSubmissions(deps: Deps): Promise<number> {
  const now = deps.clock.now();
  const limit = deps.settings.incompleteAfterHours * 3600_000;
  let closed = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.cases.list({ status: 'AWAITING_FILES', limit: 200, cursor });
    for (const c of page.items) {
      if (now.getTime() - Date.parse(c.createdAt) < limit) continue;
      const got = (await deps.cases.listFileOutcomes(c.caseId)).length;
      const rejection = {
        code: 'SUBMISSION.INCOMPLETE',
        message: `Only ${got} of ${c.declaredFiles} files arrived within ${deps.settings.incompleteAfterHours} hours. Create a new submission and upload all files again.`,
      };
      const done = await updateWithRetry(deps, c.caseId, (cur) =>
        cur.status === 'AWAITING_FILES' ? { ...transition(cur, 'REJECTED', SYSTEM, now, rejection.code), rejection } : null,
      );
      if (done) {
        closed++;
        await deps.notifier.notify({ to: { clinicId: c.clinicId }, kind: 'case.rejected', caseId: c.caseId, at: now.toISOString() });
      }
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return closed;
}
