import { AppError } from './errors.ts';
import type { Priority } from './priority.ts';

/** Case states move only forward (plus CLAIMED → QUEUED on release or lease expiry). */
export const CASE_STATUSES = [
  'AWAITING_FILES',
  'QUEUED',
  'CLAIMED',
  'SIGNED',
  'DELIVERED',
  'ACKNOWLEDGED',
  'REJECTED',
] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

const ALLOWED: Record<CaseStatus, readonly CaseStatus[]> = {
  AWAITING_FILES: ['QUEUED', 'REJECTED'],
  QUEUED: ['CLAIMED'],
  CLAIMED: ['QUEUED', 'SIGNED'],
  SIGNED: ['DELIVERED'],
  // An amendment of a delivered report is a new report version; the case stays where it is.
  DELIVERED: ['ACKNOWLEDGED'],
  ACKNOWLEDGED: [],
  REJECTED: [],
};

export const canTransition = (from: CaseStatus, to: CaseStatus) => ALLOWED[from].includes(to);

/** One recorded step of a case: what happened, when (UTC ISO), and who did it. */
export interface CaseEvent {
  status: CaseStatus;
  at: string;
  actor: string;
  /** Why, for steps that have a why: 'released', 'lease-expired', a rejection code. */
  reason?: string;
}

export interface Rejection {
  code: string;
  message: string;
  /** Which uploaded file (index) was refused, where one was. */
  fileIndex?: number;
}

export interface Lease {
  id: string;
  readerId: string;
  expiresAt: string;
  /** The read-queue message holding the case invisible while the lease lasts. */
  queue: string;
  receipt: string;
}

export interface PatientRecord {
  id: string;
  name: string;
  sex?: 'M' | 'F' | 'O' | undefined;
  birthDate?: string | undefined;
}

export interface ConsentRecord {
  obtained: true;
  recordedBy: string;
  recordedAt: string;
}

export interface EcgSummary {
  measurements: Record<string, number | null>;
  flags: string[];
  /** Measurements the acquiring device wrote into the file, shown beside ours. */
  deviceMeasurements?: Record<string, number | null> | undefined;
}

/** The source of truth for a study's workflow. `version` guards every write (conditional update). */
export interface Case {
  caseId: string;
  submissionId: string;
  clinicId: string;
  status: CaseStatus;
  priority: Priority;
  /** Priority asked for at submission; automatic flags may raise `priority` above it. */
  requestedPriority: Priority;
  pool: string | null;
  modality: string | null;
  declaredFiles: number;
  /** Byte size of each declared file: each upload target is bound to it. */
  declaredSizes?: number[] | undefined;
  patient: PatientRecord;
  consent: ConsentRecord;
  clinicalNote: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  events: CaseEvent[];
  study: Record<string, unknown> | null;
  ecg: EcgSummary | null;
  rejection: Rejection | null;
  lease: Lease | null;
  /** Latest signed report version, 0 before the first signature. */
  reportVersion: number;
  /** Set once the read message for the current QUEUED spell is known to be on the queue. */
  readEnqueuedAt: string | null;
  acknowledgement: Acknowledgement | null;
  /** When the last declared file was stored: the start of the "upload complete → queued" segment. */
  uploadCompletedAt?: string | null | undefined;
  /** Priority whose SLA applies: the one the case was first queued with (escalations do not move it). */
  slaPriority?: Priority | undefined;
  /** SLA warnings and breaches, and repeated alerts for unacknowledged critical results. */
  escalations?: Escalation[] | undefined;
  /** The closed loop of a critical result, with the six fields the ACR asks to document. */
  criticalResult?: CriticalResult | null | undefined;
  version: number;
}

export interface Escalation {
  kind: 'sla-warning' | 'sla-breach' | 'critical-unacknowledged';
  at: string;
  fromPriority?: Priority | undefined;
  toPriority?: Priority | undefined;
  /** Who was alerted (user ids, clinic ids); never PHI. */
  notified: string[];
}

/** Finding, time identified, reader, receiver, time received, method (ACR); plus the read-back. */
export interface CriticalResult {
  finding: string;
  identifiedAt: string;
  readerId: string;
  reportVersion: number;
  notifiedAt: string;
  method: 'in-app' | 'webhook' | 'in-app+webhook';
  receiver?: string | undefined;
  receivedAt?: string | undefined;
  readBack?: string | undefined;
  acknowledgedBy?: string | undefined;
}

/** The clinic's receipt of a report; for critical results, who received it and what they read back. */
export interface Acknowledgement {
  by: string;
  at: string;
  receivedBy?: string | undefined;
  readBack?: string | undefined;
  method: 'in-app';
}

/** Apply a transition, recording timestamp and actor; throws CASE.INVALID_TRANSITION if the lifecycle forbids it. */
export function transition(
  c: Case,
  to: CaseStatus,
  actor: string,
  at: Date,
  reason?: string,
): Case {
  if (!canTransition(c.status, to)) {
    throw new AppError(
      'CASE.INVALID_TRANSITION',
      'conflict',
      `The case is ${c.status} and cannot become ${to}.`,
      { from: c.status, to },
    );
  }
  const iso = at.toISOString();
  const event: CaseEvent = reason ? { status: to, at: iso, actor, reason } : { status: to, at: iso, actor };
  return { ...c, status: to, updatedAt: iso, events: [...c.events, event] };
}

/** Latest time each state was entered: the `timeline` the API shows and turnaround is computed from. */
export function timelineOf(c: Pick<Case, 'events'>): Partial<Record<CaseStatus, string>> {
  const t: Partial<Record<CaseStatus, string>> = {};
  for (const e of c.events) t[e.status] = e.at;
  return t;
}

export const isTerminal = (s: CaseStatus) => s === 'ACKNOWLEDGED' || s === 'REJECTED';
