import type { Case, CaseStatus } from '../domain/case.ts';

/** What the store keeps of one received DICOM instance. Idempotent on SOPInstanceUID. */
export interface InstanceRecord {
  sopInstanceUID: string;
  caseId: string;
  fileIndex: number;
  key: string;
  size: number;
  sha256: string;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  sopClassUID: string;
  modality: string;
  receivedAt: string;
}

/** Outcome of one uploaded file: accepted as an instance, or refused with a code (kept in quarantine). */
export interface FileOutcome {
  caseId: string;
  fileIndex: number;
  key: string;
  outcome: 'accepted' | 'rejected';
  sopInstanceUID?: string | undefined;
  code?: string | undefined;
  message?: string | undefined;
  quarantineKey?: string | undefined;
  /** When the upload was stored, if the ingest job said so. */
  storedAt?: string | undefined;
  at: string;
}

export interface CaseFilter {
  status?: CaseStatus | undefined;
  pool?: string | undefined;
  /** Restrict to these pools (a reader's scope). */
  pools?: readonly string[] | undefined;
  clinicId?: string | undefined;
  patientId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface CasePage {
  items: Case[];
  nextCursor: string | null;
}

/** A report as written; drafts are mutable, signed versions are create-once. */
export interface ReportDraft {
  caseId: string;
  authorId: string;
  body: Record<string, unknown>;
  updatedAt: string;
}

export interface SignedReportRecord {
  caseId: string;
  version: number;
  /** The canonical JSON document (RFC 8785) that the JWS signs. */
  canonical: string;
  jws: string;
  signerId: string;
  signedAt: string;
  pdfKey?: string | undefined;
}

/**
 * The source of truth for cases, their instances, file outcomes and reports.
 * Every update is conditional on `version` so two writers can never both win.
 */
export interface CaseRepository {
  /** Create-once; CASE.ALREADY_EXISTS if the id is taken. */
  create(c: Case): Promise<void>;
  get(caseId: string): Promise<Case | null>;
  /** Conditional write: succeeds only if the stored version equals `expectedVersion`; returns the stored case (version+1). */
  update(c: Case, expectedVersion: number): Promise<Case>;
  list(filter: CaseFilter): Promise<CasePage>;
  /** CLAIMED cases whose lease expired before `at`. */
  listExpiredLeases(at: string, limit: number): Promise<Case[]>;

  /** Idempotent on SOPInstanceUID: `created` is false when it was already there (the stored record is returned). */
  putInstance(i: InstanceRecord): Promise<{ created: boolean; instance: InstanceRecord }>;
  listInstances(caseId: string): Promise<InstanceRecord[]>;
  /**
   * Move an instance to another case, only if it still belongs to `from.caseId` (conditional, so two
   * takers cannot both win). Ingest uses it when the holding case was REJECTED: that case is never
   * read, so a new submission of the same image must not be refused as a duplicate.
   */
  takeOverInstance(next: InstanceRecord, from: InstanceRecord): Promise<boolean>;
  /** Idempotent on (caseId, fileIndex): the first outcome recorded wins. */
  putFileOutcome(o: FileOutcome): Promise<{ created: boolean; outcome: FileOutcome }>;
  listFileOutcomes(caseId: string): Promise<FileOutcome[]>;

  /** Each reader's own draft of a case (a case passed on keeps its earlier reader's draft untouched). */
  saveDraft(d: ReportDraft): Promise<void>;
  getDraft(caseId: string, authorId: string): Promise<ReportDraft | null>;
  /**
   * A reader's draft, gone once what it says is signed: the signed version holds it (a discarded
   * draft reads as none). Only `draft` as it was read: one saved since (another window) is kept. Other
   * readers' drafts of the case are left alone: theirs is work of their own.
   */
  discardDraft(draft: ReportDraft): Promise<void>;
  /**
   * Create-once record that a repair ingest job was sent for a stored upload (its notice never came):
   * true the first time for (caseId, fileIndex), false after. Written after the job is sent, so a
   * crash between the two costs a second job, never the upload's only one. Queues that do not
   * deduplicate (SQS standard) would otherwise get a new job on every sweep for an upload whose
   * ingest keeps failing.
   */
  markUploadRepaired(caseId: string, fileIndex: number, at: string): Promise<boolean>;
  /** Whether a repair ingest job was recorded for the upload (markUploadRepaired). */
  isUploadRepaired(caseId: string, fileIndex: number): Promise<boolean>;
  /** Create-once on (caseId, version): REPORT.VERSION_EXISTS if that version was already signed. */
  putSignedReport(r: SignedReportRecord): Promise<void>;
  getSignedReport(caseId: string, version?: number): Promise<SignedReportRecord | null>;
  listSignedReports(caseId: string): Promise<SignedReportRecord[]>;
}
