import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, type CaseView, type Session, type SignedReport, type WaveformResponse } from '../api.ts';
import { ErrorText, PriorityBadge, signingLockEndsAt, StatusBadge, useNow, waitingText } from '../common.tsx';
import { EcgView } from '../ecg/EcgView.tsx';
import type { Lead } from '../ecg/draw.ts';
import { fmtTime } from '../i18n.ts';
import { navigate } from '../router.ts';
import { fill, templatesFor } from '../templates.ts';
import { templateForModality, type FieldValue } from '../../../shared/contracts/report.ts';
import { Viewer } from '../viewer/Viewer.tsx';

/**
 * Signing locked (SIGN.PIN_LOCKED): `lock(e)` remembers when the lock ends, counted from the answer's
 * arrival (this computer's clock may be off), whatever happens to the error shown; `locked` says whether
 * it has not run out yet (re-checked every 5 s).
 */
function useSigningLock(): { locked: boolean; lock: (e: unknown) => void } {
  const [ends, setEnds] = useState(0);
  useNow(5_000); // re-renders, so the button comes back when the lock ends
  return { locked: Date.now() < ends, lock: (e) => setEnds((x) => Math.max(x, signingLockEndsAt(e) ?? 0)) };
}

// A release scheduled on unmount is cancelled when the same screen mounts again at once (React's dev
// double mount), so the lease is only given back when the reader really leaves.
const pendingRelease = new Map<string, ReturnType<typeof setTimeout>>();

/**
 * Keeps the lease `leaseId` (null: none held) alive and gives it back when the reader leaves.
 * `initialExpiresAt`: the lease's end as the case view gave it.
 */
function useLease(caseId: string, leaseId: string | null, initialExpiresAt: string | null, onLost: (e: unknown) => void, onBeat: (expiresAt: string) => void) {
  const done = useRef(false);
  useEffect(() => {
    if (!leaseId) return;
    const pending = pendingRelease.get(caseId);
    if (pending) clearTimeout(pending);
    pendingRelease.delete(caseId);
    let timer: ReturnType<typeof setTimeout>;
    let stopped = false;
    // Until the first answer, the end the case view gave (a minute if it gave none).
    const initial = Date.parse(initialExpiresAt ?? '');
    let expiresAt = Number.isFinite(initial) ? initial : Date.now() + 60_000;
    const beat = async (delay: number) => {
      timer = setTimeout(async () => {
        if (stopped || done.current) return;
        try {
          const r = await api.heartbeat(caseId, leaseId);
          onBeat(r.lease.expiresAt);
          expiresAt = Date.parse(r.lease.expiresAt);
          void beat(Math.max(2000, Math.min(60_000, (expiresAt - Date.now()) / 3)));
        } catch (e) {
          // Only the server's word ends the lease (or a signing lock); a network blip or a busy gateway
          // is tried again while the lease still has time.
          const code = (e as { code?: string }).code ?? '';
          if (code.startsWith('LEASE.') || code === 'SIGN.PIN_LOCKED' || expiresAt - Date.now() < 5000) onLost(e);
          else void beat(5000);
        }
      }, delay);
    };
    void beat(1000);
    const onHide = () => {
      if (!done.current) void api.release(caseId, leaseId, true).catch(() => {});
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
            void api.release(caseId, leaseId, true).catch(() => {});
          }, 200),
        );
      }
    };
  }, [caseId, leaseId]);
  return done;
}

export function ReadingScreen({ caseId, session, readOnly = false }: { caseId: string; session: Session; readOnly?: boolean }) {
  const { t } = useTranslation();
  const now = useNow(15_000);
  const [c, setC] = useState<CaseView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [leaseLost, setLeaseLost] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [lockedOut, setLockedOut] = useState<unknown>(null);
  const [inst, setInst] = useState(0);
  const holding = !readOnly && !!c && c.status === 'CLAIMED' && c.lease?.readerId === session.user.id;
  const leaseId = holding ? c.lease!.id : null;
  const [leaseUntil, setLeaseUntil] = useState<string | null>(null);
  // Signing locked after wrong PINs: the case goes back to the queue; stop holding it and say why.
  const onLocked = (e: unknown) => {
    done.current = true;
    setLockedOut(e);
    api.getCase(caseId).then(setC, setError);
  };
  // The report form's "save what is typed now", for giving the case back without losing the text.
  const saveTyped = useRef<(() => Promise<void>) | null>(null);
  // A heartbeat refused for a lock set elsewhere (an amendment, another window): save, give back, say so.
  const onHeartbeatLocked = async (e: unknown) => {
    done.current = true;
    const draftSaved = await (saveTyped.current?.() ?? Promise.reject(new Error('no form'))).then(() => true, () => false);
    const released = leaseId ? await api.release(caseId, leaseId).then(() => true, () => false) : false;
    const x = e as ApiError;
    onLocked(released ? new ApiError(x.status, x.code, x.message, { ...x.details, released, draftSaved }, x.receivedAt) : e);
  };
  const done = useLease(
    caseId,
    leaseId,
    holding ? c.lease!.expiresAt : null,
    (e) => {
      if (signingLockEndsAt(e)) return void onHeartbeatLocked(e);
      // Nothing more is done under a lost lease (no save, no sign, no release); the text stays to copy.
      done.current = true;
      setLeaseLost((e as Error).message);
    },
    setLeaseUntil,
  );

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
        {c.critical && (
          <span className="badge critical" data-testid="case-critical" title={c.criticalResult?.finding}>
            {c.criticalResult?.receivedAt ? t('tech.critical') : t('reader.criticalOpen')}
          </span>
        )}
        <span>
          {c.modality} · {c.clinicId} · {t('reader.waiting')} {waitingText(t, c.timeline.QUEUED, now)}
        </span>
        {c.lease && holding && <span data-testid="lease-until">{t('reader.leaseUntil', { t: fmtTime(leaseUntil ?? c.lease.expiresAt) })}</span>}
        {holding && (
          <button
            type="button"
            onClick={async () => {
              done.current = true;
              if (leaseId) await api.release(caseId, leaseId).catch(() => {});
              navigate('/reader');
            }}
          >
            {t('reader.release')}
          </button>
        )}
      </div>
      <ErrorText e={lockedOut} />
      {notice && (
        <p role="status" className="note" data-testid="reading-notice">
          {notice}
        </p>
      )}
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
              leaseId={leaseId!}
              leaseGone={leaseLost !== null}
              onSigned={(notice) => {
                done.current = true;
                // A notice to read: stay, with the signed version shown and the amend form to add what
                // the draft says.
                if (notice) {
                  setNotice(notice);
                  api.getCase(caseId).then(setC, setError);
                } else setTimeout(() => navigate('/reader'), 800);
              }}
              onLocked={onLocked}
              saveTyped={saveTyped}
            />
          )}
          {!holding && c.report && <SignedReportPanel c={c} onAmended={() => api.getCase(caseId).then(setC, setError)} />}
          <Priors c={c} />
        </aside>
      </div>
    </div>
  );
}

/** Measurement values under the names the report fields use (QTc: the device's, else Fridericia, else Bazett). */
function ecgValues(m: Record<string, number | boolean | null> | undefined): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(m ?? {})) out[k] = typeof v === 'number' ? v : null;
  out.qtcMs ??= out.qtcFridericiaMs ?? out.qtcBazettMs ?? null;
  return out;
}

const MEASURE_LABELS: Record<string, { zh: string; en: string }> = {
  heartRate: { zh: '心率 (次/分)', en: 'Heart rate (bpm)' },
  rrMeanMs: { zh: 'RR 均值 (ms)', en: 'Mean RR (ms)' },
  rrSdMs: { zh: 'RR 标准差 (ms)', en: 'RR SD (ms)' },
  rrIrregular: { zh: 'RR 不规则', en: 'Irregular RR' },
  prMs: { zh: 'PR 间期 (ms)', en: 'PR (ms)' },
  qrsMs: { zh: 'QRS 时限 (ms)', en: 'QRS (ms)' },
  qtMs: { zh: 'QT 间期 (ms)', en: 'QT (ms)' },
  qtcMs: { zh: 'QTc (ms)', en: 'QTc (ms)' },
  qtcBazettMs: { zh: 'QTc Bazett (ms)', en: 'QTc Bazett (ms)' },
  qtcFridericiaMs: { zh: 'QTc Fridericia (ms)', en: 'QTc Fridericia (ms)' },
  longestRrMs: { zh: '最长 RR (ms)', en: 'Longest RR (ms)' },
  beats: { zh: '心搏数', en: 'Beats' },
};

function Measurements({ m, flags }: { m: Record<string, number | boolean | null>; flags: string[] }) {
  const { t, i18n } = useTranslation();
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
            <dt>{MEASURE_LABELS[k] ? (i18n.language === 'en' ? MEASURE_LABELS[k].en : MEASURE_LABELS[k].zh) : k}</dt>
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
    let dead = false;
    // The server decodes the leads (DICOM waveform, HL7 aECG, SCP-ECG) in its parse worker.
    api.waveform(c.caseId, n).then(
      (x) => !dead && setW(x),
      (e: ApiError) => !dead && setError(e.message),
    );
    return () => {
      dead = true;
    };
  }, [c.caseId, c.instances, n]);
  const leads = useMemo<Lead[]>(() => {
    if (!w) return [];
    // The rhythm group (most leads, longest), not the median beat.
    const g = [...w.groups].sort((a, b) => b.leads.length - a.leads.length || (b.leads[0]?.mv.length ?? 0) - (a.leads[0]?.mv.length ?? 0))[0];
    return g ? g.leads.map((l) => ({ name: l.name, mv: l.mv, fs: g.samplingFrequency })) : [];
  }, [w]);
  if (error)
    return (
      <p role="alert" className="error" data-testid="ecg-unavailable">
        {t('ecg.unavailable', { msg: error })}
      </p>
    );
  if (!w) return <p>{t('common.loading')}</p>;
  if (!leads.length)
    return (
      <p role="alert" className="error" data-testid="ecg-unavailable">
        {t('ecg.unavailable', { msg: '—' })}
      </p>
    );
  return (
    <>
      <EcgView leads={leads} />
    </>
  );
}

function ReportForm({
  c,
  leaseId,
  leaseGone,
  onSigned,
  onLocked,
  saveTyped,
}: {
  c: CaseView;
  /** The lease this screen holds: what it saves and signs is under it only. */
  leaseId: string;
  /** The lease is lost: nothing can be saved or signed from here any more. */
  leaseGone: boolean;
  /** `notice`: what the reader must read before the screen goes back to the worklist (it stays). */
  onSigned: (notice?: string) => void;
  onLocked: (e: unknown) => void;
  saveTyped: { current: (() => Promise<void>) | null };
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language === 'en' ? 'en' : 'zh-CN';
  const templates = templatesFor(c.modality);
  const [findings, setFindings] = useState('');
  const [impression, setImpression] = useState('');
  const [critical, setCritical] = useState(false);
  const [template, setTemplate] = useState('');
  const form = templateForModality(c.modality);
  const [fields, setFields] = useState<Record<string, FieldValue>>(() => {
    // ECG numbers start from the automatic measurements; the physician confirms or corrects them.
    const m = ecgValues(c.ecg?.measurements);
    const out: Record<string, FieldValue> = {};
    for (const f of form.fields) {
      const v = m[f.key];
      if (f.kind === 'number' && typeof v === 'number') out[f.key] = Math.round(v);
    }
    return out;
  });
  const [pin, setPin] = useState('');
  const [msg, setMsg] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { locked, lock } = useSigningLock();
  const [restored, setRestored] = useState<string | null>(null);
  const touched = useRef(false);
  useEffect(() => {
    // Reopening a case resumes the reader's own saved draft (404 REPORT.NO_DRAFT: nothing saved yet).
    let dead = false;
    api.draft(c.caseId).then(
      (d) => {
        if (dead || touched.current) return;
        setFindings(d.body.findings);
        setImpression(d.body.impression);
        setCritical(d.body.critical);
        if (d.body.fields) setFields((f) => ({ ...f, ...(d.body.fields as Record<string, FieldValue>) }));
        setRestored(d.updatedAt);
      },
      () => {},
    );
    return () => {
      dead = true;
    };
  }, [c.caseId]);
  const body = () => ({ findings, impression, critical, language: lang as 'zh-CN' | 'en', fields: Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== '' && v !== null)) });
  useEffect(() => {
    // Only what was typed here: an untouched form holds the saved draft already (or nothing, which must
    // not replace a draft saved in another window).
    saveTyped.current = async () => {
      if (touched.current) await api.saveDraft(c.caseId, leaseId, body());
    };
    return () => {
      saveTyped.current = null;
    };
  });
  const term = (x: { zh: string; en: string }) => (lang === 'en' ? x.en : x.zh);
  const apply = (id: string) => {
    setTemplate(id);
    const tp = templates.find((x) => x.id === id);
    if (!tp) return;
    const x = lang === 'en' ? tp.en : tp.zh;
    const values = ecgValues(c.ecg?.measurements);
    setFindings(fill(x.findings, values));
    setImpression(fill(x.impression, values));
    if (id === 'ecg-stemi') setCritical(true);
  };
  return (
    <form
      className="report-form"
      aria-label={t('reader.reportForm')}
      data-testid="report-form"
      data-restored={restored ? '1' : '0'}
      onChange={() => (touched.current = true)}
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        setMsg(null);
        try {
          await api.saveDraft(c.caseId, leaseId, body());
          const r = await api.sign(c.caseId, leaseId, pin);
          const earlier = r.warnings?.some((w) => w.code === 'REPORT.EARLIER_VERSION_SIGNED') === true;
          if (earlier) return onSigned(t('reader.earlierVersionSigned', { v: r.version }));
          setMsg(t('reader.signed', { v: r.version }));
          onSigned();
        } catch (err) {
          setError(err);
          lock(err);
          if ((err as ApiError).details?.released === true) onLocked(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>{t('reader.reportForm')}</h2>
      {restored && (
        <p className="note" role="status" data-testid="draft-restored">
          {t('reader.draftRestored', { at: fmtTime(restored) })}
        </p>
      )}
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
      {form.fields.length > 0 && (
        <fieldset className="fields">
          <legend>{term(form.title)}</legend>
          {form.fields.map((f) => (
            <label key={f.key}>
              {term(f.label)}
              {f.unit ? ` (${f.unit})` : ''}
              {f.kind === 'choice' ? (
                <select name={`field-${f.key}`} value={String(fields[f.key] ?? '')} onChange={(e) => setFields((x) => ({ ...x, [f.key]: e.target.value }))}>
                  <option value="">—</option>
                  {f.options?.map((o) => (
                    <option key={o.value} value={o.value}>
                      {term(o.term)}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  name={`field-${f.key}`}
                  type={f.kind === 'number' ? 'number' : 'text'}
                  value={fields[f.key] === null || fields[f.key] === undefined ? '' : String(fields[f.key])}
                  onChange={(e) => setFields((x) => ({ ...x, [f.key]: f.kind === 'number' ? (e.target.value === '' ? null : Number(e.target.value)) : e.target.value }))}
                />
              )}
            </label>
          ))}
        </fieldset>
      )}
      <label>
        {term(form.findingsLabel)}
        <textarea name="findings" value={findings} onChange={(e) => setFindings(e.target.value)} rows={6} required />
      </label>
      <label>
        {term(form.impressionLabel)}
        <textarea name="impression" value={impression} onChange={(e) => setImpression(e.target.value)} rows={3} required />
      </label>
      <label className={`check${critical ? ' critical' : ''}`}>
        <input type="checkbox" name="critical" checked={critical} onChange={(e) => setCritical(e.target.checked)} />
        {t('reader.critical')}
      </label>
      <div className="row">
        <button
          type="button"
          disabled={leaseGone}
          onClick={async () => {
            setError(null);
            try {
              await api.saveDraft(c.caseId, leaseId, body());
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
          <input name="pin" type="password" inputMode="numeric" autoComplete="off" value={pin} onChange={(e) => setPin(e.target.value)} required minLength={6} />
        </label>
        <button type="submit" className="primary" disabled={busy || locked || leaseGone} data-testid="sign">
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
    // The server filters by the clinic's patient id (within the reader's scope); same clinic only, newest first.
    api
      .listAll({ patientId: c.patient.id, clinicId: c.clinicId }, 200)
      .then((all) =>
        setPriors(
          all
            .filter((x) => x.caseId !== c.caseId && x.patient.id === c.patient.id && x.clinicId === c.clinicId && x.status !== 'REJECTED' && x.status !== 'AWAITING_FILES')
            .sort((a, b) => b.createdAt.localeCompare(a.createdAt)),
        ),
      )
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
      <ul data-testid="priors">
        {priors?.map((p) => (
          <li key={p.caseId} data-case={p.caseId}>
            <button type="button" className="link" aria-pressed={open?.caseId === p.caseId} onClick={() => void show(p.caseId)}>
              {fmtTime(p.createdAt)} · {p.modality} · {t(`status.${p.status}`)}
            </button>
            {p.critical && <span className="badge critical">{t('tech.critical')}</span>}
          </li>
        ))}
      </ul>
      {open && (
        <div className="prior-open" data-testid="prior" data-case={open.caseId}>
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

/** The latest signed report, and an addendum or correction signed as version n+1 (the signed versions never change). */
function SignedReportPanel({ c, onAmended }: { c: CaseView; onAmended: () => void }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language === 'en' ? 'en' : 'zh-CN';
  const [rep, setRep] = useState<SignedReport | null>(null);
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState<'addendum' | 'correction'>('addendum');
  const [reason, setReason] = useState('');
  const [findings, setFindings] = useState('');
  const [impression, setImpression] = useState('');
  const [critical, setCritical] = useState(false);
  const [pin, setPin] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [msg, setMsg] = useState<string | null>(null);
  const { locked, lock } = useSigningLock();
  const [fromDraft, setFromDraft] = useState<string | null>(null);
  useEffect(() => {
    // The amendment starts from the signed text, or from the reader's own draft when it is newer (what
    // they wrote after a version was signed without it).
    Promise.all([api.report(c.caseId), api.draft(c.caseId).catch(() => null)]).then(([r, d]) => {
      setRep(r);
      const newer = d !== null && Date.parse(d.updatedAt) > Date.parse(r.report.signedAt);
      const src = newer ? d.body : r.report;
      setFindings(src.findings ?? '');
      setImpression(src.impression ?? '');
      setCritical(src.critical ?? false);
      setFromDraft(newer ? d.updatedAt : null);
      if (newer) setOpen(true);
    }, setError);
  }, [c.caseId, c.report?.version]);
  if (!rep) return <ErrorText e={error} />;
  return (
    <section className="signed" aria-label={t('tech.report')} data-testid="signed-panel">
      <h2>
        {t('tech.report')} v{rep.report.version} {rep.report.critical && <span className="badge critical">{t('tech.critical')}</span>}
      </h2>
      {rep.report.amendment && (
        <p className="note">
          {t(`reader.${rep.report.amendment.kind}`)}: {rep.report.amendment.reason}
        </p>
      )}
      <p className="pre">{rep.report.findings}</p>
      <p className="pre">
        <strong>{rep.report.impression}</strong>
      </p>
      <p className="note">
        {rep.report.signer?.name} · {fmtTime(rep.report.signedAt)}
      </p>
      <button type="button" aria-expanded={open} onClick={() => setOpen((o) => !o)} data-testid="amend-open">
        {t('reader.amend')}
      </button>
      {open && (
        <form
          className="report-form"
          data-testid="amend-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(null);
            try {
              const r = await api.amend(c.caseId, { pin, kind, reason, findings, impression, critical, language: lang });
              setMsg(t('reader.signed', { v: r.version }));
              setOpen(false);
              setPin('');
              onAmended();
            } catch (err) {
              setError(err);
              lock(err);
            }
          }}
        >
          {fromDraft && (
            <p className="note" role="status" data-testid="amend-from-draft">
              {t('reader.draftRestored', { at: fmtTime(fromDraft) })}
            </p>
          )}
          <label>
            {t('reader.amendKind')}
            <select name="kind" value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
              <option value="addendum">{t('reader.addendum')}</option>
              <option value="correction">{t('reader.correction')}</option>
            </select>
          </label>
          <label>
            {t('reader.amendReason')}
            <input name="reason" value={reason} onChange={(e) => setReason(e.target.value)} required />
          </label>
          <label>
            {t('reader.findings')}
            <textarea name="findings" value={findings} onChange={(e) => setFindings(e.target.value)} rows={4} />
          </label>
          <label>
            {t('reader.impression')}
            <textarea name="impression" value={impression} onChange={(e) => setImpression(e.target.value)} rows={2} required />
          </label>
          <label className={`check${critical ? ' critical' : ''}`}>
            <input type="checkbox" name="critical" checked={critical} onChange={(e) => setCritical(e.target.checked)} />
            {t('reader.critical')}
          </label>
          <label>
            {t('reader.pin')}
            <input name="pin" type="password" inputMode="numeric" autoComplete="off" value={pin} onChange={(e) => setPin(e.target.value)} required minLength={6} />
          </label>
          <button type="submit" className="primary" disabled={locked} data-testid="amend-sign">
            {t('reader.amendSign')}
          </button>
        </form>
      )}
      {msg && (
        <p role="status" data-testid="amend-status">
          {msg}
        </p>
      )}
      <ErrorText e={error} />
    </section>
  );
}
