import { describe, expect, it } from 'vitest';
import { measureEcg } from '../../../shared/dicom/ecg/index.ts';
import type { EcgAnalysis } from '../../../shared/dicom/ecg/index.ts';
import { syntheticEcg, type SyntheticEcgOptions, type SyntheticEcgTruth } from '../../../shared/synth/ecg-signal.ts';

/** Pair detected beats with true ones (±100 ms) and return the per-beat onset/offset errors in ms. */
function beatErrors(a: EcgAnalysis, truth: SyntheticEcgTruth) {
  const on: number[] = [];
  const off: number[] = [];
  truth.qrsOnsetsS.forEach((t, i) => {
    const j = a.detail.qrsOnsetsS.findIndex((x) => Math.abs(x - t) < 0.1);
    if (j < 0) return;
    on.push((a.detail.qrsOnsetsS[j]! - t) * 1000);
    off.push((a.detail.qrsOffsetsS[j]! - truth.qrsOffsetsS[i]!) * 1000);
  });
  return { on, off };
}

const trueRate = (truth: SyntheticEcgTruth) => 60000 / (truth.rrMs.reduce((s, v) => s + v, 0) / truth.rrMs.length);

const irregularFast = Array.from({ length: 40 }, (_, i) => 220 + ((i * 7919) % 200));

const CASES: Array<{ name: string; options: SyntheticEcgOptions; flags: string[] }> = [
  { name: '30 bpm', options: { heartRate: 30 }, flags: ['SUSPECTED_CRITICAL_BRADYCARDIA'] },
  { name: '60 bpm', options: { heartRate: 60 }, flags: [] },
  { name: '75 bpm', options: { heartRate: 75 }, flags: [] },
  { name: '150 bpm', options: { heartRate: 150 }, flags: ['SUSPECTED_CRITICAL_TACHYCARDIA'] },
  { name: '200 bpm', options: { heartRate: 200 }, flags: ['SUSPECTED_CRITICAL_TACHYCARDIA'] },
  { name: '3.5 s pause', options: { rrMs: [1000, 1000, 1000, 3500, 1000, 1000, 1000, 1000] }, flags: ['SUSPECTED_CRITICAL_PAUSE'] },
  {
    name: 'fast irregular, no P waves (~190 bpm)',
    options: { rrMs: irregularFast, pWaves: false },
    flags: ['SUSPECTED_CRITICAL_TACHYCARDIA', 'SUSPECTED_CRITICAL_FAST_IRREGULAR'],
  },
  { name: '75 bpm @1000 Hz, noise 0.03 mV, wander 0.3 mV', options: { heartRate: 75, samplingFrequency: 1000, noiseMv: 0.03, baselineWanderMv: 0.3 }, flags: [] },
  { name: '60 bpm @250 Hz', options: { heartRate: 60, samplingFrequency: 250 }, flags: [] },
  { name: '80 bpm, noise 0.05 mV, wander 0.5 mV', options: { heartRate: 80, noiseMv: 0.05, baselineWanderMv: 0.5 }, flags: [] },
  { name: '70 bpm, wide QRS 140 ms, PR 200 ms', options: { heartRate: 70, qrsMs: 140, prMs: 200 }, flags: [] },
  { name: '100 bpm, peaked T waves (×4)', options: { heartRate: 100, tWaveScale: 4 }, flags: [] },
  { name: '120 bpm @250 Hz', options: { heartRate: 120, samplingFrequency: 250 }, flags: [] },
  { name: '38 bpm without P waves (AV dissociation)', options: { heartRate: 38, pWaves: false }, flags: ['SUSPECTED_CRITICAL_BRADYCARDIA'] },
  { name: '38 bpm with P waves, PR 160', options: { heartRate: 38 }, flags: [] },
];

describe('measureEcg on synthetic ECGs with known fiducials', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const { recording, truth } = syntheticEcg({ seed: 11, ...c.options });
      const a = measureEcg(recording);
      const m = a.measurements;
      expect(Math.abs(m.heartRate! - trueRate(truth))).toBeLessThanOrEqual(2);
      // Every beat found except perhaps one clipped at the very start of the record.
      expect(m.beats).toBeGreaterThanOrEqual(truth.qrsOnsetsS.length - 1);
      expect(m.beats).toBeLessThanOrEqual(truth.qrsOnsetsS.length);
      const { on, off } = beatErrors(a, truth);
      expect(on.length).toBeGreaterThanOrEqual(truth.qrsOnsetsS.length - 1);
      for (const e of on) expect(Math.abs(e)).toBeLessThanOrEqual(20);
      for (const e of off) expect(Math.abs(e)).toBeLessThanOrEqual(20);
      expect(Math.abs(m.qrsMs! - truth.qrsMs)).toBeLessThanOrEqual(20);
      // The tangent method ends the T wave before the end of its support: reads short, never long.
      expect(m.qtMs! - truth.qtMs).toBeLessThanOrEqual(15);
      expect(m.qtMs! - truth.qtMs).toBeGreaterThanOrEqual(-40);
      if (truth.prMs !== null && trueRate(truth) <= 100) expect(Math.abs(m.prMs! - truth.prMs)).toBeLessThanOrEqual(20);
      expect([...a.flags].sort()).toEqual([...c.flags].sort());
    });
  }

  it('finds the pause and reports it as the longest RR', () => {
    const { recording } = syntheticEcg({ seed: 3, rrMs: [1000, 1000, 1000, 3500, 1000, 1000, 1000, 1000] });
    const { measurements } = measureEcg(recording);
    expect(Math.abs(measurements.longestRrMs! - 3500)).toBeLessThanOrEqual(10);
  });

  it('flags a pause at the edge of the record (no beat for the last 3.5 s)', () => {
    const { recording } = syntheticEcg({ seed: 5, rrMs: [800, 800, 800, 800, 800, 800, 800, 4000], durationS: 10 });
    expect(measureEcg(recording).flags).toContain('SUSPECTED_CRITICAL_PAUSE');
  });

  it('computes QTc by Bazett (QT/√RR) and Fridericia (QT/∛RR), RR in seconds', () => {
    const { recording } = syntheticEcg({ seed: 2, heartRate: 50 });
    const m = measureEcg(recording).measurements;
    const rr = m.rrMeanMs! / 1000;
    expect(Math.abs(m.qtcBazettMs! - m.qtMs! / Math.sqrt(rr))).toBeLessThanOrEqual(1);
    expect(Math.abs(m.qtcFridericiaMs! - m.qtMs! / Math.cbrt(rr))).toBeLessThanOrEqual(1);
  });

  it('irregularity: regular sinus is regular, the irregular fast rhythm is not', () => {
    expect(measureEcg(syntheticEcg({ heartRate: 75 }).recording).measurements.rrIrregular).toBe(false);
    expect(measureEcg(syntheticEcg({ rrMs: irregularFast, pWaves: false }).recording).measurements.rrIrregular).toBe(true);
  });

  it('is robust to the lead choice: the same beats with only V1–V3, or with lead I inverted', () => {
    const { recording, truth } = syntheticEcg({ seed: 9, heartRate: 72 });
    const g = recording.groups[0]!;
    const partial = { ...recording, groups: [{ ...g, leads: g.leads.filter((l) => ['V1', 'V2', 'V3'].includes(l.name)) }] };
    const flipped = { ...recording, groups: [{ ...g, leads: g.leads.map((l) => (l.name === 'I' ? { ...l, mv: l.mv.map((v) => -v) } : l)) }] };
    for (const rec of [partial, flipped]) {
      const m = measureEcg(rec).measurements;
      expect(Math.abs(m.heartRate! - 72)).toBeLessThanOrEqual(2);
      expect(m.beats).toBeGreaterThanOrEqual(truth.qrsOnsetsS.length - 1);
    }
  });

  it('keeps measuring when three chest leads are swamped by noise and one lead is off', () => {
    const { recording, truth } = syntheticEcg({ seed: 1, heartRate: 70 });
    const leads = recording.groups[0]!.leads;
    let s = 12345;
    const rnd = () => {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      return s / 0x7fffffff - 0.5;
    };
    for (const l of leads.slice(6, 9)) for (let i = 0; i < l.mv.length; i++) l.mv[i] = l.mv[i]! + 3.4 * rnd(); // σ ≈ 1 mV
    leads[11]!.mv.fill(0);
    const m = measureEcg(recording).measurements;
    expect(m.heartRate).toBe(70);
    expect(m.beats).toBe(truth.qrsOnsetsS.length);
    expect(Math.abs(m.qrsMs! - truth.qrsMs)).toBeLessThanOrEqual(10);
    expect(Math.abs(m.qtMs! - truth.qtMs)).toBeLessThanOrEqual(40);
    expect(Math.abs(m.prMs! - truth.prMs!)).toBeLessThanOrEqual(20);
  });

  it('analyses at most the first 10 minutes of a long recording', () => {
    const { recording } = syntheticEcg({ heartRate: 66, samplingFrequency: 200, durationS: 660, noiseMv: 0.02 });
    const a = measureEcg(recording);
    expect(a.detail.analysedS).toBe(600);
    expect(Math.abs(a.measurements.heartRate! - 66)).toBeLessThanOrEqual(1);
    expect(a.measurements.qrsMs).not.toBeNull();
  });

  it('returns nulls, not guesses, for a flat or too short record', () => {
    const flat = syntheticEcg({ heartRate: 60, amplitude: 0, noiseMv: 0, baselineWanderMv: 0 }).recording;
    expect(measureEcg(flat)).toMatchObject({ measurements: { heartRate: null, qrsMs: null, beats: 0 }, flags: [] });
    expect(measureEcg({ source: 'dicom', groups: [], deviceMeasurements: {} }).measurements.heartRate).toBeNull();
  });

  it('gives the same analysis whatever was analysed before it (its working arrays are reused between analyses)', () => {
    // Different rates, lengths and lead counts, so a reused array is sometimes longer than asked for
    // and holds the previous record's values.
    const recs = [
      syntheticEcg({ seed: 3, heartRate: 48, samplingFrequency: 500 }).recording,
      syntheticEcg({ seed: 4, heartRate: 150, samplingFrequency: 1000, durationS: 6 }).recording,
      syntheticEcg({ seed: 5, heartRate: 72, samplingFrequency: 250, durationS: 30, noiseMv: 0.05 }).recording,
      syntheticEcg({ seed: 6, heartRate: 90, samplingFrequency: 500, pWaves: false }).recording,
    ];
    const threeLeads = syntheticEcg({ seed: 7, heartRate: 60 }).recording;
    threeLeads.groups[0]!.leads.splice(3);
    recs.push(threeLeads);
    const first = recs.map((r) => JSON.stringify(measureEcg(r)));
    const again = [...recs].reverse().map((r) => JSON.stringify(measureEcg(r))).reverse();
    expect(again).toEqual(first);
    expect(new Set(first).size).toBe(recs.length);
  });
});

describe('syntheticEcg', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = syntheticEcg({ seed: 42, heartRate: 80 }).recording.groups[0]!.leads[1]!.mv;
    const b = syntheticEcg({ seed: 42, heartRate: 80 }).recording.groups[0]!.leads[1]!.mv;
    const c = syntheticEcg({ seed: 43, heartRate: 80 }).recording.groups[0]!.leads[1]!.mv;
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('produces 12 standard leads at the requested rate and length, with Einthoven-consistent limb leads', () => {
    const { recording, truth } = syntheticEcg({ samplingFrequency: 1000, durationS: 5, heartRate: 60, noiseMv: 0, baselineWanderMv: 0 });
    const g = recording.groups[0]!;
    expect(g.samplingFrequency).toBe(1000);
    expect(g.leads.map((l) => l.name)).toEqual(['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6']);
    for (const l of g.leads) expect(l.mv.length).toBe(5000);
    const [I, II, III, aVR] = g.leads.map((l) => l.mv);
    for (let i = 0; i < 5000; i += 7) {
      expect(III![i]!).toBeCloseTo(II![i]! - I![i]!, 5);
      expect(aVR![i]!).toBeCloseTo(-(I![i]! + II![i]!) / 2, 5);
    }
    expect(truth.rrMs.every((v) => v === 1000)).toBe(true);
    expect(truth.qrsOffsetsS[0]! - truth.qrsOnsetsS[0]!).toBeCloseTo(0.09, 6);
  });

  it('uses an explicit RR list in order', () => {
    const { truth } = syntheticEcg({ rrMs: [600, 900, 3200], durationS: 10 });
    expect(truth.rrMs.slice(0, 4)).toEqual([600, 900, 3200, 600]);
  });
});
