import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type CaseView, type Session, type SignedReport, type WaveformResponse } from '../api.ts';
import { ErrorText, PriorityBadge, StatusBadge, useNow, waitingText } from '../common.tsx';
import { EcgView } from '../ecg/EcgView.tsx';
import type { Lead } from '../ecg/draw.ts';
import { fmtTime } from '../i18n.ts';
import { navigate } from '../router.ts';
import { fill, templatesFor } from '../templates.ts';
import { Viewer } from '../viewer/Viewer.tsx';

// A release scheduled on unmount is cancelled when the same screen mounts again at once (React's dev
// double mount), so the lease is only given back when the reader really leaves.
const pendingRelease = new Map<string, ReturnType<typeof setTimeout>>();

function useLease(caseId: string, active: boolean, onLost: (msg: string) => void) {
  const done = useRef(false);
  useEffect(() => {
    if (!active) return;
    const pending = pendingRelease.get(caseId);
    if (pending) clearTimeout(pending);
    pendingRelease.delete(caseId);
    let timer: ReturnType<typeof setTimeout>;
    let stopped = false;
    const beat = async (delay: number) => {
      timer = setTimeout(async () => {
        if (stopped || done.current) return;
        try {
          const r = await api.heartbeat(caseId);
          const left = Date.parse(r.lease.expiresAt) - Date.now();
          void beat(Math.max(2000, Math.min(60_000, left / 3)));
        } catch (e) {
          onLost((e as Error).message);
        }
      }, delay);
    };
    void beat(1000);
    const onHide = () => {
      if (!done.current) void api.release(caseId, true).catch(() => {});
    };
    window.addEventListener('pagehide', onHide);
    return () => {
      stopped = true;
      clearTimeout(timer);
      window.removeEventListener('pagehide', onHide);
      if (!done.current) {
        pendingRelease.set(
          caseId,
          setTimeout(() => {
            pendingRelease.delete(caseId);
            void api.release(caseId, true).catch(() => {});
          }, 200),
        );
      }
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [caseId, active]);
  return done;
}

export function ReadingScreen({ caseId, session, readOnly = false }: { caseId: string; session: Session; readOnly?: boolean }) {
  const { t } = useTranslation();
  const now = useNow(15_000);
  const [c, setC] = useState<CaseView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [leaseLost, setLeaseLost] = useState<string | null>(null);
  const [inst, setInst] = useState(0);
  const holding = !readOnly && !!c && c.status === 'CLAIMED' && c.lease?.readerId === session.user.id;
  const done = useLease(caseId, holding, setLeaseLost);

  useEffect(() => {
    api.getCase(caseId).then(setC, setError);
  }, [caseId]);

  if (error) return <ErrorText e={error} />;
  if (!c) return <p>{t('common.loading')}</p>;
  const isEcg = c.modality === 'ECG' || c.pool === 'ecg';
  const instance = c.instances[inst];

  return (
    <div className="reading" data-testid="reading" data-case={caseId}>
      <div className="reading-head">
        <a
          href="/reader"
          onClick={(e) => {
            e.preventDefault();
            navigate('/reader');
          }}
        >
          ← {t('reader.back')}
        </a>
        <strong>
          {c.patient.name} ({c.patient.id}
          {c.patient.sex ? ` · ${c.patient.sex}` : ''}
          {c.patient.birthDate ? ` · ${c.patient.birthDate}` : ''})
        </strong>
        <PriorityBadge p={c.priority} /> <StatusBadge s={c.status} />
        <span>
          {c.modality} · {c.clinicId} · {t('reader.waiting')} {waitingText(t, c.timeline.QUEUED, now)}
        </span>
        {c.lease && holding && <span>{t('reader.leaseUntil', { t: fmtTime(c.lease.expiresAt) })}</span>}
        {holding && (
          <button
            type="button"
            onClick={async () => {
              done.current = true;
              await api.release(caseId).catch(() => {});
              navigate('/reader');
            }}
          >
            {t('reader.release')}
          </button>
        )}
      </div>
      {leaseLost && (
        <p role="alert" className="error">
          {t('reader.leaseLost', { msg: leaseLost })}
        </p>
      )}
      <div className="split">
        <div className="pane-view">
          {c.instances.length > 1 && (
            <div className="tabs" role="tablist">
              {c.instances.map((x, i) => (
                <button key={x.index} role="tab" aria-selected={i === inst} type="button" onClick={() => setInst(i)}>
                  {t('viewer.file', { n: x.index + 1 })}
                </button>
              ))}
            </div>
          )}
          {!instance && <p>{t('reader.noInstances')}</p>}
          {instance && isEcg && <EcgPanel c={c} n={instance.index} />}
          {instance && !isEcg && <Viewer key={instance.href} src={instance.href} />}
        </div>
        <aside className="pane-report">
          {c.clinicalNote && (
            <p>
              <strong>{t('reader.clinicalNote')}:</strong> {c.clinicalNote}
            </p>
          )}
          {c.ecg && <Measurements m={c.ecg.measurements} flags={c.ecg.flags} />}
          {holding && (
            <ReportForm
              c={c}
              onSigned={() => {
                done.current = true;
                setTimeout(() => navigate('/reader'), 800);
              }}
            />
          )}
          <Priors c={c} />
        </aside>
      </div>
    </div>
  );
}

function Measurements({ m, flags }: { m: Record<string, number | boolean | null>; flags: string[] }) {
  const { t } = useTranslation();
  return (
    <section className="measurements advisory" aria-label={t('reader.measurements')} data-testid="measurements">
      <h3>{t('reader.measurements')}</h3>
      <p className="advisory-note">{t('ecg.advisory')}</p>
      {flags.length > 0 && (
        <p className="badge flag">
          ⚑ {t('reader.flagged')}: {flags.join(', ')}
        </p>
      )}
      <dl>
        {Object.entries(m).map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{typeof v === 'number' ? Math.round(v * 10) / 10 : String(v ?? '—')}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function EcgPanel({ c, n }: { c: CaseView; n: number }) {
  const { t } = useTranslation();
  const [w, setW] = useState<WaveformResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.waveform(c.caseId, n).then(setW, (e: Error) => setError(e.message));
  }, [c.caseId, n]);
  const leads = useMemo<Lead[]>(() => {
    if (!w) return [];
    const g = [...w.groups].sort((a, b) => b.leads.length - a.leads.length || b.leads[0]!.mv.length - a.leads[0]!.mv.length)[0];
    return g ? g.leads.map((l) => ({ name: l.name, mv: l.mv, fs: g.samplingFrequency })) : [];
  }, [w]);
  if (error)
    return (
      <p role="alert" className="error" data-testid="ecg-unavailable">
        {t('ecg.unavailable', { msg: error })}
      </p>
    );
  if (!w) return <p>{t('common.loading')}</p>;
  return <EcgView leads={leads} />;
}

function ReportForm({ c, onSigned }: { c: CaseView; onSigned: () => void }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language === 'en' ? 'en' : 'zh-CN';
  const templates = templatesFor(c.modality);
  const [findings, setFindings] = useState('');
  const [impression, setImpression] = useState('');
  const [critical, setCritical] = useState(false);
  const [template, setTemplate] = useState('');
  const [pin, setPin] = useState('');
  const [msg, setMsg] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const body = () => ({ findings, impression, critical, language: lang as 'zh-CN' | 'en', ...(template ? { fields: { template } } : {}) });
  const apply = (id: string) => {
    setTemplate(id);
    const tp = templates.find((x) => x.id === id);
    if (!tp) return;
    const x = lang === 'en' ? tp.en : tp.zh;
    const values = (c.ecg?.measurements ?? {}) as Record<string, number | null>;
    setFindings(fill(x.findings, values));
    setImpression(fill(x.impression, values));
    if (id === 'ecg-stemi') setCritical(true);
  };
  return (
    <form
      className="report-form"
      aria-label={t('reader.reportForm')}
      data-testid="report-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        setMsg(null);
        try {
          await api.saveDraft(c.caseId, body());
          const r = await api.sign(c.caseId, pin);
          setMsg(t('reader.signed', { v: r.version }));
          onSigned();
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>{t('reader.reportForm')}</h2>
      {templates.length > 0 && (
        <label>
          {t('reader.template')}
          <select value={template} onChange={(e) => apply(e.target.value)} name="template">
            <option value="">—</option>
            {templates.map((tp) => (
              <option key={tp.id} value={tp.id}>
                {lang === 'en' ? tp.en.label : tp.zh.label}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        {t('reader.findings')}
        <textarea name="findings" value={findings} onChange={(e) => setFindings(e.target.value)} rows={6} required />
      </label>
      <label>
        {t('reader.impression')}
        <textarea name="impression" value={impression} onChange={(e) => setImpression(e.target.value)} rows={3} required />
      </label>
      <label className={`check${critical ? ' critical' : ''}`}>
        <input type="checkbox" name="critical" checked={critical} onChange={(e) => setCritical(e.target.checked)} />
        {t('reader.critical')}
      </label>
      <div className="row">
        <button
          type="button"
          onClick={async () => {
            setError(null);
            try {
              await api.saveDraft(c.caseId, body());
              setMsg(t('reader.saved'));
            } catch (err) {
              setError(err);
            }
          }}
        >
          {t('reader.saveDraft')}
        </button>
        <label>
          {t('reader.pin')}
          <input name="pin" type="password" inputMode="numeric" autoComplete="off" value={pin} onChange={(e) => setPin(e.target.value)} required minLength={4} />
        </label>
        <button type="submit" className="primary" disabled={busy} data-testid="sign">
          {t('reader.sign')}
        </button>
      </div>
      {msg && (
        <p role="status" data-testid="sign-status">
          {msg}
        </p>
      )}
      <ErrorText e={error} />
    </form>
  );
}

/** Earlier studies of the same patient from the same clinic, openable beside the current one. */
function Priors({ c }: { c: CaseView }) {
  const { t } = useTranslation();
  const [priors, setPriors] = useState<CaseView[] | null>(null);
  const [open, setOpen] = useState<CaseView | null>(null);
  const [rep, setRep] = useState<SignedReport | null>(null);
  useEffect(() => {
    api
      .listAll({ clinicId: c.clinicId }, 400)
      .then((all) => setPriors(all.filter((x) => x.caseId !== c.caseId && x.patient.id === c.patient.id && x.clinicId === c.clinicId)))
      .catch(() => setPriors([]));
  }, [c.caseId, c.clinicId, c.patient.id]);
  const show = async (id: string) => {
    setRep(null);
    const v = await api.getCase(id);
    setOpen(v);
    if (v.report) setRep(await api.report(id).catch(() => null));
  };
  return (
    <section className="priors" aria-label={t('reader.priors')}>
      <h3>{t('reader.priors')}</h3>
      {priors && priors.length === 0 && <p>{t('reader.noPriors')}</p>}
      <ul>
        {priors?.map((p) => (
          <li key={p.caseId}>
            <button type="button" className="link" onClick={() => void show(p.caseId)}>
              {fmtTime(p.createdAt)} · {p.modality} · {t(`status.${p.status}`)}
            </button>
          </li>
        ))}
      </ul>
      {open && (
        <div className="prior-open" data-testid="prior">
          <p>
            <strong>
              {fmtTime(open.createdAt)} · {open.modality}
            </strong>{' '}
            <button type="button" onClick={() => setOpen(null)}>
              {t('common.close')}
            </button>
          </p>
          {rep && (
            <p className="pre">
              {rep.report.findings}
              {'\n'}
              <strong>{rep.report.impression}</strong>
            </p>
          )}
          {open.instances[0] && (open.modality === 'ECG' ? <EcgPanel c={open} n={open.instances[0].index} /> : <Viewer src={open.instances[0].href} />)}
        </div>
      )}
    </section>
  );
}
