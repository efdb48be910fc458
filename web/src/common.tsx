import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { CaseView } from './api.ts';
import { fmtTime } from './i18n.ts';

export const FLOW = ['AWAITING_FILES', 'QUEUED', 'CLAIMED', 'SIGNED', 'DELIVERED', 'ACKNOWLEDGED'] as const;
export const PRIORITY_RANK: Record<string, number> = { stat: 0, urgent: 1, routine: 2 };

export function PriorityBadge({ p }: { p: string }) {
  const { t } = useTranslation();
  return <span className={`badge prio-${p}`}>{t(`priority.${p}`)}</span>;
}

export function StatusBadge({ s }: { s: string }) {
  const { t } = useTranslation();
  return (
    <span className={`badge status-${s}`} data-status={s}>
      {t(`status.${s}`)}
    </span>
  );
}

/** The states a case went through, each with its recorded time. */
export function Timeline({ c, compact = false }: { c: CaseView; compact?: boolean }) {
  const { t } = useTranslation();
  const steps: string[] = c.status === 'REJECTED' ? ['AWAITING_FILES', 'REJECTED'] : [...FLOW];
  return (
    <ol className={`timeline${compact ? ' compact' : ''}`} aria-label={t('tech.timeline')}>
      {steps.map((s) => {
        const at = c.timeline[s];
        return (
          <li key={s} className={at ? (s === 'REJECTED' ? 'done rejected' : 'done') : 'todo'} title={at ? fmtTime(at) : undefined}>
            <span className="dot" aria-hidden="true" />
            <span className="step">{t(`status.${s}`)}</span>
            {!compact && at && <time dateTime={at}>{fmtTime(at)}</time>}
          </li>
        );
      })}
    </ol>
  );
}

export function waitingText(t: (k: string, o?: Record<string, unknown>) => string, fromIso: string | undefined, now: number): string {
  if (!fromIso) return '';
  const min = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 60000));
  return min < 60 ? t('reader.minutes', { n: min }) : t('reader.hours', { h: Math.floor(min / 60), m: min % 60 });
}

export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

/** Run `f` every `ms` while mounted (and once at once). */
export function usePoll(f: () => Promise<unknown> | void, ms: number, deps: unknown[]) {
  const ref = useRef(f);
  ref.current = f;
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      try {
        await ref.current();
      } catch {
        /* shown by the callee */
      }
      if (!stop) timer = setTimeout(tick, ms);
    };
    void tick();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
}

export function ErrorText({ e }: { e: unknown }) {
  const { t } = useTranslation();
  if (!e) return null;
  return (
    <p role="alert" className="error">
      {t('common.error', { msg: (e as Error).message ?? String(e) })}
    </p>
  );
}
