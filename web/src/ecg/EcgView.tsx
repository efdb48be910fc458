import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { CARD_MM, getPxPerMm, setPxPerMm } from './calibration.ts';
import { canvasSize, drawEcg, layout, type Lead } from './draw.ts';

export function usePxPerMm() {
  const [v, setV] = useState(getPxPerMm);
  useEffect(() => {
    const on = () => setV(getPxPerMm());
    window.addEventListener('teleread:calibration', on);
    return () => window.removeEventListener('teleread:calibration', on);
  }, []);
  return v;
}

/** A calibrated ECG: 25 mm/s and 10 mm/mV by default, 50 mm/s and 5/20 mm/mV on demand, calipers. */
export function EcgView({ leads, calPulse = true, testId = 'ecg' }: { leads: Lead[]; calPulse?: boolean; testId?: string }) {
  const { t } = useTranslation();
  const cal = usePxPerMm();
  const [speed, setSpeed] = useState(25);
  const [gain, setGain] = useState(10);
  const [calipers, setCalipers] = useState<number[]>([]);
  const [calipersOn, setCalipersOn] = useState(false);
  const ref = useRef<HTMLCanvasElement>(null);
  const l = useMemo(() => layout(leads, speed, gain, { calPulse }), [leads, speed, gain, calPulse]);
  const dpr = window.devicePixelRatio || 1;
  const scale = { pxPerMm: cal.value, speed, gain, dpr };
  const { cssW, cssH } = canvasSize(l, scale);

  useEffect(() => {
    const cv = ref.current;
    if (!cv) return;
    cv.width = Math.round(cssW * dpr);
    cv.height = Math.round(cssH * dpr);
    drawEcg(cv.getContext('2d')!, l, scale, calipers);
  }, [l, cal.value, dpr, cssW, cssH, calipers]);

  const intervalMs = calipers.length === 2 ? (Math.abs(calipers[1]! - calipers[0]!) / cal.value / speed) * 1000 : null;

  return (
    <section className="ecg" aria-label={t('ecg.label')} data-testid={testId} data-px-per-mm={cal.value} data-speed={speed} data-gain={gain}>
      <div className="toolbar" role="toolbar" aria-label={t('ecg.label')}>
        <label>
          {t('ecg.speed')}{' '}
          <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))} data-testid="ecg-speed">
            <option value={25}>25 mm/s</option>
            <option value={50}>50 mm/s</option>
          </select>
        </label>
        <label>
          {t('ecg.gain')}{' '}
          <select value={gain} onChange={(e) => setGain(Number(e.target.value))} data-testid="ecg-gain">
            <option value={5}>5 mm/mV</option>
            <option value={10}>10 mm/mV</option>
            <option value={20}>20 mm/mV</option>
          </select>
        </label>
        <button type="button" aria-pressed={calipersOn} onClick={() => {
            setCalipersOn((v) => !v);
            setCalipers([]);
          }} title={t('ecg.caliperHelp')}>
          {t('ecg.calipers')}
        </button>
        {intervalMs !== null && (
          <span aria-live="polite" data-testid="caliper-readout">
            {t('ecg.interval', { ms: intervalMs.toFixed(0), bpm: (60000 / intervalMs).toFixed(0) })}
          </span>
        )}
        <Calibrate />
      </div>
      <div className="ecg-scroll">
        <canvas
          ref={ref}
          style={{ width: `${cssW}px`, height: `${cssH}px` }}
          data-testid={`${testId}-canvas`}
          role="img"
          aria-label={`${t('ecg.label')} ${speed} mm/s ${gain} mm/mV`}
          onClick={(e) => {
            if (!calipersOn) return;
            const x = e.clientX - e.currentTarget.getBoundingClientRect().left;
            setCalipers((c) => (c.length >= 2 ? [x] : [...c, x]));
          }}
        />
      </div>
    </section>
  );
}

function Calibrate() {
  const { t } = useTranslation();
  const cal = usePxPerMm();
  const [open, setOpen] = useState(false);
  const [w, setW] = useState(Math.round(cal.value * CARD_MM));
  return (
    <>
      <span className="cal-state">{cal.calibrated ? t('ecg.calibrated', { v: cal.value.toFixed(2) }) : t('ecg.notCalibrated')}</span>
      <button type="button" onClick={() => setOpen((o) => !o)} aria-expanded={open}>
        {t('ecg.calibrate')}
      </button>
      {open && (
        <div className="calibrate" role="dialog" aria-label={t('ecg.calibrate')}>
          <p>{t('ecg.calibrateHelp')}</p>
          <label>
            {t('ecg.calWidth')}
            <input type="range" min={150} max={900} value={w} onChange={(e) => setW(Number(e.target.value))} />
            <input type="number" min={150} max={900} value={w} onChange={(e) => setW(Number(e.target.value))} aria-label={t('ecg.calWidth')} />
          </label>
          <div className="card-outline" style={{ width: `${w}px`, height: `${(w * 53.98) / CARD_MM}px` }} />
          <button
            type="button"
            className="primary"
            onClick={() => {
              setPxPerMm(w / CARD_MM);
              setOpen(false);
            }}
          >
            {t('ecg.save')}
          </button>{' '}
          <button type="button" onClick={() => setOpen(false)}>
            {t('ecg.cancel')}
          </button>
        </div>
      )}
    </>
  );
}
