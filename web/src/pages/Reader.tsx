import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type CaseView, type Session } from '../api.ts';
import { ErrorText, PRIORITY_RANK, PriorityBadge, StatusBadge, useNow, usePoll, waitingText } from '../common.tsx';
import { navigate } from '../router.ts';
import { fmtTime } from '../i18n.ts';

export function sortWorklist(items: CaseView[]): CaseView[] {
  return [...items].sort(
    (a, b) =>
      (PRIORITY_RANK[a.priority] ?? 9) - (PRIORITY_RANK[b.priority] ?? 9) ||
      Date.parse(a.timeline.QUEUED ?? a.createdAt) - Date.parse(b.timeline.QUEUED ?? b.createdAt),
  );
}

/** The reader's pools: STAT on top, then oldest first; keyboard: ↑/↓ move, Enter opens a preview. */
export function ReaderHome({ session }: { session: Session }) {
  const { t } = useTranslation();
  const now = useNow(15_000);
  const [items, setItems] = useState<CaseView[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [nothing, setNothing] = useState(false);
  const tbody = useRef<HTMLTableSectionElement>(null);
  usePoll(
    async () => {
      try {
        const [q, c] = await Promise.all([api.listAll({ status: 'QUEUED' }, 400), api.listAll({ status: 'CLAIMED' }, 200)]);
        setItems([...sortWorklist(q), ...c]);
        setError(null);
      } catch (e) {
        setError(e);
      }
    },
    5000,
    [],
  );

  const readNext = async () => {
    setBusy(true);
    setNothing(false);
    setError(null);
    try {
      const r = await api.next();
      if (!r) setNothing(true);
      else navigate(`/reader/read/${r.case.caseId}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const focusRow = (i: number) => {
    const rows = tbody.current?.querySelectorAll<HTMLTableRowElement>('tr');
    if (!rows?.length) return;
    rows[Math.max(0, Math.min(rows.length - 1, i))]!.focus();
  };

  return (
    <section className="card worklist" aria-labelledby="wl-h">
      <div className="row">
        <h1 id="wl-h">
          {t('reader.worklist')} <small>({session.user.pools?.join(', ')})</small>
        </h1>
        <span className="spacer" />
        <button type="button" className="primary big" onClick={readNext} disabled={busy} data-testid="read-next">
          {t('reader.readNext')}
        </button>
      </div>
      {nothing && <p role="status">{t('reader.nothing')}</p>}
      <ErrorText e={error} />
      {!items && <p>{t('common.loading')}</p>}
      {items && items.length === 0 && <p>{t('reader.nothing')}</p>}
      {items && items.length > 0 && (
        <table className="list" data-testid="worklist">
          <thead>
            <tr>
              <th>{t('tech.priority')}</th>
              <th>{t('tech.patient')}</th>
              <th>{t('reader.clinic')}</th>
              <th>{t('tech.modality')}</th>
              <th>{t('reader.pool')}</th>
              <th>{t('reader.waiting')}</th>
              <th>{t('reader.flags')}</th>
              <th>{t('tech.status')}</th>
            </tr>
          </thead>
          <tbody ref={tbody}>
            {items.map((c, i) => {
              const flagged = (c.ecg?.flags.length ?? 0) > 0;
              return (
                <tr
                  key={c.caseId}
                  tabIndex={0}
                  className={`${c.priority === 'stat' ? 'stat' : ''}${flagged ? ' flagged' : ''}`}
                  data-case={c.caseId}
                  data-priority={c.priority}
                  onKeyDown={(e) => {
                    const to = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: items.length - 1 }[e.key];
                    if (to !== undefined) {
                      e.preventDefault();
                      focusRow(to);
                    } else if (e.key === 'Enter') navigate(`/reader/view/${c.caseId}`);
                  }}
                  onDoubleClick={() => navigate(`/reader/view/${c.caseId}`)}
                >
                  <td>
                    <PriorityBadge p={c.priority} />
                  </td>
                  <td>
                    {c.patient.name} <small>{c.patient.id}</small>
                  </td>
                  <td>{c.clinicId}</td>
                  <td>{c.modality ?? '—'}</td>
                  <td>{c.pool}</td>
                  <td>{waitingText(t, c.timeline.QUEUED, now)}</td>
                  <td>
                    {flagged && (
                      <span className="badge flag" title={c.ecg!.flags.join(', ')}>
                        ⚑ {t('reader.flagged')}: {c.ecg!.flags.join(', ')}
                      </span>
                    )}
                  </td>
                  <td>
                    <StatusBadge s={c.status} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <RecentlySigned />
    </section>
  );
}

/** Signed cases of the reader's pools: open one to read it again or to amend its report. */
function RecentlySigned() {
  const { t } = useTranslation();
  const [items, setItems] = useState<CaseView[]>([]);
  usePoll(
    async () => {
      const lists = await Promise.all((['SIGNED', 'DELIVERED', 'ACKNOWLEDGED'] as const).map((status) => api.listCases({ status, limit: 20 })));
      const all = lists.flatMap((l) => l.items);
      all.sort((a, b) => (b.timeline.SIGNED ?? '').localeCompare(a.timeline.SIGNED ?? ''));
      setItems(all.slice(0, 20));
    },
    15_000,
    [],
  );
  if (!items.length) return null;
  return (
    <>
      <h2>{t('reader.recent')}</h2>
      <table className="list" data-testid="recent">
        <thead>
          <tr>
            <th>{t('tech.patient')}</th>
            <th>{t('reader.clinic')}</th>
            <th>{t('tech.modality')}</th>
            <th>{t('tech.status')}</th>
            <th>{t('tech.signedAt')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((c) => (
            <tr key={c.caseId} data-case={c.caseId} className={c.critical && c.status === 'DELIVERED' ? 'critical' : undefined}>
              <td>
                <a
                  href={`/reader/view/${c.caseId}`}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(`/reader/view/${c.caseId}`);
                  }}
                >
                  {c.patient.name} <small>{c.patient.id}</small>
                </a>
              </td>
              <td>{c.clinicId}</td>
              <td>{c.modality}</td>
              <td>
                <StatusBadge s={c.status} />
                {c.report && c.report.version > 1 ? ` v${c.report.version}` : ''}
                {c.critical && (
                  <span className="badge critical" data-testid="recent-critical">
                    {c.status === 'DELIVERED' ? t('reader.criticalOpen') : t('tech.critical')}
                  </span>
                )}
              </td>
              <td>{fmtTime(c.timeline.SIGNED)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
