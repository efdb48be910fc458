/**
 * Full offline verification of a TeleRead signed report (schemaVersion 2): the detached JWS over the
 * canonical report, the content signature inside it (same key), the PDF against pdfSha256 and, when
 * given, the verification code printed on the paper. Reports of schemaVersion 1 (no content signature)
 * are checked as before.
 */
import { contentOf, verificationCode, VERIFICATION_PREFIX_CHARS } from '../contracts/report.ts';
import { canonicalBytes } from '../signing/canonical.ts';
import { verifyDetached, verifyReportDocument, verifyReportFiles, type Jwks, type VerifyFailure } from '../signing/verify.ts';

export type FullVerifyCode = VerifyFailure['code'] | 'VERIFY.CONTENT_SIGNATURE' | 'VERIFY.CODE_MISMATCH';
export type FullVerifyResult =
  | {
      ok: true;
      kid: string;
      report: Record<string, unknown>;
      pdfChecked: boolean;
      /** Null for a report without a content signature (before schemaVersion 2). */
      verificationCode: string | null;
    }
  | { ok: false; code: FullVerifyCode; message: string };

/** Checks a report's content signature and returns its verification code, or a failure. */
async function checkContent(report: Record<string, unknown>, envelopeKid: string, jwks: Jwks) {
  const cs = report.contentSignature;
  // Reports before schemaVersion 2 (and other documents signed the same way) have no content signature;
  // a schemaVersion 2 report must have one (removing it breaks the report signature anyway).
  if (cs === undefined && report.schemaVersion !== 2) return { ok: true as const, code: null };
  if (typeof cs !== 'string') {
    return { ok: false as const, code: 'VERIFY.CONTENT_SIGNATURE' as const, message: 'The report carries no content signature (contentSignature).' };
  }
  const v = await verifyDetached({ canonical: canonicalBytes(contentOf(report)), jws: cs, jwks });
  if (!v.ok) return { ok: false as const, code: 'VERIFY.CONTENT_SIGNATURE' as const, message: `The content signature does not hold: ${v.message}` };
  if (v.kid !== envelopeKid) {
    return { ok: false as const, code: 'VERIFY.CONTENT_SIGNATURE' as const, message: `The content was signed by key ${v.kid}, the report by key ${envelopeKid}; both must be the signer's one key.` };
  }
  const caseId = typeof report.caseId === 'string' ? report.caseId : '';
  const version = typeof report.version === 'number' ? report.version : 0;
  return { ok: true as const, code: verificationCode(caseId, version, cs) };
}

async function finish(
  base: Awaited<ReturnType<typeof verifyReportDocument>>,
  jwks: Jwks,
  printedCode: string | undefined,
): Promise<FullVerifyResult> {
  if (!base.ok) return base;
  const content = await checkContent(base.report, base.kid, jwks);
  if (!content.ok) return content;
  if (printedCode !== undefined) {
    const wanted = printedCode.trim();
    if (content.code === null || wanted.length < content.code.length - VERIFICATION_PREFIX_CHARS + 8 || !content.code.startsWith(wanted)) {
      return { ok: false, code: 'VERIFY.CODE_MISMATCH', message: `The verification code ${JSON.stringify(wanted)} is not this report's (${content.code ?? 'none'}).` };
    }
  }
  return { ok: true, kid: base.kid, report: base.report, pdfChecked: base.pdfChecked, verificationCode: content.code };
}

/** As `verifyReportFiles` (report JSON text, detached JWS, optional PDF) plus the content signature and printed code. */
export async function verifySignedReportFiles(input: { reportJson: string; jws: string; jwks: Jwks; pdfBytes?: Uint8Array; code?: string }): Promise<FullVerifyResult> {
  return finish(await verifyReportFiles(input), input.jwks, input.code);
}

/** As `verifyReportDocument` for a parsed report (e.g. the API's `report`). */
export async function verifySignedReport(input: { report: unknown; jws: string; jwks: Jwks; pdfBytes?: Uint8Array; code?: string }): Promise<FullVerifyResult> {
  return finish(await verifyReportDocument(input), input.jwks, input.code);
}
