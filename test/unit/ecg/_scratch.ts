import dicomParser from 'dicom-parser';
import fs from 'node:fs'; import zlib from 'node:zlib';
import { decodeDicomWaveform, measureEcg, readAecg } from '/work/main/shared/dicom/ecg/index.ts';
import { syntheticEcg } from '/work/main/shared/synth/ecg-signal.ts';
const S = '/work/shared/samples/';
const inflater = (a: Uint8Array, pos: number) => { const r = zlib.inflateRawSync(a.subarray(pos)); const o = new Uint8Array(pos + r.length); o.set(a.subarray(0, pos)); o.set(r, pos); return o; };
const { truth, recording } = syntheticEcg({ heartRate: 150, seed: 7 });
console.log('150 truth onsets', truth.qrsOnsetsS.slice(0,3), truth.qrsOnsetsS.slice(-3), 'found', measureEcg(recording).detail.qrsTimesS.slice(0,2), measureEcg(recording).detail.qrsTimesS.slice(-2));
for (const f of fs.readdirSync(S).filter((f) => f.startsWith('ecg-') || f.startsWith('aecg-'))) {
  try {
    const bytes = new Uint8Array(fs.readFileSync(S + f));
    const rec = f.endsWith('.xml') ? readAecg(bytes) : decodeDicomWaveform(dicomParser.parseDicom(bytes, { inflater } as any));
    const t0 = performance.now();
    const a = measureEcg(rec);
    const dt = performance.now() - t0;
    console.log(f, rec.groups.map((g) => `${g.label}:${g.leads.length}x${g.leads[0]?.mv.length}@${g.samplingFrequency} [${g.leads.map((l) => l.name).join(',')}] range ${Math.min(...g.leads.map((l) => Math.min(...l.mv))).toFixed(2)}..${Math.max(...g.leads.map((l) => Math.max(...l.mv))).toFixed(2)}`).join(' | '));
    console.log('   device', JSON.stringify(rec.deviceMeasurements), rec.deviceStatements, rec.warnings);
    console.log('   ours', JSON.stringify(a.measurements), a.flags, JSON.stringify(a.detail.medianBeat), JSON.stringify(a.detail.fileMedianBeat), a.detail.medianBeatConsistent, dt.toFixed(1) + 'ms');
  } catch (e: any) { console.log(f, 'ERR', e.code, e.message); }
}
