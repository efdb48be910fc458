/**
 * Object keys. They carry opaque ids only (no PHI): uploads/<clinicId>/<submissionId>/<n>,
 * quarantine/<clinicId>/<submissionId>/<n>, reports/<clinicId>/<caseId>/v<version>.pdf.
 */
export const uploadKey = (clinicId: string, submissionId: string, index: number) =>
  `uploads/${clinicId}/${submissionId}/${index}`;

export const quarantineKey = (clinicId: string, submissionId: string, index: number) =>
  `quarantine/${clinicId}/${submissionId}/${index}`;

export const reportKey = (clinicId: string, caseId: string, version: number, ext: 'pdf' | 'json') =>
  `reports/${clinicId}/${caseId}/v${version}.${ext}`;

export function parseUploadKey(key: string): { clinicId: string; submissionId: string; index: number } | null {
  const m = /^uploads\/([a-z0-9][a-z0-9-]{0,62})\/(sub-[A-Za-z0-9_-]{6,64})\/(\d{1,4})$/.exec(key);
  if (!m) return null;
  return { clinicId: m[1]!, submissionId: m[2]!, index: Number(m[3]) };
}

/** One submission makes exactly one case; both ids share one random suffix so either finds the other. */
export const caseIdForSubmission = (submissionId: string) => `case-${submissionId.slice('sub-'.length)}`;
