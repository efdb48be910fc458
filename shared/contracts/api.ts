import { z } from 'zod';
import { PRIORITIES } from '../domain/priority.ts';
import { CASE_STATUSES } from '../domain/case.ts';
import { SigningPinSchema } from './report.ts';

export const PrioritySchema = z.enum(PRIORITIES);
export const CaseStatusSchema = z.enum(CASE_STATUSES);

const MAX_FILES = 500;

export const CreateSubmissionSchema = z.object({
  patient: z.object({
    id: z.string().trim().min(1, 'patient.id is required').max(64),
    name: z.string().trim().min(1, 'patient.name is required').max(200),
    sex: z.enum(['M', 'F', 'O']).optional(),
    birthDate: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'patient.birthDate is YYYY-MM-DD')
      .optional(),
  }),
  consent: z.object(
    {
      obtained: z.literal(true, {
        error: 'consent.obtained must be true: remote diagnosis needs the patient’s recorded consent',
      }),
      recordedBy: z.string().trim().min(1).max(200).optional(),
    },
    { error: 'consent is required: record the patient’s consent to remote diagnosis' },
  ),
  priority: PrioritySchema,
  clinicalNote: z.string().max(4000).optional(),
  files: z
    .array(
      z.object({
        name: z.string().min(1).max(255),
        size: z.number().int().nonnegative('file size is a number of bytes, 0 or more'),
        contentType: z.string().max(100).optional(),
      }),
    )
    .min(1, 'declare at least one file')
    .max(MAX_FILES, `at most ${MAX_FILES} files per submission`),
  /**
   * Optional idempotency key chosen by the client (e.g. a gateway's spool entry id; never PHI): the
   * same reference from the same clinic always answers the same submission, so a retry after a crash
   * or a lost response never creates a second case.
   */
  clientReference: z
    .string()
    .min(1, 'clientReference is 1 to 128 characters')
    .max(128, 'clientReference is 1 to 128 characters')
    .regex(/^[\x21-\x7e]+$/, 'clientReference is printable ASCII without spaces')
    .optional(),
});
export type CreateSubmission = z.infer<typeof CreateSubmissionSchema>;

export const UploadTargetSchema = z.object({
  index: z.number().int(),
  url: z.string(),
  method: z.literal('PUT'),
  headers: z.record(z.string(), z.string()),
  expiresAt: z.string(),
  maxBytes: z.number().int(),
});

export const CreateSubmissionResponseSchema = z.object({
  submissionId: z.string(),
  caseId: z.string(),
  uploads: z.array(UploadTargetSchema),
  /** The case's status: AWAITING_FILES when created; on a repeated clientReference, wherever the case is now. */
  status: CaseStatusSchema.optional(),
});

export const ListCasesQuerySchema = z.object({
  status: CaseStatusSchema.optional(),
  pool: z.string().max(64).optional(),
  clinicId: z.string().max(64).optional(),
  /** The clinic's patient id: a patient's earlier studies (priors), within the caller's scope. */
  patientId: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});

export const NextReadSchema = z.object({ pools: z.array(z.string().max(64)).max(50).optional() }).default({});
/** The lease a screen holds (`lease.id` of reads/next), sent with what it does under it. */
const LeaseId = z.string().min(1).max(100);
/**
 * Heartbeat and release name the lease they mean (optional; without it, the reader's current lease): a
 * screen left open on a lease that ran out cannot extend or give back the lease the same reader took
 * again elsewhere.
 */
export const LeaseRequestSchema = z.object({ leaseId: LeaseId.optional() }).default({});

export const ReportBodySchema = z.object({
  findings: z.string().max(20_000),
  impression: z.string().max(10_000),
  critical: z.boolean().default(false),
  /** Per-modality structured fields from the template (rhythm, axis, organ findings, …). */
  fields: z.record(z.string().max(64), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()])).optional(),
  language: z.enum(['zh-CN', 'en']).default('zh-CN'),
});
export type ReportBody = z.infer<typeof ReportBodySchema>;

/** PUT /api/cases/{caseId}/report: the draft, and optionally the lease it is written under (not stored). */
export const DraftRequestSchema = ReportBodySchema.extend({ leaseId: LeaseId.optional() });
export const SignSchema = z.object({ pin: SigningPinSchema, leaseId: LeaseId.optional() });

export const AcknowledgeSchema = z
  .object({
    receivedBy: z.string().trim().min(1).max(200).optional(),
    readBack: z.string().trim().min(1).max(4000).optional(),
  })
  .default({});

export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
});

/** What GET /api/cases/{caseId} answers. */
export const CaseViewSchema = z.object({
  caseId: z.string(),
  submissionId: z.string(),
  clinicId: z.string(),
  status: CaseStatusSchema,
  priority: PrioritySchema,
  requestedPriority: PrioritySchema,
  pool: z.string().nullable(),
  modality: z.string().nullable(),
  patient: z.object({ id: z.string(), name: z.string(), sex: z.string().optional(), birthDate: z.string().optional() }),
  clinicalNote: z.string().nullable(),
  declaredFiles: z.number(),
  files: z.array(
    z.object({
      index: z.number(),
      outcome: z.enum(['pending', 'accepted', 'rejected']),
      code: z.string().optional(),
      message: z.string().optional(),
    }),
  ),
  timeline: z.record(z.string(), z.string()),
  events: z.array(z.object({ status: CaseStatusSchema, at: z.string(), actor: z.string(), reason: z.string().optional() })),
  study: z.record(z.string(), z.unknown()).nullable(),
  ecg: z
    .object({ measurements: z.record(z.string(), z.number().nullable()), flags: z.array(z.string()), advisory: z.literal(true) })
    .nullable(),
  rejection: z.object({ code: z.string(), message: z.string(), fileIndex: z.number().optional() }).nullable(),
  lease: z.object({ id: z.string(), readerId: z.string(), expiresAt: z.string() }).nullable(),
  report: z.object({ version: z.number(), href: z.string() }).nullable(),
  instances: z.array(z.object({ index: z.number(), href: z.string(), SOPInstanceUID: z.string() })),
  acknowledgement: z
    .object({ by: z.string(), at: z.string(), receivedBy: z.string().optional(), readBack: z.string().optional() })
    .nullable(),
  escalations: z.array(
    z.object({ kind: z.enum(['sla-warning', 'sla-breach', 'critical-unacknowledged']), at: z.string(), fromPriority: PrioritySchema.optional(), toPriority: PrioritySchema.optional() }),
  ),
  /** SLA warning and breach points of the case (from its first QUEUED time); null before it was queued. */
  sla: z.object({ warnAt: z.string(), breachAt: z.string() }).nullable(),
  /** The latest delivered report is a critical result (its loop is open until acknowledged with read-back). */
  critical: z.boolean(),
  criticalResult: z
    .object({
      finding: z.string(),
      identifiedAt: z.string(),
      readerId: z.string(),
      reportVersion: z.number(),
      notifiedAt: z.string(),
      method: z.string(),
      receiver: z.string().optional(),
      receivedAt: z.string().optional(),
      readBack: z.string().optional(),
      acknowledgedBy: z.string().optional(),
    })
    .nullable(),
  uploadCompletedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type CaseView = z.infer<typeof CaseViewSchema>;
