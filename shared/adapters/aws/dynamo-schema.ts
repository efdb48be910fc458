/**
 * The one DynamoDB table of TeleRead: key and index names shared by the adapters and the CDK stack,
 * so the table the stack creates is exactly the table the adapters query.
 *
 * Items (pk / sk):
 *   CASE#<caseId> / CASE                 the case document (+ index attributes below)
 *   CASE#<caseId> / INST#<n>#<uid>       instance of the case (copy of the SOP item, strongly consistent list)
 *   CASE#<caseId> / FILE#<n>             file outcome (create-once)
 *   CASE#<caseId> / DRAFT#<authorId>     a reader's report draft (replaced; `DRAFT`: one saved before drafts were per author)
 *   CASE#<caseId> / REPORT#<v>           signed report version (create-once)
 *   SOP#<SOPInstanceUID> / SOP           create-once guard: the first record of an instance
 *   SIGNER#<signerId> / KEY#<kid>        sealed signer key (create-once)
 *   ATTEMPTS#<subject> / ATTEMPTS        counted attempts at a secret (signing PIN), versioned
 *   AUDIT / <at>#<seq>                   audit log (all); AUDIT#CASE#<caseId> / <at>#<seq> (per case)
 *   INBOX#CLINIC#<id> | INBOX#USER#<id> | INBOX#ROLE#<role> / <at>#<seq>   notifications
 *   CONFIG / CONSORTIUM                  the consortium document (clinics, pools, routing, users)
 */
export const KEY = { pk: 'pk', sk: 'sk' } as const;

/** Sort key of every case index: `<createdAt ISO>#<caseId>` (newest first = descending). */
export const GSI_SK = 'gsiSk';

/** The global secondary indexes and their partition attributes; all project ALL attributes. */
export const CASE_INDEXES = {
  /** Every case (`CASE`) and every signer key (`SIGNERKEY`). */
  all: { name: 'gsiAll', pk: 'allPk' },
  /** Cases of one clinic: `CLINIC#<clinicId>`. */
  clinic: { name: 'gsiClinic', pk: 'clinicPk' },
  /** Cases of one pool in one status: `POOL#<pool>#<status>` (the read backlog). */
  poolStatus: { name: 'gsiPoolStatus', pk: 'poolStatusPk' },
  /** Cases of one pool: `POOL#<pool>`. */
  pool: { name: 'gsiPool', pk: 'poolPk' },
  /** Cases in one status: `STATUS#<status>`. */
  status: { name: 'gsiStatus', pk: 'statusPk' },
  /** Cases of one patient: `PATIENT#<sha256 of the patient id>` (no PHI in index keys). */
  patient: { name: 'gsiPatient', pk: 'patientPk' },
} as const;

/** Sparse index of CLAIMED cases by lease expiry: pk `LEASE`, sk `<expiresAt ISO>#<caseId>`. */
export const LEASE_INDEX = { name: 'gsiLease', pk: 'leasePk', sk: 'leaseSk' } as const;

export interface IndexSpec {
  name: string;
  pk: string;
  sk: string;
}

/** Every GSI of the table, for the CDK stack and for test fixtures that create the table. */
export const TABLE_INDEXES: readonly IndexSpec[] = [
  ...Object.values(CASE_INDEXES).map((i) => ({ name: i.name, pk: i.pk, sk: GSI_SK })),
  { name: LEASE_INDEX.name, pk: LEASE_INDEX.pk, sk: LEASE_INDEX.sk },
];
