import { z } from 'zod';
import { backlog, GROUP_BY, turnaround, turnaroundCsv } from '../../application/metrics.ts';
import type { RouteKit } from '../kit.ts';

const TurnaroundQuerySchema = z.object({
  from: z.string().datetime({ offset: true }).optional(),
  to: z.string().datetime({ offset: true }).optional(),
  groupBy: z.enum(GROUP_BY).default('pool'),
  format: z.enum(['json', 'csv']).default('json'),
});

/** Administrator figures: turnaround percentiles and SLA compliance (JSON or CSV), backlog per pool. */
export function registerMetricsRoutes({ app, deps, doc, me }: RouteKit): void {
  app.get('/api/metrics/turnaround', async (c) => {
    const q = TurnaroundQuerySchema.parse(c.req.query());
    const r = await turnaround(deps, me(c), q);
    if (q.format === 'csv') {
      return c.body(turnaroundCsv(r.rows), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="turnaround.csv"' });
    }
    return c.json(r);
  });
  doc({ method: 'get', path: '/api/metrics/turnaround', summary: 'Turnaround percentiles (p50/p90/p99) per segment and SLA compliance, grouped', roles: 'admin', query: TurnaroundQuerySchema });

  app.get('/api/metrics/backlog', async (c) => c.json({ now: deps.clock.now().toISOString(), pools: await backlog(deps, me(c)) }));
  doc({ method: 'get', path: '/api/metrics/backlog', summary: 'Waiting and claimed cases per pool, oldest waiting, and the server’s time', roles: 'admin' });
}
