import dicomParser from 'dicom-parser';
import fs from 'node:fs';
import { decodeDicomWaveform, measureEcg } from '../../../shared/dicom/ecg/index.ts';
import { detectQrs } from '../../../shared/dicom/ecg/measure.ts';
const ds = dicomParser.parseDicom(new Uint8Array(fs.readFileSync('/work/shared/samples/ecg-12lead-mortara-explicit-le.dcm')));
let t = performance.now(); const rec = decodeDicomWaveform(ds); console.log('decode', (performance.now() - t).toFixed(1));
for (let k = 0; k < 5; k++) { t = performance.now(); measureEcg(rec); console.log('measure', (performance.now() - t).toFixed(1)); }
const g = rec.groups[0]!; const leads = g.leads.map((l) => Float64Array.from(l.mv));
for (let k = 0; k < 3; k++) { t = performance.now(); detectQrs(leads, 1000); console.log('detect', (performance.now() - t).toFixed(1)); }
