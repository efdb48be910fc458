import { syntheticEcg } from '../../../shared/synth/ecg-signal.ts';
import { measureEcg } from '../../../shared/dicom/ecg/index.ts';
for (const sigma of [0.1, 0.3, 1.0]) for (const nLeads of [1, 2, 3]) {
  const { recording, truth } = syntheticEcg({ seed: 1, heartRate: 70 });
  let s = 12345;
  const rnd = () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s / 0x7fffffff - 0.5; };
  for (let k = 0; k < nLeads; k++) { const mv = recording.groups[0]!.leads[6 + k]!.mv; for (let i = 0; i < mv.length; i++) mv[i] = mv[i]! + sigma * 3.4 * rnd(); }
  recording.groups[0]!.leads[11]!.mv.fill(0);
  const a = measureEcg(recording);
  console.log(sigma, nLeads, a.measurements.heartRate, a.measurements.beats, '/', truth.qrsOnsetsS.length, a.measurements.qrsMs, a.measurements.qtMs, a.measurements.prMs);
}
