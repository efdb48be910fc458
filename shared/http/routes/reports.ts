import { z } from 'zod';
import { DraftRequestSchema, SignSchema } from '../../contracts/api.ts';
import { AcknowledgeVersionSchema, AmendSchema } from '../../contracts/report.ts';
import { acknowledgeReportVersion, amendReport, getOwnDraft, getReport, getReportPdf, saveDraft, signReport } from '../../application/reports.ts';
import { AppError } from '../../domain/errors.ts';
import type { RouteKit } from '../kit.ts';

const versionOf = (v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new AppError('REQUEST.INVALID', 'invalid', 'version is a positive integer.');
  return n;
};

const ReportQuerySchema = z.object({ version: z.string().optional(), format: z.enum(['json', 'pdf']).optional() });

/** Report routes: draft, sign, amend, read (JSON + detached JWS, or the PDF), acknowledge a version. */
export function registerReportRoutes({ app, deps, x, doc, body, me, caseId }: RouteKit): void {
  app.get('/api/cases/:caseId/report/draft', async (c) => c.json(await getOwnDraft(deps, me(c), caseId(c))));
  doc({ method: 'get', path: '/api/cases/{caseId}/report/draft', summary: 'Your saved draft of this case', roles: 'reader (the draft’s author)' });

  app.put('/api/cases/:caseId/report', async (c) => {
    const { leaseId, ...draft } = await body(c, DraftRequestSchema);
    await saveDraft(deps, me(c), caseId(c), draft, leaseId);
    return c.json({ saved: true });
  });
  doc({ method: 'put', path: '/api/cases/{caseId}/report', summary: 'Save the report draft (optional leaseId: only under that lease)', roles: 'lease holder', body: DraftRequestSchema });

  app.post('/api/cases/:caseId/report/sign', async (c) => {
    const b = await body(c, SignSchema);
    return c.json(await signReport(deps, x.canonicalize, me(c), caseId(c), b.pin, b.leaseId));
  });
  doc({
    method: 'post',
    path: '/api/cases/{caseId}/report/sign',
    summary: 'Sign the draft with your PIN; returns {version, report, jws, warnings} (the report binds the PDF by pdfSha256)',
    roles: 'lease holder',
    body: SignSchema,
    responses: { '403': 'SIGN.BAD_PIN (details.attemptsLeft)', '429': 'SIGN.PIN_LOCKED: 5 wrong PINs in a row lock signing for 15 minutes (Retry-After)' },
  });

  app.post('/api/cases/:caseId/report/amend', async (c) => {
    const b = await body(c, AmendSchema);
    return c.json(await amendReport(deps, x.canonicalize, me(c), caseId(c), b));
  });
  doc({
    method: 'post',
    path: '/api/cases/{caseId}/report/amend',
    summary: 'Sign an addendum or correction as version n+1 (supersedes n, with a reason); returns {version, report, jws, warnings}',
    roles: 'reader of the pool',
    body: AmendSchema,
    responses: { '403': 'SIGN.BAD_PIN (details.attemptsLeft)', '429': 'SIGN.PIN_LOCKED: 5 wrong PINs in a row lock signing for 15 minutes (Retry-After)' },
  });

  app.get('/api/cases/:caseId/report', async (c) => {
    const version = versionOf(c.req.query('version'));
    const format = c.req.query('format') ?? 'json';
    if (format === 'pdf') {
      const pdf = await getReportPdf(deps, me(c), caseId(c), version);
      return c.body(pdf.bytes as Uint8Array<ArrayBuffer>, 200, {
        'content-type': 'application/pdf',
        'content-disposition': `attachment; filename="${pdf.filename}"`,
        'cache-control': 'private, no-store',
        'x-report-version': String(pdf.version),
        'x-report-sha256': pdf.sha256,
      });
    }
    if (format !== 'json') throw new AppError('REQUEST.INVALID', 'invalid', 'format is json or pdf.');
    return c.json(await getReport(deps, me(c), caseId(c), version));
  });
  doc({
    method: 'get',
    path: '/api/cases/{caseId}/report',
    summary: 'Latest signed report {report, jws, history}; ?version=n for an earlier one; ?format=pdf for the PDF bytes (audited)',
    roles: 'reader of the pool, owning clinic, admin',
    query: ReportQuerySchema,
  });

  app.post('/api/cases/:caseId/report/versions/:version/acknowledge', async (c) => {
    const b = await body(c, AcknowledgeVersionSchema);
    return c.json(await acknowledgeReportVersion(deps, me(c), caseId(c), versionOf(c.req.param('version'))!, b));
  });
  doc({
    method: 'post',
    path: '/api/cases/{caseId}/report/versions/{version}/acknowledge',
    summary: 'Acknowledge an amended report version (critical ones need receivedBy and readBack)',
    roles: 'owning clinic',
    body: AcknowledgeVersionSchema,
  });
}
