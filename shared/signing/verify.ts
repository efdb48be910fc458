/**
 * Offline verification of signed reports: a detached compact JWS (RFC 7515 Appendix F) over the
 * RFC 8785 canonical bytes of the report, checked against a JWKS with any standard JOSE library.
 */
import { createHash } from 'node:crypto';
import { base64url, createLocalJWKSet, decodeProtectedHeader, errors, flattenedVerify, type JWK } from 'jose';
import { canonicalBytes } from './canonical.ts';

export type VerifyCode = 'VERIFY.BAD_SIGNATURE' | 'VERIFY.UNKNOWN_KEY' | 'VERIFY.MALFORMED' | 'VERIFY.PDF_MISMATCH';
export type VerifyFailure = { ok: false; code: VerifyCode; message: string };
export type VerifyResult = { ok: true; kid: string } | VerifyFailure;
export type ReportVerifyResult =
  | { ok: true; kid: string; report: Record<string, unknown>; pdfChecked: boolean }
  | VerifyFailure;

export interface Jwks {
  keys: JWK[];
}

const fail = (code: VerifyCode, message: string): VerifyFailure => ({ ok: false, code, message });
const B64U_SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * Verifies a detached compact JWS (`header..signature`) over `canonical`, with the key named by the
 * header's kid in `jwks`. Only ES256 is accepted; `b64` and `crit` headers are refused.
 */
export async function verifyDetached(input: { canonical: Uint8Array; jws: string; jwks: Jwks }): Promise<VerifyResult> {
  const { canonical, jwks } = input;
  const jws = typeof input.jws === 'string' ? input.jws.trim() : '';
  const parts = jws.split('.');
  if (parts.length !== 3) return fail('VERIFY.MALFORMED', 'The signature is not a compact JWS (three dot-separated parts).');
  const [protectedB64, payloadPart, signatureB64] = parts as [string, string, string];
  if (payloadPart !== '') {
    return fail('VERIFY.MALFORMED', 'The signature is not detached: its payload part must be empty (header..signature).');
  }
  if (!B64U_SEGMENT.test(protectedB64) || !B64U_SEGMENT.test(signatureB64)) {
    return fail('VERIFY.MALFORMED', 'The signature parts are not base64url.');
  }
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(jws) as Record<string, unknown>;
  } catch {
    return fail('VERIFY.MALFORMED', 'The JWS protected header is not valid base64url JSON.');
  }
  if (header.alg !== 'ES256') return fail('VERIFY.MALFORMED', `Unsupported signature algorithm ${JSON.stringify(header.alg)}; expected ES256.`);
  if (typeof header.kid !== 'string' || header.kid === '') return fail('VERIFY.MALFORMED', 'The JWS header names no key (kid).');
  if ('b64' in header || 'crit' in header) return fail('VERIFY.MALFORMED', 'The JWS header carries b64/crit parameters, which reports never use.');
  if (!(canonical instanceof Uint8Array)) return fail('VERIFY.MALFORMED', 'The signed document bytes are missing.');
  const kid = header.kid;

  let keySet: ReturnType<typeof createLocalJWKSet>;
  try {
    keySet = createLocalJWKSet(jwks as { keys: JWK[] });
  } catch {
    return fail('VERIFY.MALFORMED', 'The key set is not a valid JWKS ({"keys":[…]}).');
  }
  const flattened = { protected: protectedB64, payload: base64url.encode(canonical), signature: signatureB64 };
  const options = { algorithms: ['ES256'] };
  try {
    await flattenedVerify(flattened, keySet, options);
    return { ok: true, kid };
  } catch (e) {
    if (e instanceof errors.JWKSMultipleMatchingKeys) {
      // Several published keys carry this kid (e.g. a JWKS merged from two sources): any may verify.
      for await (const key of e as unknown as AsyncIterable<CryptoKey>) {
        try {
          await flattenedVerify(flattened, key, options);
          return { ok: true, kid };
        } catch {
          // try the next candidate
        }
      }
      return fail('VERIFY.BAD_SIGNATURE', `The signature does not match the document for key ${kid}.`);
    }
    return mapError(e, kid);
  }
}

function mapError(e: unknown, kid: string): VerifyFailure {
  if (e instanceof errors.JWSSignatureVerificationFailed) {
    return fail('VERIFY.BAD_SIGNATURE', `The signature does not match the document for key ${kid}: the report or the signature was changed.`);
  }
  if (e instanceof errors.JWKSNoMatchingKey) {
    return fail('VERIFY.UNKNOWN_KEY', `No published ES256 signing key has kid ${kid}.`);
  }
  if (e instanceof errors.JOSEError || e instanceof TypeError) {
    return fail('VERIFY.MALFORMED', `The signature or key cannot be used: ${e.message}`);
  }
  throw e;
}

/**
 * Verifies a signed report as files: `reportJson` is the report document (any formatting: it is
 * parsed and re-canonicalized), `jws` the detached compact JWS, and, when given, `pdfBytes` must hash
 * to the report's `pdfSha256` (hex).
 */
export async function verifyReportFiles(input: {
  reportJson: string;
  jws: string;
  jwks: Jwks;
  pdfBytes?: Uint8Array;
}): Promise<ReportVerifyResult> {
  let report: unknown;
  try {
    report = JSON.parse(input.reportJson.replace(/^\uFEFF/, ''));
  } catch {
    return fail('VERIFY.MALFORMED', 'The report is not valid JSON.');
  }
  const duplicate = findDuplicateMember(input.reportJson);
  if (duplicate !== null) {
    return fail('VERIFY.MALFORMED', `The report repeats the member ${JSON.stringify(duplicate)}; a signed report never does.`);
  }
  return verifyReportDocument({ report, jws: input.jws, jwks: input.jwks, pdfBytes: input.pdfBytes });
}

/** Same as verifyReportFiles for an already parsed report document. */
export async function verifyReportDocument(input: {
  report: unknown;
  jws: string;
  jwks: Jwks;
  pdfBytes?: Uint8Array;
}): Promise<ReportVerifyResult> {
  const { report } = input;
  if (report === null || typeof report !== 'object' || Array.isArray(report)) {
    return fail('VERIFY.MALFORMED', 'The report is not a JSON object.');
  }
  let canonical: Uint8Array;
  try {
    canonical = canonicalBytes(report);
  } catch (e) {
    return fail('VERIFY.MALFORMED', e instanceof Error ? e.message : 'The report cannot be canonicalized.');
  }
  const verdict = await verifyDetached({ canonical, jws: input.jws, jwks: input.jwks });
  if (!verdict.ok) return verdict;

  const doc = report as Record<string, unknown>;
  if (input.pdfBytes === undefined) return { ok: true, kid: verdict.kid, report: doc, pdfChecked: false };
  const expected = doc.pdfSha256;
  if (typeof expected !== 'string' || !/^[0-9a-fA-F]{64}$/.test(expected)) {
    return fail('VERIFY.PDF_MISMATCH', 'The signed report records no PDF hash (pdfSha256), so the PDF cannot be checked against it.');
  }
  const actual = createHash('sha256').update(input.pdfBytes).digest('hex');
  if (actual !== expected.toLowerCase()) {
    return fail('VERIFY.PDF_MISMATCH', `The PDF is not the one the report was signed with: its SHA-256 is ${actual}, the report records ${expected.toLowerCase()}.`);
  }
  return { ok: true, kid: verdict.kid, report: doc, pdfChecked: true };
}

/**
 * The first member name that appears twice in one object of a valid JSON text, or null.
 * JSON.parse keeps the last duplicate silently, while other readers may show the first: RFC 8785
 * (I-JSON) forbids duplicates, so a verifier must not call such a file valid. Assumes valid JSON.
 */
export function findDuplicateMember(text: string): string | null {
  const stack: (Set<string> | null)[] = [];
  let i = 0;
  const n = text.length;
  let expectKey = false;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const members = stack[stack.length - 1];
        if (members) {
          if (members.has(key)) return key;
          members.add(key);
        }
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
    i++;
  }
  return null;
}
