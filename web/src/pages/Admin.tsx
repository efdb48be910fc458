import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call, fetchBytes, type CaseView, type Consortium } from '../api.ts';
import { ErrorText, PriorityBadge, StatusBadge, usePoll } from '../common.tsx';
import { fmtTime } from '../i18n.ts';

type TFn = (k: string, o?: Record<string, unknown>) => string;

interface PoolRow {
  pool: string;
  queued: number;
  claimed: number;
  stat: number;
  /** Minutes the oldest waiting case has waited (by the server's clock). */
  oldestMin: number | null;
  oldestSince: string | null;
}

interface BacklogResponse {
  pools: { pool: string; waiting: number; claimed: number; oldestWaitingSince: string | null; oldestWaitingMs: number | null }[];
}

/** Backlog per pool from the cases themselves (used when GET /api/metrics/backlog is unavailable). */
export function backlog(items: CaseView[], now = Date.now()): PoolRow[] {
  const m = new Map<string, PoolRow>();
  for (const c of items) {
    if (c.status !== 'QUEUED' && c.status !== 'CLAIMED') continue;
    const k = c.pool ?? '—';
    const r = m.get(k) ?? { pool: k, queued: 0, claimed: 0, stat: 0, oldestMin: null, oldestSince: null };
    if (c.status === 'QUEUED') r.queued++;
    else r.claimed++;
    if (c.priority === 'stat') r.stat++;
    const since = c.timeline.QUEUED;
    if (c.status === 'QUEUED' && since && (!r.oldestSince || since < r.oldestSince)) {
      r.oldestSince = since;
      r.oldestMin = (now - Date.parse(since)) / 60_000;
    }
    m.set(k, r);
  }
  return [...m.values()].sort((a, b) => a.pool.localeCompare(b.pool));
}

export const SEGMENTS = ['ingest', 'wait', 'read', 'deliver', 'endToEnd'] as const;
export type Segment = (typeof SEGMENTS)[number];
export const GROUPS = ['pool', 'modality', 'clinic', 'priority', 'reader', 'none'] as const;
export type GroupBy = (typeof GROUPS)[number];
const RANGES = { '24h': 24, '7d': 24 * 7, '30d': 24 * 30 } as const;
type Range = keyof typeof RANGES | 'custom';

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
  rows: { group: string; cases: number; signed: number; slaCompliance: number | null; segments: Partial<Record<Segment, Figures>> }[];
}

const minutes = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : Math.round(ms / 6000) / 10);
const minText = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : (ms / 60000).toFixed(1));
const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
/** "12 min" or "2 h 5 min" for a number of minutes. */
function durText(t: TFn, min: number | null): string {
  if (min === null || !Number.isFinite(min)) return '—';
  const m = Math.max(0, Math.floor(min));
  return m < 60 ? t('reader.minutes', { n: m }) : t('reader.hours', { h: Math.floor(m / 60), m: m % 60 });
}

/** A `datetime-local` value (local time, minutes) for an instant, and back. */
const toLocalInput = (ms: number) => {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};

/**
 * The administrator's dashboard (issue 6): turnaround percentiles and SLA compliance as charts with filters,
 * CSV export, backlog per pool, cases near or past breach, critical results awaiting acknowledgement,
 * readers' current load, and the consortium's clinics, readers and pools.
 *
 * Ages are measured on the server's clock (learned from the turnaround answer's `to`), not the browser's:
 * a township PC's clock is often wrong, and the figures must agree with the server's.
 */
export function AdminHome() {
  const { t } = useTranslation();
  const [consortium, setConsortium] = useState<Consortium | null>(null);
  const [queue, setQueue] = useState<CaseView[] | null>(null);
  const [delivered, setDelivered] = useState<CaseView[] | null>(null);
  const [bl, setBl] = useState<BacklogResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  // Server clock minus browser clock (ms).
  const [skew, setSkew] = useState(0);
  const [tick, setTick] = useState(Date.now());
  const now = tick + skew;

  useEffect(() => {
    api.consortium().then(setConsortium, () => setConsortium(null));
  }, []);
  usePoll(
    async () => {
      try {
        const [q, c, d, b] = await Promise.all([
          api.listAll({ status: 'QUEUED' }, 2000),
          api.listAll({ status: 'CLAIMED' }, 1000),
          api.listAll({ status: 'DELIVERED' }, 2000),
          call<BacklogResponse>('GET', '/api/metrics/backlog').catch(() => null),
        ]);
        setQueue([...q, ...c]);
        setDelivered(d);
        setBl(b);
        setTick(Date.now());
        setError(null);
      } catch (e) {
        setError(e);
      }
    },
    15_000,
    [],
  );

  const names = useMemo(() => {
    const clinic = new Map((consortium?.clinics ?? []).map((x) => [x.id, x.name]));
    const pool = new Map((consortium?.pools ?? []).map((x) => [x.id, x.name]));
    const user = new Map((consortium?.users ?? []).map((x) => [x.id, x.displayName]));
    return { clinic, pool, user };
  }, [consortium]);

  const rows = useMemo<PoolRow[]>(() => {
    if (!bl) return backlog(queue ?? [], now);
    const stat = backlog(queue ?? [], now);
    return bl.pools
      .map((r) => ({
        pool: r.pool,
        queued: r.waiting,
        claimed: r.claimed,
        stat: stat.find((x) => x.pool === r.pool)?.stat ?? 0,
        oldestMin: r.oldestWaitingMs === null ? null : r.oldestWaitingMs / 60_000,
        oldestSince: r.oldestWaitingSince,
      }))
      .sort((a, b) => a.pool.localeCompare(b.pool));
    // `now` is left out on purpose: the server's oldestWaitingMs is already measured on its clock.
  }, [bl, queue]);

  return (
    <div className="admin" data-testid="admin-dashboard">
      <h1 className="visually-hidden">{t('admin.dashboard')}</h1>
      <ErrorText e={error} />
      <CriticalOpen delivered={delivered} now={now} names={names} />
      <TurnaroundSection names={names} onServerNow={(serverNow, at) => setSkew(serverNow - at)} skew={skew} />
      <div className="admin-grid">
        <section className="card" aria-labelledby="bl-h">
          <h2 id="bl-h">{t('admin.backlog')}</h2>
          {!queue && <p>{t('common.loading')}</p>}
          {queue && (
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
                  <tr key={r.pool} data-pool={r.pool} title={names.pool.get(r.pool)}>
                    <td>{r.pool}</td>
                    <td>{r.queued}</td>
                    <td>{r.claimed}</td>
                    <td>{r.stat}</td>
                    <td title={r.oldestSince ? fmtTime(r.oldestSince) : undefined}>{r.oldestMin === null ? '' : durText(t, r.oldestMin)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {queue && <BacklogChart rows={rows} />}
        </section>
        <ReaderLoad queue={queue} consortium={consortium} names={names} />
      </div>
      <NearBreach queue={queue} now={now} names={names} />
      <Directory consortium={consortium} />
    </div>
  );
}

interface Names {
  clinic: Map<string, string>;
  pool: Map<string, string>;
  user: Map<string, string>;
}

/** One echarts canvas; echarts is loaded on demand (only administrators pay for it). */
function Chart({ option, testid, label, height = 260 }: { option: Record<string, unknown>; testid: string; label: string; height?: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<{ dispose(): void; setOption(o: unknown, notMerge?: boolean): void; resize(): void } | null>(null);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    let dead = false;
    void import('./chart.ts').then(({ makeChart }) => {
      if (dead || !ref.current) return;
      chart.current = makeChart(ref.current);
      setReady(true);
    });
    const onResize = () => chart.current?.resize();
    window.addEventListener('resize', onResize);
    return () => {
      dead = true;
      window.removeEventListener('resize', onResize);
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    if (ready) chart.current?.setOption({ animation: false, ...option }, true);
  }, [ready, option]);
  return <div ref={ref} className="chart" style={{ height }} role="img" aria-label={label} data-testid={testid} data-drawn={ready ? '1' : '0'} />;
}

function BacklogChart({ rows }: { rows: PoolRow[] }) {
  const { t, i18n } = useTranslation();
  const option = useMemo(
    () => ({
      tooltip: { trigger: 'axis' },
      legend: { top: 0, right: 0, data: [t('admin.queued'), t('admin.claimed')] },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      xAxis: { type: 'category', data: rows.map((r) => r.pool) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { name: t('admin.queued'), type: 'bar', stack: 'a', data: rows.map((r) => r.queued), itemStyle: { color: '#d97706' } },
        { name: t('admin.claimed'), type: 'bar', stack: 'a', data: rows.map((r) => r.claimed), itemStyle: { color: '#2563eb' } },
      ],
    }),
    [rows, i18n.language],
  );
  return <Chart option={option} testid="backlog-chart" label={t('admin.backlog')} height={220} />;
}

function groupLabel(t: TFn, by: string, g: string, names: Names): string {
  if (by === 'priority' && ['stat', 'urgent', 'routine'].includes(g)) return t(`priority.${g}`);
  if (['unsigned', 'unrouted', 'unknown', 'all'].includes(g)) return t(`admin.group.${g}`);
  if (by === 'reader') return names.user.get(g) ?? g;
  return g;
}

/** Turnaround percentiles and SLA compliance with filters, as charts and a table, and the CSV of the same figures. */
function TurnaroundSection({ names, skew, onServerNow }: { names: Names; skew: number; onServerNow: (serverNow: number, at: number) => void }) {
  const { t, i18n } = useTranslation();
  const [range, setRange] = useState<Range>('24h');
  const [groupBy, setGroupBy] = useState<GroupBy>('pool');
  const [segment, setSegment] = useState<Segment>('endToEnd');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [ta, setTa] = useState<Turnaround | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [csvError, setCsvError] = useState<unknown>(null);

  /** The query of the current filters; 24 h asks the server for its own last 24 h (and tells us its clock). */
  const query = (): string | null => {
    const p = new URLSearchParams({ groupBy });
    if (range === 'custom') {
      if (!from || !to) return null;
      const f = new Date(from);
      const u = new Date(to);
      if (Number.isNaN(f.getTime()) || Number.isNaN(u.getTime()) || f >= u) return null;
      p.set('from', f.toISOString());
      p.set('to', u.toISOString());
    } else if (range !== '24h') {
      const end = Date.now() + skew;
      p.set('from', new Date(end - RANGES[range] * 3600_000).toISOString());
      p.set('to', new Date(end).toISOString());
    }
    return p.toString();
  };
  // The query is built when the poll fires (a rolling range moves with the clock), so the deps are the filters.
  const valid = range !== 'custom' || query() !== null;
  usePoll(
    async () => {
      const q = query();
      if (!q) return;
      try {
        const t0 = Date.now();
        const r = await call<Turnaround>('GET', `/api/metrics/turnaround?${q}`);
        if (!q.includes('to=')) onServerNow(Date.parse(r.to), (t0 + Date.now()) / 2);
        setTa(r);
        setError(null);
      } catch (e) {
        setError(e);
      }
    },
    30_000,
    [range, groupBy, from, to],
  );

  const csv = async () => {
    setCsvError(null);
    try {
      // The very figures on screen: the range the server answered, fetched with the bearer token.
      const p = new URLSearchParams({ groupBy, format: 'csv', ...(ta ? { from: ta.from, to: ta.to } : {}) });
      const buf = await fetchBytes(`/api/metrics/turnaround?${p}`);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([buf], { type: 'text/csv' }));
      const stamp = (iso?: string) => (iso ?? '').slice(0, 16).replace(/[-:T]/g, '');
      a.download = `turnaround-${groupBy}${ta ? `-${stamp(ta.from)}-${stamp(ta.to)}` : ''}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    } catch (e) {
      setCsvError(e);
    }
  };

  const shown = ta && ta.groupBy === groupBy ? ta : null;
  const labels = useMemo(() => (shown?.rows ?? []).map((r) => groupLabel(t, groupBy, r.group, names)), [shown, groupBy, names, t]);
  const percentileOption = useMemo(
    () => ({
      tooltip: { trigger: 'axis', valueFormatter: (v: number | null) => (v === null ? '—' : `${v} min`) },
      legend: { top: 0, right: 0, data: ['p50', 'p90', 'p99'] },
      grid: { left: 48, right: 16, top: 36, bottom: 56 },
      xAxis: { type: 'category', data: labels, axisLabel: { interval: 0, rotate: labels.length > 6 ? 30 : 0 } },
      yAxis: { type: 'value', name: t('admin.minutes') },
      series: (['p50', 'p90', 'p99'] as const).map((k, i) => ({
        name: k,
        type: 'bar',
        data: (shown?.rows ?? []).map((r) => minutes(r.segments[segment]?.[`${k}Ms`])),
        itemStyle: { color: ['#60a5fa', '#2563eb', '#1e3a8a'][i] },
      })),
    }),
    [shown, segment, labels, i18n.language],
  );
  const slaOption = useMemo(
    () => ({
      tooltip: { trigger: 'axis', valueFormatter: (v: number | null) => (v === null ? '—' : `${v} %`) },
      grid: { left: 48, right: 16, top: 24, bottom: 56 },
      xAxis: { type: 'category', data: labels, axisLabel: { interval: 0, rotate: labels.length > 6 ? 30 : 0 } },
      yAxis: { type: 'value', min: 0, max: 100, name: '%' },
      series: [
        {
          name: t('admin.sla'),
          type: 'bar',
          data: (shown?.rows ?? []).map((r) =>
            r.slaCompliance === null
              ? null
              : { value: Math.round(r.slaCompliance * 1000) / 10, itemStyle: { color: r.slaCompliance >= 0.9 ? '#16a34a' : r.slaCompliance >= 0.7 ? '#d97706' : '#dc2626' } },
          ),
          label: { show: true, position: 'top', formatter: '{c}' },
        },
      ],
    }),
    [shown, labels, i18n.language],
  );

  return (
    <section className="card" aria-labelledby="ta-h" data-testid="turnaround-section">
      <h2 id="ta-h">{t('admin.turnaroundTitle')}</h2>
      <form className="filters row" onSubmit={(e) => e.preventDefault()} aria-label={t('admin.filters')}>
        <label>
          {t('admin.range')}
          <select
            name="range"
            value={range}
            onChange={(e) => {
              const r = e.target.value as Range;
              if (r === 'custom' && !from) {
                const end = Date.now() + skew;
                setFrom(toLocalInput(end - 24 * 3600_000));
                setTo(toLocalInput(end));
              }
              setRange(r);
            }}
          >
            {(['24h', '7d', '30d', 'custom'] as const).map((r) => (
              <option key={r} value={r}>
                {t(`admin.ranges.${r}`)}
              </option>
            ))}
          </select>
        </label>
        {range === 'custom' && (
          <>
            <label>
              {t('admin.from')}
              <input type="datetime-local" name="from" value={from} onChange={(e) => setFrom(e.target.value)} />
            </label>
            <label>
              {t('admin.to')}
              <input type="datetime-local" name="to" value={to} onChange={(e) => setTo(e.target.value)} />
            </label>
          </>
        )}
        <label>
          {t('admin.groupBy')}
          <select name="groupBy" value={groupBy} onChange={(e) => setGroupBy(e.target.value as GroupBy)}>
            {GROUPS.map((g) => (
              <option key={g} value={g}>
                {t(`admin.groups.${g}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('admin.segment')}
          <select name="segment" value={segment} onChange={(e) => setSegment(e.target.value as Segment)}>
            {SEGMENTS.map((s) => (
              <option key={s} value={s}>
                {t(`admin.seg.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <span className="spacer" />
        <button type="button" onClick={() => void csv()} data-testid="csv">
          {t('admin.csv')}
        </button>
      </form>
      {!valid && <p className="error">{t('admin.badRange')}</p>}
      <ErrorText e={error} />
      <ErrorText e={csvError} />
      {!ta && !error && <p>{t('common.loading')}</p>}
      {ta && (
        <p className="note" data-testid="range">
          {fmtTime(ta.from)} – {fmtTime(ta.to)} · {t('admin.segmentHelp')}
        </p>
      )}
      {shown && shown.rows.length === 0 && <p data-testid="turnaround-empty">{t('admin.noFigures')}</p>}
      {shown && shown.rows.length > 0 && (
        <>
          <div className="charts">
            <figure>
              <figcaption>
                {t(`admin.seg.${segment}`)} p50 / p90 / p99 ({t('admin.minutes')})
              </figcaption>
              <Chart option={percentileOption} testid="turnaround-chart" label={`${t(`admin.seg.${segment}`)} p50 / p90 / p99`} />
            </figure>
            <figure>
              <figcaption>{t('admin.slaCaption')}</figcaption>
              <Chart option={slaOption} testid="sla-chart" label={t('admin.sla')} />
            </figure>
          </div>
          <table className="list" data-testid="turnaround">
            <thead>
              <tr>
                <th>{t(`admin.groups.${groupBy}`)}</th>
                <th>{t('admin.cases')}</th>
                <th>{t('admin.signed')}</th>
                <th>{t('admin.sla')}</th>
                {SEGMENTS.map((s) => (
                  <th key={s} className={s === segment ? 'current' : undefined}>
                    {t(`admin.seg.${s}`)} p50 / p90 / p99
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shown.rows.map((r, i) => (
                <tr key={r.group} data-group={r.group}>
                  <td title={groupBy === 'clinic' ? names.clinic.get(r.group) : groupBy === 'pool' ? names.pool.get(r.group) : undefined}>{labels[i]}</td>
                  <td>{r.cases}</td>
                  <td>{r.signed}</td>
                  <td className={r.slaCompliance !== null && r.slaCompliance < 0.9 ? 'warn' : undefined}>{pct(r.slaCompliance)}</td>
                  {SEGMENTS.map((s) => (
                    <td key={s} className={s === segment ? 'current' : undefined}>
                      {minText(r.segments[s]?.p50Ms)} / {minText(r.segments[s]?.p90Ms)} / {minText(r.segments[s]?.p99Ms)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

/** Waiting or claimed cases with an SLA warning or breach on their timeline, breaches first, then the longest waiting. */
export function nearBreach(queue: CaseView[]): { c: CaseView; state: 'breach' | 'warning'; at: string }[] {
  const out: { c: CaseView; state: 'breach' | 'warning'; at: string }[] = [];
  for (const c of queue) {
    if (c.status !== 'QUEUED' && c.status !== 'CLAIMED') continue;
    const breach = c.escalations.find((e) => e.kind === 'sla-breach');
    const warn = c.escalations.find((e) => e.kind === 'sla-warning');
    if (breach) out.push({ c, state: 'breach', at: breach.at });
    else if (warn) out.push({ c, state: 'warning', at: warn.at });
  }
  return out.sort((a, b) => (a.state === b.state ? (a.c.timeline.QUEUED ?? '').localeCompare(b.c.timeline.QUEUED ?? '') : a.state === 'breach' ? -1 : 1));
}

function NearBreach({ queue, now, names }: { queue: CaseView[] | null; now: number; names: Names }) {
  const { t } = useTranslation();
  const items = useMemo(() => nearBreach(queue ?? []), [queue]);
  return (
    <section className="card" aria-labelledby="nb-h">
      <h2 id="nb-h">
        {t('admin.nearBreach')} <small>({items.length})</small>
      </h2>
      {queue && items.length === 0 && <p>{t('admin.noneNearBreach')}</p>}
      {items.length > 0 && (
        <table className="list" data-testid="near-breach">
          <thead>
            <tr>
              <th>{t('admin.slaState')}</th>
              <th>{t('tech.patient')}</th>
              <th>{t('reader.clinic')}</th>
              <th>{t('admin.pool')}</th>
              <th>{t('tech.priority')}</th>
              <th>{t('reader.waiting')}</th>
              <th>{t('tech.status')}</th>
              <th>{t('admin.reader')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map(({ c, state, at }) => (
              <tr key={c.caseId} data-case={c.caseId} data-state={state} className={state}>
                <td>
                  <span className={`badge sla-${state}`} title={fmtTime(at)}>
                    {t(`admin.sla_${state}`)}
                  </span>
                </td>
                <td>
                  {c.patient.name} <small>{c.patient.id}</small>
                </td>
                <td title={names.clinic.get(c.clinicId)}>{c.clinicId}</td>
                <td>{c.pool}</td>
                <td>
                  <PriorityBadge p={c.priority} />
                  {c.requestedPriority !== c.priority && <small> ({t('admin.raisedFrom', { p: t(`priority.${c.requestedPriority}`) })})</small>}
                </td>
                <td>{c.timeline.QUEUED ? durText(t, (now - Date.parse(c.timeline.QUEUED)) / 60_000) : '—'}</td>
                <td>
                  <StatusBadge s={c.status} />
                </td>
                <td>{c.lease ? (names.user.get(c.lease.readerId) ?? c.lease.readerId) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Delivered critical results whose loop is still open (no acknowledgement with read-back yet). */
export function criticalOpen(delivered: CaseView[]): CaseView[] {
  return delivered
    .filter((c) => c.status === 'DELIVERED' && c.critical && !c.criticalResult?.receivedAt)
    .sort((a, b) => (a.criticalResult?.notifiedAt ?? a.timeline.DELIVERED ?? '').localeCompare(b.criticalResult?.notifiedAt ?? b.timeline.DELIVERED ?? ''));
}

function CriticalOpen({ delivered, now, names }: { delivered: CaseView[] | null; now: number; names: Names }) {
  const { t } = useTranslation();
  const items = useMemo(() => criticalOpen(delivered ?? []), [delivered]);
  return (
    <section className="card" aria-labelledby="cr-h">
      <h2 id="cr-h">
        {t('admin.criticalOpen')} <small>({items.length})</small>
      </h2>
      {delivered && items.length === 0 && <p>{t('admin.noCriticalOpen')}</p>}
      {items.length > 0 && (
        <table className="list" data-testid="critical-open">
          <thead>
            <tr>
              <th>{t('tech.patient')}</th>
              <th>{t('reader.clinic')}</th>
              <th>{t('admin.finding')}</th>
              <th>{t('admin.reader')}</th>
              <th>{t('admin.notifiedAt')}</th>
              <th>{t('admin.sinceNotified')}</th>
              <th>{t('admin.escalations')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => {
              const at = c.criticalResult?.notifiedAt ?? c.timeline.DELIVERED;
              const since = at ? (now - Date.parse(at)) / 60_000 : null;
              const esc = c.escalations.filter((e) => e.kind === 'critical-unacknowledged').length;
              return (
                <tr key={c.caseId} data-case={c.caseId} className="critical" data-escalations={esc}>
                  <td>
                    {c.patient.name} <small>{c.patient.id}</small>
                  </td>
                  <td title={c.clinicId}>{names.clinic.get(c.clinicId) ?? c.clinicId}</td>
                  <td>{c.criticalResult?.finding ?? '—'}</td>
                  <td>{c.criticalResult ? (names.user.get(c.criticalResult.readerId) ?? c.criticalResult.readerId) : ''}</td>
                  <td>{fmtTime(at)}</td>
                  <td data-testid="since-notified">{durText(t, since)}</td>
                  <td>{esc}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Claimed cases per reader (every reader of the consortium, idle ones with 0). */
function ReaderLoad({ queue, consortium, names }: { queue: CaseView[] | null; consortium: Consortium | null; names: Names }) {
  const { t } = useTranslation();
  const load = useMemo(() => {
    const m = new Map<string, { id: string; pools: string[]; cases: CaseView[] }>();
    for (const u of consortium?.users ?? []) if (u.role === 'reader') m.set(u.id, { id: u.id, pools: u.pools ?? [], cases: [] });
    for (const c of queue ?? []) {
      if (c.status !== 'CLAIMED' || !c.lease) continue;
      const r = m.get(c.lease.readerId) ?? { id: c.lease.readerId, pools: [], cases: [] };
      r.cases.push(c);
      m.set(r.id, r);
    }
    return [...m.values()].sort((a, b) => b.cases.length - a.cases.length || a.id.localeCompare(b.id));
  }, [queue, consortium]);
  return (
    <section className="card" aria-labelledby="rl-h">
      <h2 id="rl-h">{t('admin.readerLoad')}</h2>
      {load.length === 0 && <p>{queue ? t('common.none') : t('common.loading')}</p>}
      {load.length > 0 && (
        <table className="list" data-testid="reader-load">
          <thead>
            <tr>
              <th>{t('admin.reader')}</th>
              <th>{t('admin.pools')}</th>
              <th>{t('admin.claimedNow')}</th>
              <th>{t('admin.reading')}</th>
            </tr>
          </thead>
          <tbody>
            {load.map((r) => (
              <tr key={r.id} data-reader={r.id} data-load={r.cases.length}>
                <td>{names.user.get(r.id) ?? r.id}</td>
                <td>{r.pools.join(', ')}</td>
                <td>
                  <strong>{r.cases.length}</strong>
                </td>
                <td>{r.cases.map((c) => `${c.patient.name} (${c.pool})`).join('; ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The consortium's clinics, readers and pools (GET /api/consortium). */
function Directory({ consortium }: { consortium: Consortium | null }) {
  const { t } = useTranslation();
  if (!consortium) return null;
  const readers = (consortium.users ?? []).filter((u) => u.role === 'reader');
  return (
    <section className="card directory" aria-labelledby="dir-h" data-testid="directory">
      <h2 id="dir-h">
        {t('admin.directory')} <small>{consortium.name}</small>
      </h2>
      <div className="admin-grid three">
        <div>
          <h3>
            {t('admin.clinics')} ({consortium.clinics.length})
          </h3>
          <ul data-testid="clinics">
            {consortium.clinics.map((c) => (
              <li key={c.id}>
                {c.name} <small>{c.id}</small>
              </li>
            ))}
          </ul>
        </div>
        <div>
          <h3>
            {t('admin.readers')} ({readers.length})
          </h3>
          <ul data-testid="readers">
            {readers.map((u) => (
              <li key={u.id}>
                {u.displayName} <small>{[u.pools?.join(', '), u.licenceNumber].filter(Boolean).join(' · ')}</small>
              </li>
            ))}
          </ul>
        </div>
        <div>
          <h3>
            {t('admin.pools')} ({consortium.pools.length})
          </h3>
          <ul data-testid="pools">
            {consortium.pools.map((p) => (
              <li key={p.id}>
                {p.name} <small>{p.id}</small>
              </li>
            ))}
          </ul>
        </div>
      </div>
    </section>
  );
}
