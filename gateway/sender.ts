/**
 * Sends sealed spool batches to TeleRead, one at a time, exactly once: the submission carries the
 * batch id as `clientReference`, so TeleRead answers the same submission however often the gateway
 * asks (after a crash, a lost response or a TeleRead restart) and only the files it has not received
 * are uploaded again. A batch leaves the spool only when TeleRead has taken its case out of
 * AWAITING_FILES (QUEUED, or REJECTED with a reason the clinic sees in TeleRead).
 */
import type { CreateSubmission } from '../shared/contracts/api.ts';
import type { StudyMetadata } from '../shared/contracts/study.ts';
import type { Logger } from '../shared/ports/logger.ts';
import type { StudyInspector } from '../shared/ports/study-inspector.ts';
import { fileSource } from './file-source.ts';
import { decide, type RuleFile } from './rules.ts';
import type { Spool, SpoolEntry } from './spool.ts';
import { TeleReadError, type TeleReadClient } from './teleread-client.ts';

export const HELD_NO_CONSENT = 'needs consent attestation in rules';
/** TeleRead rejected the batch's case as STUDY.DUPLICATE_INSTANCE: kept for an operator, not confirmed. */
export const HELD_DUPLICATE = 'TeleRead already holds instances of this study in another case (STUDY.DUPLICATE_INSTANCE)';

export interface SenderOptions {
  stableMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  confirmTimeoutMs: number;
  /** Studies sent at the same time. */
  concurrency: number;
}

/** Fault injection for tests: runs after TeleRead answered a submission, before the gateway records it. */
export interface SenderHooks {
  beforeRecordingSubmission?(entryId: string): void | Promise<void>;
}

export interface SenderDeps {
  spool: Spool;
  client: TeleReadClient;
  rules: RuleFile;
  inspector: StudyInspector;
  log: Logger;
  now: () => Date;
  random: () => number;
  hooks?: SenderHooks | undefined;
}

/** Exponential backoff with jitter (half fixed, half random), capped. */
export function retryDelayMs(attempt: number, o: Pick<SenderOptions, 'retryBaseMs' | 'retryMaxMs'>, random: () => number): number {
  const exp = Math.min(o.retryMaxMs, o.retryBaseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(exp / 2 + (exp / 2) * random());
}

const DICOM_SEX: Record<string, 'M' | 'F' | 'O'> = { M: 'M', F: 'F', O: 'O' };

/**
 * The submission's patient from the DICOM header. TeleRead needs an id and a name; a device that
 * wrote neither (emergency ECGs, anonymised exports) still gets its study read: the gateway sends a
 * placeholder that says so (derived from the opaque study key, not from PHI) and a note asking the
 * clinic to confirm the identity.
 */
export function patientFor(m: StudyMetadata, studyKey: string): { patient: CreateSubmission['patient']; missing: string[] } {
  const id = (m.patient.id ?? '').trim().slice(0, 64);
  const name = (m.patient.name ?? '').replace(/\s+/g, ' ').trim().slice(0, 200);
  const missing = [...(id ? [] : ['PatientID']), ...(name ? [] : ['PatientName'])];
  const sex = DICOM_SEX[(m.patient.sex ?? '').trim().toUpperCase()];
  const bd = /^(\d{4})(\d{2})(\d{2})$/.exec((m.patient.birthDate ?? '').trim());
  const birthDate = bd && !Number.isNaN(Date.parse(`${bd[1]}-${bd[2]}-${bd[3]}`)) ? `${bd[1]}-${bd[2]}-${bd[3]}` : undefined;
  return {
    patient: {
      id: id || `UNIDENTIFIED-${studyKey.slice(0, 12).toUpperCase()}`,
      name: name || 'UNIDENTIFIED (no PatientName in the DICOM header)',
      ...(sex ? { sex } : {}),
      ...(birthDate ? { birthDate } : {}),
    },
    missing,
  };
}

export class Sender {
  private busy: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly d: SenderDeps,
    private readonly o: SenderOptions,
  ) {}

  start(tickMs: number) {
    this.timer = setInterval(() => void this.tick(), tickMs);
  }

  /** One pass: seal stable batches, send every due one. Passes never overlap. */
  tick(): Promise<void> {
    if (this.busy) return this.busy;
    // A pass that fails (the spool's disk full, say) is logged and tried again at the next tick: an
    // unhandled rejection would end the process, and the receiver with it.
    this.busy = this.pass()
      .catch((e: unknown) => {
        this.d.log.error('send pass failed; retrying at the next tick', { error: (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.name });
      })
      .finally(() => (this.busy = null));
    return this.busy;
  }

  private async pass() {
    if (this.stopped) return;
    await this.d.spool.sealStable(this.o.stableMs);
    const due = this.d.spool
      .list()
      .filter((e) => e.state === 'sealed' && !e.held && !(e.nextAttemptAt && Date.parse(e.nextAttemptAt) > this.d.now().getTime()));
    // A few studies at a time: uploads of one overlap TeleRead's ingest of another (oldest first).
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < due.length && !this.stopped; i = next++) await this.send(due[i]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, due.length) }, worker));
  }

  private async send(e: SpoolEntry) {
    const { spool, client, log } = this.d;
    const rule = decide(this.d.rules, e);
    const ids = { entryId: e.entryId, studyKey: e.studyKey };
    if (!rule.consent) {
      await spool.update(e.entryId, { held: HELD_NO_CONSENT });
      log.warn('study held: the rule file gives no consent attestation for it', { ...ids, rule: rule.rule });
      return;
    }
    const attempt = e.attempts + 1;
    await spool.update(e.entryId, { attempts: attempt, lastAttemptAt: this.d.now().toISOString() });
    try {
      const first = e.instances[0];
      if (!first) throw new TeleReadError('the batch has no instances', null, null, false);
      const inspected = await this.d.inspector.inspect(fileSource(spool.filePath(e, first), first.size));
      if (!inspected.ok) throw new TeleReadError(`the first instance no longer reads (${inspected.code})`, null, inspected.code, false);
      const { patient, missing } = patientFor(inspected.metadata, e.studyKey);
      const notes = [
        ...(missing.length ? [`[DICOM gateway] ${missing.join(' and ')} missing in the DICOM header: confirm the patient's identity.`] : []),
        ...(rule.clinicalNote ? [rule.clinicalNote] : []),
      ];
      const answer = await client.createSubmission({
        patient,
        consent: rule.consent,
        priority: rule.priority,
        ...(notes.length ? { clinicalNote: notes.join('\n').slice(0, 4000) } : {}),
        files: e.instances.map((i, n) => ({ name: `instance-${n + 1}.dcm`, size: i.size, contentType: 'application/dicom' })),
        clientReference: e.generation ? `gw-${e.entryId}-${e.generation}` : `gw-${e.entryId}`,
      });
      await this.d.hooks?.beforeRecordingSubmission?.(e.entryId);
      if (e.submission?.caseId !== answer.caseId) {
        await spool.update(e.entryId, { submission: { submissionId: answer.submissionId, caseId: answer.caseId } });
      }
      for (const u of answer.uploads) {
        const inst = e.instances[u.index];
        if (!inst) throw new TeleReadError(`TeleRead asked for file ${u.index}, which this batch does not have`, null, null, false);
        await client.upload(u, spool.filePath(e, inst), inst.size);
      }
      const c = await this.confirmed(answer.caseId);
      if (c.status === 'REJECTED' && c.rejection?.code === 'SUBMISSION.INCOMPLETE') {
        // TeleRead gave up waiting for the files (the gateway was cut off too long): that case holds
        // nothing of this study, so the batch goes again as a new submission (a new reference).
        await spool.update(e.entryId, {
          generation: (e.generation ?? 0) + 1,
          submission: undefined,
          lastError: `TeleRead closed case ${answer.caseId} before its files arrived (SUBMISSION.INCOMPLETE); sending again as a new submission`,
          nextAttemptAt: undefined,
        });
        log.warn('submission closed by TeleRead before the files arrived; sending again', { ...ids, caseId: answer.caseId });
        return;
      }
      if (c.status === 'REJECTED' && c.rejection?.code === 'STUDY.DUPLICATE_INSTANCE') {
        // TeleRead holds some of these instances in another case, which may itself be rejected
        // (closed incomplete, say): this case will never be read, so the batch is not confirmed.
        // It stays in the spool, held, until an operator decides (gateway status shows why).
        const held = `${HELD_DUPLICATE} (case ${answer.caseId})`;
        await spool.update(e.entryId, { held, lastError: c.rejection.message });
        log.warn('study held: TeleRead already holds some of its instances in another case', { ...ids, caseId: answer.caseId });
        return;
      }
      await spool.markSent(e.entryId, {
        entryId: e.entryId,
        studyKey: e.studyKey,
        submissionId: answer.submissionId,
        caseId: answer.caseId,
        status: c.status,
        instances: e.instances.length,
        bytes: e.instances.reduce((n, i) => n + i.size, 0),
        firstReceivedAt: e.createdAt,
        sentAt: this.d.now().toISOString(),
      });
      const fields = { ...ids, caseId: answer.caseId, status: c.status, instances: e.instances.length, attempt };
      if (c.status === 'REJECTED') log.warn('study delivered, and TeleRead rejected it', { ...fields, code: c.rejection?.code });
      else log.info('study delivered', { ...fields, pool: c.pool });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const retryable = !(err instanceof TeleReadError) || err.retryable;
      const delay = retryDelayMs(attempt, this.o, this.d.random);
      await spool.update(e.entryId, {
        lastError: message,
        nextAttemptAt: new Date(this.d.now().getTime() + delay).toISOString(),
        ...(retryable ? {} : { held: `TeleRead refused it: ${message}` }),
      });
      log.warn(retryable ? 'study send failed; will retry' : 'study held: TeleRead refused it', { ...ids, attempt, error: message, ...(retryable ? { retryInMs: delay } : {}) });
    }
  }

  /** Waits until TeleRead has an outcome for every file (the case leaves AWAITING_FILES). */
  private async confirmed(caseId: string) {
    const until = Date.now() + this.o.confirmTimeoutMs;
    let wait = 50;
    for (;;) {
      const c = await this.d.client.getCase(caseId);
      if (c.status !== 'AWAITING_FILES') return c;
      if (Date.now() > until || this.stopped) throw new TeleReadError('TeleRead has not confirmed the case yet (it still awaits files)', null, null, true);
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(1000, wait * 2);
    }
  }

  /** Stops sending; waits for the pass in progress. */
  async stop() {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.busy;
  }
}
