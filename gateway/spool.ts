/**
 * The gateway's spool on disk: every received instance is kept here, grouped per study, until
 * TeleRead has confirmed its case. Layout (names are opaque: no PHI in any path):
 *
 *   SPOOL/gateway.lock                 pid of the gateway that owns the spool
 *   SPOOL/incoming/*.part              instances being received (removed at start: never acknowledged)
 *   SPOOL/studies/<entryId>/entry.json one study batch: instances, state, send attempts
 *   SPOOL/studies/<entryId>/<h>.dcm    Part 10 bytes as received (h = hash of SOPInstanceUID)
 *   SPOOL/quarantine/<id>/instance.dcm refused instances, kept (never deleted by the gateway)
 *   SPOOL/quarantine/<id>/reason.json  why (code, message), when, from which calling AE
 *   SPOOL/sent/<entryId>.json          journal of delivered batches (ids and counts only)
 *   SPOOL/orphans/<entryId>/start-<time>/<h>.dcm  files found in a batch folder but not in its manifest (set aside at start)
 *   SPOOL/set-aside/<entryId>/         batches an operator took out of sending (`gateway set-aside`), with set-aside.json
 *
 * At start, a batch journalled as sent whose folder removal was cut short is removed; an empty batch
 * folder goes; instance files a manifest does not list (never acknowledged, unless the disk lost a
 * write) are set aside under orphans/; a batch folder with instances but no readable manifest stays in
 * place. Both are listed by `gateway status`, never sent or deleted by the gateway.
 *
 * A batch is `receiving` until no instance came for the stable time, then `sealed` (immutable: its
 * file list is what the submission declares); later instances of the same study open a new batch.
 * Every JSON file is written atomically (temp → fsync → rename → fsync dir).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { moveDurably, syncDir, writeFileAtomic } from './fs-atomic.ts';

const SpoolInstanceSchema = z.object({
  file: z.string().regex(/^[0-9a-f]{24}\.dcm$/),
  size: z.number().int().nonnegative(),
  SOPClassUID: z.string(),
  TransferSyntaxUID: z.string(),
  Modality: z.string(),
  receivedAt: z.string(),
});
export type SpoolInstance = z.infer<typeof SpoolInstanceSchema>;

const SpoolEntrySchema = z.object({
  v: z.literal(1),
  entryId: z.string().regex(/^[a-z0-9-]{8,64}$/),
  /** Hash of the StudyInstanceUID: groups instances and names the study in logs without the UID. */
  studyKey: z.string(),
  callingAeTitle: z.string(),
  Modality: z.string(),
  BodyPartExamined: z.string().optional(),
  createdAt: z.string(),
  lastReceivedAt: z.string(),
  state: z.enum(['receiving', 'sealed']),
  instances: z.array(SpoolInstanceSchema),
  submission: z.object({ submissionId: z.string(), caseId: z.string() }).optional(),
  /** Bumped when TeleRead closed the submission before its files arrived: the next one is a new submission. */
  generation: z.number().int().nonnegative().optional(),
  attempts: z.number().int().nonnegative(),
  lastAttemptAt: z.string().optional(),
  lastError: z.string().optional(),
  nextAttemptAt: z.string().optional(),
  /** Why the batch is not being sent (an operator must act); cleared at each start. */
  held: z.string().optional(),
});
export type SpoolEntry = z.infer<typeof SpoolEntrySchema>;

export const QuarantineReasonSchema = z.object({
  code: z.string(),
  message: z.string(),
  at: z.string(),
  callingAeTitle: z.string(),
  SOPClassUID: z.string(),
  TransferSyntaxUID: z.string(),
  size: z.number(),
  /** The DIMSE status answered to the sender. */
  status: z.number(),
});
export type QuarantineReason = z.infer<typeof QuarantineReasonSchema>;

export const SentRecordSchema = z.object({
  entryId: z.string(),
  studyKey: z.string(),
  submissionId: z.string(),
  caseId: z.string(),
  status: z.string(),
  instances: z.number(),
  bytes: z.number(),
  firstReceivedAt: z.string(),
  sentAt: z.string(),
});
export type SentRecord = z.infer<typeof SentRecordSchema>;

export interface ReceivedInstance {
  StudyInstanceUID: string;
  SOPInstanceUID: string;
  SOPClassUID: string;
  TransferSyntaxUID: string;
  Modality: string;
  BodyPartExamined?: string | undefined;
  callingAeTitle: string;
  size: number;
}

const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');
export const studyKeyOf = (studyInstanceUID: string) => sha256hex(`teleread-gateway:study:${studyInstanceUID}`).slice(0, 16);
const fileNameOf = (sopInstanceUID: string) => `${sha256hex(`teleread-gateway:instance:${sopInstanceUID}`).slice(0, 24)}.dcm`;
const newId = () => `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`;

const held = new Set<string>();

/** A spool operation asked of something the spool does not hold (the CLI prints it, exit 2). */
export class SpoolUsageError extends Error {}

export class SpoolLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(`The spool ${dir} is in use by another gateway (pid ${pid}). Stop it first, or give this one another --spool.`);
    this.name = 'SpoolLockedError';
  }
}

/** The spool of one running gateway (it holds the lock). All mutations run one at a time. */
export class Spool {
  private entries = new Map<string, SpoolEntry>();
  /** studyKey → the batch still receiving for that study. */
  private open = new Map<string, string>();
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly now: () => Date,
  ) {}

  static async open(dir: string, now: () => Date = () => new Date()): Promise<Spool> {
    for (const d of ['incoming', 'studies', 'quarantine', 'sent', 'orphans']) await mkdir(join(dir, d), { recursive: true });
    await takeLock(dir);
    const s = new Spool(dir, now);
    // A .part was never acknowledged to the sender (no C-STORE success): the device still has it.
    for (const f of await readdir(join(dir, 'incoming'))) await rm(join(dir, 'incoming', f), { force: true });
    const journalled = new Set(sentJournal(await readdir(join(dir, 'sent'))).map(sentId));
    const startStamp = `start-${s.now().toISOString().replace(/[:.]/g, '-')}`;
    for (const id of await readdir(join(dir, 'studies'))) {
      const entryDir = join(dir, 'studies', id);
      // Sent (journalled) but its folder's removal was cut short: finish it, never send it again.
      if (journalled.has(id)) {
        // (A folder that cannot be removed now is skipped: it is not loaded, so not sent.)
        await rm(entryDir, { recursive: true, force: true }).then(() => syncDir(join(dir, 'studies')), () => undefined);
        continue;
      }
      let files: string[];
      try {
        files = await readdir(entryDir);
      } catch {
        continue; // unreadable now: left as it is
      }
      const e = await readEntry(entryDir);
      if (!e) {
        // A batch folder whose manifest was never written (a crash before its first instance was
        // acknowledged) goes when it holds nothing but temp files. One with instances but no readable
        // manifest is kept for a person to look at: `gateway status` lists it; nothing is deleted.
        if (files.every((f) => f.endsWith('.tmp'))) await rm(entryDir, { recursive: true, force: true });
        continue;
      }
      // Files of a crash between "file in place" and "manifest written" are not in the manifest: their
      // C-STORE was never answered with success (unless the disk lost a write it claimed to have made),
      // so the device sends them again. Set aside under orphans/, listed by `gateway status`, not deleted;
      // stale temp files of the manifest go.
      // Each start's under a folder of its own, so an orphan set aside before is never replaced. A file
      // that cannot be moved now stays where it is (it is not in the manifest, so it is not sent).
      // A set-aside note in a batch an operator moved back under studies/ goes: the batch is back.
      const listed = new Set(e.instances.map((i) => i.file));
      const orphanDir = join(dir, 'orphans', id, startStamp);
      for (const f of files) {
        if (f === 'entry.json' || listed.has(f)) continue;
        if (f.endsWith('.tmp') || f === 'set-aside.json') await rm(join(entryDir, f), { force: true });
        else await moveDurably(join(entryDir, f), join(orphanDir, f)).then(() => syncDir(join(dir, 'orphans', id)).then(() => syncDir(join(dir, 'orphans'))), () => undefined);
      }
      e.held = undefined;
      s.entries.set(e.entryId, e);
      if (e.state === 'receiving') s.open.set(e.studyKey, e.entryId);
    }
    return s;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** A fresh temp path for an instance being received. */
  incomingPath(): string {
    return join(this.dir, 'incoming', `${newId()}.part`);
  }

  entryDir(entryId: string): string {
    return join(this.dir, 'studies', entryId);
  }

  filePath(e: SpoolEntry, i: SpoolInstance): string {
    return join(this.entryDir(e.entryId), i.file);
  }

  /** Snapshot of every batch (copies). */
  list(): SpoolEntry[] {
    return [...this.entries.values()].map((e) => structuredClone(e));
  }

  /**
   * Moves a received, fsynced, validated instance into its study's receiving batch (opening one if
   * needed). Resolves once the batch manifest lists it durably: only then may the SCP answer success.
   */
  addInstance(tempPath: string, r: ReceivedInstance): Promise<{ entryId: string; studyKey: string; instances: number }> {
    return this.serial(async () => {
      const studyKey = studyKeyOf(r.StudyInstanceUID);
      const at = this.now().toISOString();
      let e = this.entries.get(this.open.get(studyKey) ?? '');
      if (!e || e.state !== 'receiving') {
        e = {
          v: 1,
          entryId: newId(),
          studyKey,
          callingAeTitle: r.callingAeTitle,
          Modality: r.Modality,
          ...(r.BodyPartExamined ? { BodyPartExamined: r.BodyPartExamined } : {}),
          createdAt: at,
          lastReceivedAt: at,
          state: 'receiving',
          instances: [],
          attempts: 0,
        };
        await mkdir(this.entryDir(e.entryId), { recursive: true });
        await syncDir(join(this.dir, 'studies'));
      }
      const file = fileNameOf(r.SOPInstanceUID);
      await moveDurably(tempPath, join(this.entryDir(e.entryId), file));
      const inst: SpoolInstance = { file, size: r.size, SOPClassUID: r.SOPClassUID, TransferSyntaxUID: r.TransferSyntaxUID, Modality: r.Modality, receivedAt: at };
      const next: SpoolEntry = { ...e, lastReceivedAt: at, instances: [...e.instances.filter((i) => i.file !== file), inst] };
      await this.persist(next);
      this.open.set(studyKey, next.entryId);
      return { entryId: next.entryId, studyKey, instances: next.instances.length };
    });
  }

  /** Keeps a refused instance with its reason; returns the quarantine id. */
  quarantine(tempPath: string, reason: QuarantineReason): Promise<string> {
    return this.serial(async () => {
      const id = newId();
      const dir = join(this.dir, 'quarantine', id);
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, 'reason.json'), JSON.stringify(reason, null, 2));
      await moveDurably(tempPath, join(dir, 'instance.dcm'));
      return id;
    });
  }

  /** Seals every receiving batch with no new instance for `stableMs`; returns the sealed ones. */
  sealStable(stableMs: number): Promise<SpoolEntry[]> {
    return this.serial(async () => {
      const now = this.now().getTime();
      const sealed: SpoolEntry[] = [];
      for (const e of this.entries.values()) {
        if (e.state !== 'receiving' || now - Date.parse(e.lastReceivedAt) < stableMs) continue;
        const next: SpoolEntry = { ...e, state: 'sealed' };
        await this.persist(next);
        if (this.open.get(e.studyKey) === e.entryId) this.open.delete(e.studyKey);
        sealed.push(structuredClone(next));
      }
      return sealed;
    });
  }

  /** Records send progress (submission ids, attempts, errors) on a batch. */
  update(entryId: string, patch: Partial<Pick<SpoolEntry, 'submission' | 'generation' | 'attempts' | 'lastAttemptAt' | 'lastError' | 'nextAttemptAt' | 'held'>>): Promise<SpoolEntry> {
    return this.serial(async () => {
      const e = this.entries.get(entryId);
      if (!e) throw new Error(`no spool entry ${entryId}`);
      const next = { ...e, ...patch };
      for (const k of Object.keys(patch) as (keyof typeof patch)[]) if (patch[k] === undefined) delete next[k];
      await this.persist(next);
      return structuredClone(next);
    });
  }

  /** TeleRead confirmed the case: journal it (ids and counts only), then remove the batch. */
  markSent(entryId: string, record: SentRecord): Promise<void> {
    return this.serial(async () => {
      await writeFileAtomic(join(this.dir, 'sent', `${entryId}.json`), JSON.stringify(record, null, 2));
      await rm(this.entryDir(entryId), { recursive: true, force: true });
      await syncDir(join(this.dir, 'studies'));
      this.entries.delete(entryId);
    });
  }

  /**
   * An operator takes a batch out of sending (a study TeleRead holds already, a held batch they have
   * dealt with): the folder moves whole to set-aside/<entryId>/ with their reason, nothing is deleted,
   * and `gateway status` lists it. To send it again, move the folder back under studies/ and restart.
   */
  setAside(entryId: string, reason: string): Promise<SpoolEntry> {
    return this.serial(async () => {
      const e = this.entries.get(entryId);
      if (!e) throw new SpoolUsageError(`No pending batch ${entryId} in ${this.dir} (gateway status lists them).`);
      const to = join(this.dir, 'set-aside', entryId);
      await mkdir(join(this.dir, 'set-aside'), { recursive: true });
      await rename(this.entryDir(entryId), to);
      await syncDir(join(this.dir, 'set-aside'));
      await syncDir(join(this.dir, 'studies'));
      await writeFileAtomic(join(to, 'set-aside.json'), JSON.stringify({ at: this.now().toISOString(), reason }, null, 2));
      this.entries.delete(entryId);
      if (this.open.get(e.studyKey) === entryId) this.open.delete(e.studyKey);
      return structuredClone(e);
    });
  }

  private async persist(e: SpoolEntry) {
    await writeFileAtomic(join(this.entryDir(e.entryId), 'entry.json'), JSON.stringify(e, null, 2));
    this.entries.set(e.entryId, e);
  }

  /** Waits for pending mutations and releases the lock. */
  async close(): Promise<void> {
    await this.chain;
    await releaseLock(this.dir);
  }
}

async function readEntry(dir: string): Promise<SpoolEntry | null> {
  try {
    return SpoolEntrySchema.parse(JSON.parse(await readFile(join(dir, 'entry.json'), 'utf8')));
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function takeLock(dir: string) {
  const path = join(dir, 'gateway.lock');
  for (let tries = 0; tries < 3; tries++) {
    try {
      const h = await open(path, 'wx', 0o600);
      await h.writeFile(String(process.pid));
      await h.sync();
      await h.close();
      held.add(path);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    // Our own pid without our hold is a predecessor in this process that never closed (tests).
    const stale = !Number.isSafeInteger(pid) || pid <= 0 || (pid === process.pid ? !held.has(path) : !alive(pid));
    if (!stale) throw new SpoolLockedError(dir, pid);
    await unlink(path).catch(() => undefined);
  }
  throw new Error(`Cannot take the spool lock ${path}.`);
}

async function releaseLock(dir: string) {
  const path = join(dir, 'gateway.lock');
  held.delete(path);
  await unlink(path).catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------
// Read-only view for `teleread gateway status` (works while a gateway runs: it only reads).

export interface SpoolStatus {
  pending: (SpoolEntry & { bytes: number })[];
  /** Batch folders holding instances but no readable manifest (not sent; kept for a person to look at). */
  unreadable: { id: string; files: number }[];
  /** Instance files found in a batch folder but not in its manifest, set aside at start (orphans/<batch>/). */
  orphans: { id: string; files: number }[];
  /** Batches an operator took out of sending (`gateway set-aside`). */
  setAside: { id: string; at: string; reason: string; instances: number }[];
  quarantined: (QuarantineReason & { id: string })[];
  sent: { count: number; rejected: number; last?: SentRecord | undefined };
  lockedBy: number | null;
}

/** The journal files among the names in sent/ (one `<entryId>.json` per delivered batch). */
const sentJournal = (names: string[]) => names.filter((f) => f.endsWith('.json'));
const sentId = (file: string) => file.slice(0, -'.json'.length);

/** Reads a spool directory without taking its lock. */
export async function readSpoolStatus(dir: string): Promise<SpoolStatus> {
  if (!existsSync(join(dir, 'studies'))) throw new Error(`${dir} is not a gateway spool (no studies/ folder).`);
  // A batch is journalled in sent/ before its folder is removed: between the two it is sent, not pending.
  const sentFiles = sentJournal(await readdir(join(dir, 'sent')).catch(() => [] as string[]));
  const sentIds = new Set(sentFiles.map(sentId));
  const pending: SpoolStatus['pending'] = [];
  const unreadable: SpoolStatus['unreadable'] = [];
  for (const id of await readdir(join(dir, 'studies')).catch(() => [] as string[])) {
    if (sentIds.has(id)) continue;
    const e = await readEntry(join(dir, 'studies', id));
    if (e) pending.push({ ...e, bytes: e.instances.reduce((n, i) => n + i.size, 0) });
    else {
      const files = (await readdir(join(dir, 'studies', id)).catch(() => [] as string[])).filter((f) => !f.endsWith('.tmp') && f !== 'entry.json');
      if (files.length) unreadable.push({ id, files: files.length });
    }
  }
  const setAside: SpoolStatus['setAside'] = [];
  for (const id of await readdir(join(dir, 'set-aside')).catch(() => [] as string[])) {
    const e = await readEntry(join(dir, 'set-aside', id));
    const why = await readFile(join(dir, 'set-aside', id, 'set-aside.json'), 'utf8').then((t) => JSON.parse(t) as { at?: string; reason?: string }, () => ({}) as { at?: string; reason?: string });
    setAside.push({ id, at: why.at ?? '', reason: why.reason ?? '(no reason recorded)', instances: e?.instances.length ?? 0 });
  }
  setAside.sort((a, b) => a.at.localeCompare(b.at));
  const orphans: SpoolStatus['orphans'] = [];
  for (const id of await readdir(join(dir, 'orphans')).catch(() => [] as string[])) {
    let files = 0;
    for (const start of await readdir(join(dir, 'orphans', id)).catch(() => [] as string[])) {
      files += (await readdir(join(dir, 'orphans', id, start)).catch(() => [] as string[])).length;
    }
    if (files) orphans.push({ id, files });
  }
  pending.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const quarantined: SpoolStatus['quarantined'] = [];
  for (const id of await readdir(join(dir, 'quarantine')).catch(() => [] as string[])) {
    try {
      quarantined.push({ id, ...QuarantineReasonSchema.parse(JSON.parse(await readFile(join(dir, 'quarantine', id, 'reason.json'), 'utf8'))) });
    } catch {
      // a quarantine folder mid-write (reason first, then the file) or edited by hand
    }
  }
  quarantined.sort((a, b) => a.at.localeCompare(b.at));
  let rejected = 0;
  let last: SentRecord | undefined;
  for (const f of sentFiles) {
    try {
      const r = SentRecordSchema.parse(JSON.parse(await readFile(join(dir, 'sent', f), 'utf8')));
      if (r.status === 'REJECTED') rejected++;
      if (!last || r.sentAt > last.sentAt) last = r;
    } catch {}
  }
  let lockedBy: number | null = null;
  const lock = await readFile(join(dir, 'gateway.lock'), 'utf8').catch(() => null);
  if (lock !== null) {
    const pid = Number(lock.trim());
    lockedBy = Number.isSafeInteger(pid) && pid > 0 && alive(pid) ? pid : null;
  }
  return { pending, unreadable, orphans, setAside, quarantined, sent: { count: sentFiles.length, rejected, last }, lockedBy };
}

/** Size of a file, or null when it is gone. */
export const sizeOf = (path: string) => stat(path).then((s) => s.size, () => null);
