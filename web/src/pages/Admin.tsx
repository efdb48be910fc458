import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call, fetchBytes, type CaseView } from '../api.ts';
import { ErrorText, useNow, usePoll, waitingText } from '../common.tsx';
import { fmtTime } from '../i18n.ts';

interface PoolRow {
  pool: string;
  queued: number;
  claimed: number;
  stat: number;
  oldest?: string;
}

export function backlog(items: CaseView[]): PoolRow[] {
  const m = new Map<string, PoolRow>();
  for (const c of items) {
    if (c.status !== 'QUEUED' && c.status !== 'CLAIMED') continue;
    const k = c.pool ?? '—';
    const r = m.get(k) ?? { pool: k, queued: 0, claimed: 0, stat: 0 };
    if (c.status === 'QUEUED') r.queued++;
    else r.claimed++;
    if (c.priority === 'stat') r.stat++;
    const since = c.timeline.QUEUED;
    if (c.status === 'QUEUED' && since && (!r.oldest || since < r.oldest)) r.oldest = since;
    m.set(k, r);
  }
  return [...m.values()].sort((a, b) => a.pool.localeCompare(b.pool));
}

/** Backlog per pool and counts by status, from GET /api/cases (turnaround figures come with their API). */
export function AdminHome() {
  const { t } = useTranslation();
  const now = useNow(15_000);
  const [items, setItems] = useState<CaseView[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [apiRows, setApiRows] = useState<PoolRow[] | null>(null);
  const [ta, setTa] = useState<Turnaround | null>(null);
  usePoll(
    async () => {
      try {
        const [all, bl, tr] = await Promise.all([
          api.listAll({}, 2000),
          call<{ pools: { pool: string; waiting: number; claimed: number; oldestWaitingSince: string | null }[] }>('GET', '/api/metrics/backlog').catch(() => null),
          call<Turnaround>('GET', '/api/metrics/turnaround?groupBy=pool').catch(() => null),
        ]);
        setItems(all);
        if (bl) {
          const stat = backlog(all);
          setApiRows(
            bl.pools.map((r) => ({ pool: r.pool, queued: r.waiting, claimed: r.claimed, stat: stat.find((x) => x.pool === r.pool)?.stat ?? 0, ...(r.oldestWaitingSince ? { oldest: r.oldestWaitingSince } : {}) })),
          );
        }
        setTa(tr);
        setError(null);
      } catch (e) {
        setError(e);
      }
    },
    10_000,
    [],
  );
  const rows = useMemo(() => apiRows ?? backlog(items ?? []), [items, apiRows]);
  const byStatus = useMemo(() => {
    const m: Record<string, number> = {};
    for (const c of items ?? []) m[c.status] = (m[c.status] ?? 0) + 1;
    return m;
  }, [items]);
  const clinics = useMemo(() => [...new Set((items ?? []).map((c) => c.clinicId))].sort(), [items]);
  const pools = useMemo(() => [...new Set((items ?? []).map((c) => c.pool).filter((p): p is string => !!p))].sort(), [items]);

  return (
    <div className="admin">
      <section className="card" aria-labelledby="bl-h">
        <h1 id="bl-h">{t('admin.backlog')}</h1>
        <ErrorText e={error} />
        {!items && <p>{t('common.loading')}</p>}
        {items && (
          <table className="list" data-testid="backlog">
            <thead>
              <tr>
                <th>{t('admin.pool')}</th>
                <th>{t('admin.queued')}</th>
                <th>{t('admin.claimed')}</th>
                <th>{t('priority.stat')}</th>
                <th>{t('admin.oldest')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.pool} data-pool={r.pool}>
                  <td>{r.pool}</td>
                  <td>{r.queued}</td>
                  <td>{r.claimed}</td>
                  <td>{r.stat}</td>
                  <td>{waitingText(t, r.oldest, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {items && <BacklogChart rows={rows} />}
      </section>
      <section className="card" aria-labelledby="st-h">
        <h2 id="st-h">{t('admin.byStatus')}</h2>
        <ul className="stats">
          {Object.entries(byStatus).map(([s, n]) => (
            <li key={s}>
              {t(`status.${s}`)}: <strong>{n}</strong>
            </li>
          ))}
          <li>
            {t('admin.total')}: <strong>{items?.length ?? 0}</strong>
          </li>
        </ul>
      </section>
      <section className="card" aria-labelledby="ta-h">
        <h2 id="ta-h">{t('admin.turnaroundTitle')}</h2>
        {!ta && <p className="note">{t('admin.turnaround')}</p>}
        {ta && <TurnaroundTable ta={ta} />}
      </section>
      <section className="card" aria-labelledby="dir-h">
        <h2 id="dir-h">{t('admin.directory')}</h2>
        <p className="note">{t('admin.noDirectoryApi')}</p>
        <p>
          {t('admin.clinics')}: {clinics.join(', ') || t('common.none')}
        </p>
        <p>
          {t('admin.pools')}: {pools.join(', ') || t('common.none')}
        </p>
      </section>
    </div>
  );
}

function BacklogChart({ rows }: { rows: PoolRow[] }) {
  const { t, i18n } = useTranslation();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let chart: { dispose(): void; setOption(o: unknown): void } | null = null;
    let dead = false;
    // echarts is loaded on demand: only administrators pay for it.
    void import('./chart.ts').then(({ makeChart }) => {
      if (dead || !ref.current) return;
      chart = makeChart(ref.current);
      chart.setOption({
        animation: false,
        tooltip: {},
        legend: { data: [t('admin.queued'), t('admin.claimed')] },
        xAxis: { type: 'category', data: rows.map((r) => r.pool) },
        yAxis: { type: 'value', minInterval: 1 },
        series: [
          { name: t('admin.queued'), type: 'bar', stack: 'a', data: rows.map((r) => r.queued) },
          { name: t('admin.claimed'), type: 'bar', stack: 'a', data: rows.map((r) => r.claimed) },
        ],
      });
    });
    return () => {
      dead = true;
      chart?.dispose();
    };
  }, [rows, t, i18n.language]);
  return <div ref={ref} className="chart" role="img" aria-label={t('admin.backlog')} data-testid="backlog-chart" />;
}

interface Figures {
  n: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
}
interface Turnaround {
  from: string;
  to: string;
  groupBy: string;
  rows: { group: string; cases: number; signed: number; slaCompliance: number | null; segments: Record<string, Figures> }[];
}

const SEGMENTS = ['wait', 'read', 'endToEnd'] as const;
const min = (ms: number | null) => (ms === null ? '—' : (ms / 60000).toFixed(1));

/** Turnaround percentiles per pool over the last 24 h and SLA compliance (GET /api/metrics/turnaround). */
function TurnaroundTable({ ta }: { ta: Turnaround }) {
  const { t } = useTranslation();
  const csv = async () => {
    const buf = await fetchBytes('/api/metrics/turnaround?groupBy=pool&format=csv');
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([buf], { type: 'text/csv' }));
    a.download = 'turnaround.csv';
    a.click();
  };
  return (
    <>
      <p className="note">
        {fmtTime(ta.from)} – {fmtTime(ta.to)}
      </p>
      <table className="list" data-testid="turnaround">
        <thead>
          <tr>
            <th>{t('admin.pool')}</th>
            <th>{t('admin.cases')}</th>
            <th>{t('admin.signed')}</th>
            <th>{t('admin.sla')}</th>
            {SEGMENTS.map((s) => (
              <th key={s}>{t(`admin.seg.${s}`)} p50 / p90 (min)</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {ta.rows.map((r) => (
            <tr key={r.group}>
              <td>{r.group}</td>
              <td>{r.cases}</td>
              <td>{r.signed}</td>
              <td>{r.slaCompliance === null ? '—' : `${(r.slaCompliance * 100).toFixed(1)} %`}</td>
              {SEGMENTS.map((s) => (
                <td key={s}>
                  {min(r.segments[s]?.p50Ms ?? null)} / {min(r.segments[s]?.p90Ms ?? null)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={() => void csv()}>
        {t('admin.csv')}
      </button>
    </>
  );
}
