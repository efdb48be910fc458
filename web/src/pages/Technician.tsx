import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, fetchBytes, uploadFile, type CaseView, type SignedReport, type UploadTarget } from '../api.ts';
import { ErrorText, PriorityBadge, RejectionText, StatusBadge, Timeline, usePoll } from '../common.tsx';
import { fmtTime } from '../i18n.ts';
import { navigate } from '../router.ts';

interface Picked {
  file: File;
  path: string;
}

/** Files of a drop, folders walked recursively (webkitGetAsEntry). */
async function filesOfDrop(dt: DataTransfer): Promise<Picked[]> {
  const entries = Array.from(dt.items)
    .map((i) => (i.kind === 'file' ? i.webkitGetAsEntry?.() : null))
    .filter((e): e is FileSystemEntry => !!e);
  if (!entries.length) return Array.from(dt.files).map((f) => ({ file: f, path: f.name }));
  const out: Picked[] = [];
  const walk = async (e: FileSystemEntry): Promise<void> => {
    if (e.isFile) {
      const f = await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej));
      out.push({ file: f, path: e.fullPath.replace(/^\//, '') });
    } else if (e.isDirectory) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const c of batch) await walk(c);
      }
    }
  };
  for (const e of entries) await walk(e);
  return out;
}

type UploadState = { loaded: number; total: number; state: 'queued' | 'uploading' | 'done' | 'failed'; error?: string };

interface Submission {
  caseId: string;
  files: Picked[];
  targets: UploadTarget[];
}

export function TechnicianHome() {
  const { t } = useTranslation();
  const [sub, setSub] = useState<Submission | null>(null);
  const [refresh, setRefresh] = useState(0);
  return (
    <div className="tech">
      <NewStudy onSubmitted={(s) => setSub(s)} />
      {sub && <UploadPanel key={sub.caseId} sub={sub} onChange={() => setRefresh((x) => x + 1)} />}
      <section aria-labelledby="cases-h" className="card">
        <h2 id="cases-h">{t('tech.cases')}</h2>
        <CaseList refresh={refresh} />
      </section>
    </div>
  );
}

function NewStudy({ onSubmitted }: { onSubmitted: (s: Submission) => void }) {
  const { t } = useTranslation();
  const [patientId, setPatientId] = useState('');
  const [name, setName] = useState('');
  const [sex, setSex] = useState<'' | 'M' | 'F' | 'O'>('');
  const [birthDate, setBirthDate] = useState('');
  const [consent, setConsent] = useState(false);
  const [recordedBy, setRecordedBy] = useState('');
  const [priority, setPriority] = useState<'stat' | 'urgent' | 'routine'>('routine');
  const [note, setNote] = useState('');
  const [files, setFiles] = useState<Picked[]>([]);
  const [over, setOver] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const folderRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    folderRef.current?.setAttribute('webkitdirectory', '');
  }, []);
  const add = (more: Picked[]) => setFiles((f) => [...f, ...more.filter((m) => !f.some((x) => x.path === m.path && x.file.size === m.file.size))]);

  return (
    <form
      className="card new-study"
      aria-labelledby="new-h"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        if (!files.length) return setError(new Error(t('tech.noFiles')));
        setBusy(true);
        try {
          const r = await api.submit({
            patient: { id: patientId.trim(), name: name.trim(), ...(sex ? { sex } : {}), ...(birthDate ? { birthDate } : {}) },
            consent: { obtained: consent as true, ...(recordedBy.trim() ? { recordedBy: recordedBy.trim() } : {}) },
            priority,
            ...(note.trim() ? { clinicalNote: note.trim() } : {}),
            files: files.map((f) => ({ name: f.path.slice(-255), size: f.file.size })),
          });
          onSubmitted({ caseId: r.caseId, files, targets: r.uploads });
          setFiles([]);
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2 id="new-h">{t('tech.newStudy')}</h2>
      <div className="grid2">
        <label>
          {t('tech.patientId')}
          <input name="patientId" value={patientId} onChange={(e) => setPatientId(e.target.value)} required maxLength={64} />
        </label>
        <label>
          {t('tech.patientName')}
          <input name="patientName" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        </label>
        <label>
          {t('tech.sex')}
          <select name="sex" value={sex} onChange={(e) => setSex(e.target.value as typeof sex)}>
            <option value="">—</option>
            <option value="M">{t('tech.sexM')}</option>
            <option value="F">{t('tech.sexF')}</option>
            <option value="O">{t('tech.sexO')}</option>
          </select>
        </label>
        <label>
          {t('tech.birthDate')}
          <input name="birthDate" type="date" value={birthDate} onChange={(e) => setBirthDate(e.target.value)} />
        </label>
        <label>
          {t('tech.priority')}
          <select name="priority" value={priority} onChange={(e) => setPriority(e.target.value as typeof priority)}>
            <option value="stat">{t('priority.stat')}</option>
            <option value="urgent">{t('priority.urgent')}</option>
            <option value="routine">{t('priority.routine')}</option>
          </select>
        </label>
        <label>
          {t('tech.recordedBy')}
          <input name="recordedBy" value={recordedBy} onChange={(e) => setRecordedBy(e.target.value)} maxLength={200} />
        </label>
      </div>
      <label>
        {t('tech.clinicalQuestion')}
        <textarea name="clinicalNote" value={note} onChange={(e) => setNote(e.target.value)} maxLength={4000} rows={2} />
      </label>
      <label className="check">
        <input name="consent" type="checkbox" checked={consent} onChange={(e) => setConsent(e.target.checked)} required />
        {t('tech.consent')}
      </label>
      <fieldset
        className={`drop${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={async (e) => {
          e.preventDefault();
          setOver(false);
          add(await filesOfDrop(e.dataTransfer));
        }}
        data-testid="dropzone"
      >
        <legend>{t('tech.files')}</legend>
        <p>{t('tech.drop')}</p>
        <label className="button">
          {t('tech.chooseFiles')}
          <input
            type="file"
            multiple
            className="visually-hidden"
            name="files"
            onChange={(e) => {
              add(Array.from(e.target.files ?? []).map((f) => ({ file: f, path: f.name })));
              e.target.value = '';
            }}
          />
        </label>{' '}
        <label className="button">
          {t('tech.chooseFolder')}
          <input
            ref={folderRef}
            type="file"
            multiple
            className="visually-hidden"
            name="folder"
            onChange={(e) => {
              add(Array.from(e.target.files ?? []).map((f) => ({ file: f, path: f.webkitRelativePath || f.name })));
              e.target.value = '';
            }}
          />
        </label>
        {files.length > 0 && (
          <ul className="picked">
            {files.map((f, i) => (
              <li key={f.path + i}>
                {f.path} <small>({(f.file.size / 1024).toFixed(0)} KB)</small>{' '}
                <button type="button" className="link" aria-label={t('tech.removeFile', { name: f.path })} onClick={() => setFiles((x) => x.filter((_, j) => j !== i))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
      </fieldset>
      <ErrorText e={error} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? t('tech.submitting') : t('tech.submit')}
      </button>
    </form>
  );
}

/** Per-file progress bars with retry, then the ingest outcome of each file as the case reports it. */
function UploadPanel({ sub, onChange }: { sub: Submission; onChange: () => void }) {
  const { t } = useTranslation();
  const [st, setSt] = useState<UploadState[]>(() => sub.files.map((f) => ({ loaded: 0, total: f.file.size, state: 'queued' })));
  const [view, setView] = useState<CaseView | null>(null);
  const set = useCallback((i: number, u: Partial<UploadState>) => setSt((s) => s.map((x, j) => (j === i ? { ...x, ...u } : x))), []);

  const start = useCallback(
    async (i: number) => {
      const target = sub.targets.find((u) => u.index === i)!;
      set(i, { state: 'uploading', error: undefined });
      try {
        await uploadFile(target, sub.files[i]!.file, (loaded, total) => set(i, { loaded, total })).done;
        set(i, { state: 'done' });
      } catch (e) {
        set(i, { state: 'failed', error: e instanceof ApiError ? e.message : String(e) });
      }
    },
    [sub, set],
  );

  const started = useRef(false);
  useEffect(() => {
    // Once per submission (React's development double effects must not upload twice).
    if (started.current) return;
    started.current = true;
    // Three at a time: enough to fill a township uplink without starving the progress of each.
    let next = 0;
    const worker = async () => {
      while (next < sub.files.length) await start(next++);
    };
    void Promise.all([worker(), worker(), worker()]).then(onChange);
  }, [sub]);

  const settled = view && view.status !== 'AWAITING_FILES' && view.files.every((f) => f.outcome !== 'pending');
  usePoll(
    async () => {
      if (settled) return;
      const v = await api.getCase(sub.caseId);
      setView(v);
      if (v.status !== 'AWAITING_FILES') onChange();
    },
    1000,
    [sub.caseId, settled],
  );

  return (
    <section className="card upload" aria-labelledby="up-h" data-testid="upload-panel" data-case={sub.caseId}>
      <h2 id="up-h">
        {t('tech.caseCreated', { id: sub.caseId })} {view && <StatusBadge s={view.status} />}
      </h2>
      {view?.rejection && (
        <div role="alert" className="rejection" data-testid="rejection">
          <strong>{t('tech.rejection')}:</strong> <RejectionText code={view.rejection.code} message={view.rejection.message} />
          <p>{t('tech.rejectedHint')}</p>
        </div>
      )}
      <ul className="uploads" aria-live="polite">
        {sub.files.map((f, i) => {
          const s = st[i]!;
          const o = view?.files.find((x) => x.index === i);
          const pct = s.total ? Math.round((s.loaded / s.total) * 100) : s.state === 'done' ? 100 : 0;
          return (
            <li key={i} data-testid={`upload-${i}`} data-state={s.state} data-outcome={o?.outcome ?? ''}>
              <span className="fname">{f.path}</span>
              <progress max={100} value={pct} aria-label={t('tech.progress', { name: f.path })} />
              <span className="pct">{pct}%</span>
              {s.state === 'failed' && (
                <>
                  <span className="error">{t('tech.uploadFailed', { msg: s.error })}</span>
                  <button type="button" onClick={() => void start(i)}>
                    {t('tech.retry')}
                  </button>
                </>
              )}
              {o && o.outcome !== 'pending' && (
                <span className={`outcome ${o.outcome}`}>
                  {t(`tech.${o.outcome}`)}
                  {o.outcome === 'rejected' && (
                    <>
                      : <RejectionText code={o.code ?? 'FILE.REJECTED'} message={o.message ?? ''} />
                    </>
                  )}
                </span>
              )}
              {s.state === 'done' && (!o || o.outcome === 'pending') && <span className="outcome pending">{t('tech.pending')}</span>}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** A critical result whose loop is open: delivered to the clinic, not yet acknowledged with a read-back. */
export const criticalOpen = (c: CaseView) => c.critical && c.status === 'DELIVERED' && !c.criticalResult?.receivedAt;

function CaseList({ refresh }: { refresh: number }) {
  const { t } = useTranslation();
  const [items, setItems] = useState<CaseView[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  usePoll(
    async () => {
      try {
        setItems((await api.listCases({ limit: 100 })).items);
        setError(null);
      } catch (e) {
        setError(e);
      }
    },
    5000,
    [refresh],
  );
  if (!items) return <p>{t('common.loading')}</p>;
  if (!items.length) return <p>{t('tech.noCases')}</p>;
  // Critical results stand out (banner, red row) from CaseView.critical until acknowledged with read-back.
  const waiting = items.filter(criticalOpen);
  return (
    <>
      {waiting.length > 0 && (
        <div role="alert" className="critical-banner" data-testid="critical-waiting">
          {t('tech.criticalWaiting', { n: waiting.length })}{' '}
          {waiting.map((c) => (
            <CaseLink key={c.caseId} c={c} className="on-red" />
          ))}
        </div>
      )}
      <ErrorText e={error} />
      <table className="list" data-testid="case-list">
        <thead>
          <tr>
            <th>{t('tech.patient')}</th>
            <th>{t('tech.modality')}</th>
            <th>{t('tech.priority')}</th>
            <th>{t('tech.status')}</th>
            <th>{t('tech.timeline')}</th>
            <th>{t('tech.created')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((c) => {
            const crit = criticalOpen(c);
            return (
              <tr key={c.caseId} className={crit ? 'critical' : ''} data-case={c.caseId}>
                <td>
                  <CaseLink c={c} />
                  {crit && <span className="badge critical">{t('tech.critical')}</span>}
                </td>
                <td>{c.modality ?? '—'}</td>
                <td>
                  <PriorityBadge p={c.priority} />
                </td>
                <td>
                  <StatusBadge s={c.status} />
                </td>
                <td>
                  <Timeline c={c} compact />
                </td>
                <td>{fmtTime(c.createdAt)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

export function TechnicianCase({ caseId }: { caseId: string }) {
  const { t } = useTranslation();
  const [c, setC] = useState<CaseView | null>(null);
  const [rep, setRep] = useState<SignedReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [receivedBy, setReceivedBy] = useState('');
  const [readBack, setReadBack] = useState('');
  const [ackError, setAckError] = useState<unknown>(null);
  const [pdfError, setPdfError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      const v = await api.getCase(caseId);
      setC(v);
      if (v.report) setRep(await api.report(caseId));
    } catch (e) {
      setError(e);
    }
  }, [caseId]);
  usePoll(load, 5000, [caseId]);
  if (error) return <ErrorText e={error} />;
  if (!c) return <p>{t('common.loading')}</p>;
  // The case says whether its delivered report is a critical result (and whether the loop is closed);
  // the signed report's own flag covers an amendment not yet delivered as critical.
  const critical = rep ? rep.report.critical === true : c.critical;
  const open = criticalOpen(c) || (critical && c.status === 'DELIVERED');
  const save = (blob: Blob, name: string) => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  const downloadPdf = async () => {
    setPdfError(null);
    try {
      const buf = await fetchBytes(`/api/cases/${encodeURIComponent(caseId)}/report?format=pdf`);
      save(new Blob([buf], { type: 'application/pdf' }), `report-${caseId}-v${rep!.report.version}.pdf`);
    } catch (e) {
      setPdfError((e as Error).message);
    }
  };
  const download = () => {
    const blob = new Blob([JSON.stringify({ report: rep!.report, jws: rep!.jws }, null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `report-${caseId}-v${rep!.report.version}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  return (
    <div className="card case-detail" data-testid="case-detail" data-status={c.status}>
      <p>
        <a
          href="/tech"
          onClick={(e) => {
            e.preventDefault();
            navigate('/tech');
          }}
        >
          ← {t('tech.back')}
        </a>
      </p>
      {open && (
        <div role="alert" className="critical-banner" data-testid="critical-banner">
          {t('tech.criticalBanner')}
          {c.criticalResult && (
            <>
              {' '}
              — {c.criticalResult.finding} <small>({fmtTime(c.criticalResult.notifiedAt)})</small>
            </>
          )}
        </div>
      )}
      <h1>
        {t('tech.caseDetail')} · {c.patient.name} ({c.patient.id}) <StatusBadge s={c.status} /> <PriorityBadge p={c.priority} />
      </h1>
      <p>
        {c.modality ?? '—'} · {c.caseId}
      </p>
      {c.clinicalNote && <p>{c.clinicalNote}</p>}
      <h2>{t('tech.timeline')}</h2>
      <Timeline c={c} />
      {c.rejection && (
        <div role="alert" className="rejection">
          <strong>{t('tech.rejection')}:</strong> <RejectionText code={c.rejection.code} message={c.rejection.message} />
          <p>{t('tech.rejectedHint')}</p>
        </div>
      )}
      <ul>
        {c.files.map((f) => (
          <li key={f.index}>
            {t('tech.fileN', { n: f.index + 1 })}: <span className={`outcome ${f.outcome}`}>{t(`tech.${f.outcome}`)}</span>{' '}
            {f.code && <RejectionText code={f.code} message={f.message ?? ''} />}
          </li>
        ))}
      </ul>
      <h2>{t('tech.report')}</h2>
      {!rep && <p>{t('tech.noReport')}</p>}
      {rep && (
        <article className={`report${critical ? ' critical' : ''}`} data-testid="signed-report">
          {critical && <span className="badge critical">{t('tech.critical')}</span>}
          <h3>{t('tech.findings')}</h3>
          <p className="pre">{rep.report.findings}</p>
          <h3>{t('tech.impression')}</h3>
          <p className="pre">{rep.report.impression}</p>
          <p>
            {t('tech.signedBy')}: {rep.report.signer?.name} {rep.report.signer?.licenceNumber} · {rep.report.signer?.institution}
            <br />
            {t('tech.signedAt')}: {fmtTime(rep.report.signedAt)} · v{rep.report.version}
          </p>
          <button type="button" onClick={downloadPdf} data-testid="download-pdf">
            {t('tech.downloadPdf')}
          </button>{' '}
          <button type="button" onClick={download}>
            {t('tech.download')}
          </button>
          {pdfError && (
            <p role="alert" className="error">
              {pdfError}
            </p>
          )}
        </article>
      )}
      {c.acknowledgement && (
        <p className="ack" data-testid="acknowledged">
          {t('tech.acknowledged', { at: fmtTime(c.acknowledgement.at), by: c.acknowledgement.receivedBy ?? c.acknowledgement.by })}
          {c.acknowledgement.readBack ? ` — ${c.acknowledgement.readBack}` : ''}
        </p>
      )}
      {c.status === 'ACKNOWLEDGED' && rep && rep.history?.find((h) => h.version === rep.report.version)?.acknowledged === null && (
        <form
          className="ack-form"
          data-testid="ack-version"
          data-version={rep.report.version}
          onSubmit={async (e) => {
            e.preventDefault();
            setAckError(null);
            try {
              await api.acknowledgeVersion(caseId, rep.report.version, critical ? { receivedBy: receivedBy.trim(), readBack: readBack.trim() } : receivedBy.trim() ? { receivedBy: receivedBy.trim() } : {});
              await load();
            } catch (err) {
              setAckError(err);
            }
          }}
        >
          <p role="alert" className={critical ? 'critical-banner' : 'rejection'}>
            {t('tech.newVersion', { v: rep.report.version, kind: rep.report.amendment ? t(`reader.${rep.report.amendment.kind}`) : '' })}
            {rep.report.amendment ? ` — ${rep.report.amendment.reason}` : ''}
          </p>
          <AckFields critical={critical} receivedBy={receivedBy} setReceivedBy={setReceivedBy} readBack={readBack} setReadBack={setReadBack} />
          <ErrorText e={ackError} />
          <button type="submit" className="primary">
            {t('tech.ackVersion', { v: rep.report.version })}
          </button>
        </form>
      )}
      {c.status === 'DELIVERED' && (
        <form
          className="ack-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setAckError(null);
            try {
              setC(await api.acknowledge(caseId, critical ? { receivedBy: receivedBy.trim(), readBack: readBack.trim() } : receivedBy.trim() ? { receivedBy: receivedBy.trim() } : {}));
              await load(); // the report's history now records the acknowledgement
            } catch (err) {
              setAckError(err);
            }
          }}
        >
          <AckFields critical={critical} receivedBy={receivedBy} setReceivedBy={setReceivedBy} readBack={readBack} setReadBack={setReadBack} />
          <ErrorText e={ackError} />
          <button type="submit" className="primary">
            {t('tech.acknowledge')}
          </button>
        </form>
      )}
    </div>
  );
}

/** Who took the result and, for a critical one, what they read back: the fields of every acknowledgement. */
function AckFields(p: { critical: boolean; receivedBy: string; setReceivedBy: (v: string) => void; readBack: string; setReadBack: (v: string) => void }) {
  const { t } = useTranslation();
  return (
    <>
      <label>
        {t('tech.receivedBy')}
        <input name="receivedBy" value={p.receivedBy} onChange={(e) => p.setReceivedBy(e.target.value)} required={p.critical} />
      </label>
      {p.critical && (
        <label>
          {t('tech.readBack')}
          <textarea name="readBack" value={p.readBack} onChange={(e) => p.setReadBack(e.target.value)} required rows={2} />
        </label>
      )}
    </>
  );
}

/** The patient of a case, linking to the case (in-app navigation, a real link for new tabs). */
function CaseLink({ c, className }: { c: CaseView; className?: string }) {
  const href = `/tech/cases/${c.caseId}`;
  return (
    <a
      className={className}
      href={href}
      onClick={(e) => {
        e.preventDefault();
        navigate(href);
      }}
    >
      {c.patient.name} ({c.patient.id})
    </a>
  );
}
