import { syntheticEcg, type SyntheticEcgOptions } from '../../../shared/synth/ecg-signal.ts';
import { measureEcg } from '../../../shared/dicom/ecg/index.ts';
const irr = Array.from({ length: 40 }, (_, i) => 220 + ((i * 7919) % 200));
const cases: Array<[string, SyntheticEcgOptions]> = [
  ['30', { heartRate: 30 }], ['45', { heartRate: 45 }], ['60', { heartRate: 60 }], ['75', { heartRate: 75 }], ['100', { heartRate: 100 }], ['120', { heartRate: 120 }], ['150', { heartRate: 150 }], ['180', { heartRate: 180 }], ['200', { heartRate: 200 }], ['220', { heartRate: 220 }],
  ['pause', { rrMs: [1000, 1000, 1000, 3500, 1000, 1000, 1000, 1000] }], ['irr', { rrMs: irr, pWaves: false }],
  ['noisy', { heartRate: 70, noiseMv: 0.08, baselineWanderMv: 0.8, mainsMv: 0.05 }],
  ['lowvolt', { heartRate: 70, amplitude: 0.3 }], ['wide', { heartRate: 70, qrsMs: 160 }], ['narrow', { heartRate: 90, qrsMs: 70 }],
  ['tallT50', { heartRate: 50, tWaveScale: 3 }], ['tallT100', { heartRate: 100, tWaveScale: 4 }], ['tallT40n', { heartRate: 40, tWaveScale: 3, noiseMv: 0.05 }],
  ['200@250', { heartRate: 200, samplingFrequency: 250 }], ['40@1000', { heartRate: 40, samplingFrequency: 1000 }],
];
for (const [name, o] of cases) {
  let bad = 0; const notes: string[] = []; let worstOn = 0, worstOff = 0, worstHr = 0;
  for (let seed = 1; seed <= 25; seed++) {
    const { recording, truth } = syntheticEcg({ seed, ...o });
    const a = measureEcg(recording);
    const hrT = 60000 / (truth.rrMs.reduce((s, v) => s + v, 0) / truth.rrMs.length);
    const dh = Math.abs((a.measurements.heartRate ?? 0) - hrT);
    worstHr = Math.max(worstHr, dh);
    let ok = dh <= 2 && a.measurements.beats >= truth.qrsOnsetsS.length - 1 && a.measurements.beats <= truth.qrsOnsetsS.length;
    truth.qrsOnsetsS.forEach((t, i) => { const j = a.detail.qrsOnsetsS.findIndex((x) => Math.abs(x - t) < 0.1); if (j < 0) return;
      worstOn = Math.max(worstOn, Math.abs(a.detail.qrsOnsetsS[j]! - t) * 1000); worstOff = Math.max(worstOff, Math.abs(a.detail.qrsOffsetsS[j]! - truth.qrsOffsetsS[i]!) * 1000); });
    if (!ok) { bad++; notes.push(`s${seed}:hr${a.measurements.heartRate}/b${a.measurements.beats}of${truth.qrsOnsetsS.length}`); }
  }
  console.log(name.padEnd(8), 'bad', bad, 'worst HR', worstHr.toFixed(1), 'on', worstOn.toFixed(0), 'off', worstOff.toFixed(0), notes.slice(0, 4).join(' '));
}
