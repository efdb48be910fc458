import { ReportBodySchema, SignSchema } from '../../contracts/api.ts';
import { getReport, saveDraft, signReport } from '../../application/reports.ts';
import { AppError } from '../../domain/errors.ts';
import type { RouteKit } from '../kit.ts';

/** Report routes: draft, sign, read (JSON + detached JWS). */
export function registerReportRoutes({ app, deps, x, doc, body, me, caseId }: RouteKit): void {
  app.put('/api/cases/:caseId/report', async (c) => {
    const b = await body(c, ReportBodySchema);
    await saveDraft(deps, me(c), caseId(c), b);
    return c.json({ saved: true });
  });
  doc({ method: 'put', path: '/api/cases/{caseId}/report', summary: 'Save the report draft', roles: 'lease holder', body: ReportBodySchema });

  app.post('/api/cases/:caseId/report/sign', async (c) => {
    const b = await body(c, SignSchema);
    return c.json(await signReport(deps, x.canonicalize, me(c), caseId(c), b.pin));
  });
  doc({ method: 'post', path: '/api/cases/{caseId}/report/sign', summary: 'Sign the draft with your PIN; returns {version, report, jws}', roles: 'lease holder', body: SignSchema });

  app.get('/api/cases/:caseId/report', async (c) => {
    const v = c.req.query('version');
    const version = v === undefined ? undefined : Number(v);
    if (version !== undefined && (!Number.isInteger(version) || version < 1)) {
      throw new AppError('REQUEST.INVALID', 'invalid', 'version is a positive integer.');
    }
    if (c.req.query('format') === 'pdf') {
      throw new AppError('REPORT.PDF_NOT_AVAILABLE', 'not_found', 'PDF reports are not produced yet; use the JSON report and its signature.');
    }
    return c.json(await getReport(deps, me(c), caseId(c), version));
  });
  doc({ method: 'get', path: '/api/cases/{caseId}/report', summary: 'Latest signed report {report, jws}; ?version=n for an earlier one', roles: 'reader of the pool, owning clinic, admin' });

}
