import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { EcgView } from '../ecg/EcgView.tsx';
import type { Lead } from '../ecg/draw.ts';

/** A known signal on the calibrated grid: a 1 mV, 1 s square pulse must be 10 mm high and 25 mm long. */
export function EcgCalibrationPage() {
  const { t } = useTranslation();
  const leads = useMemo<Lead[]>(() => {
    const fs = 500;
    const mv = new Float32Array(fs * 3);
    for (let i = 0; i < mv.length; i++) mv[i] = i >= fs * 0.5 && i < fs * 1.5 ? 1 : 0;
    return [{ name: 'TEST', mv, fs }];
  }, []);
  return (
    <div className="card">
      <h1>{t('ecg.calibrate')}</h1>
      <p>1 mV × 1 s → 10 mm × 25 mm (25 mm/s, 10 mm/mV)</p>
      <EcgView leads={leads} calPulse={false} testId="ecg-test" />
    </div>
  );
}
