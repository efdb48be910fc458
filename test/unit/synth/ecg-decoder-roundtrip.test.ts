/**
 * The synthetic ECG files go through the project's own DICOM waveform decoder
 * (shared/dicom/ecg) and come back as the generated millivolts, lead by lead.
 */
import dicomParser from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import { decodeDicomWaveform } from '../../../shared/dicom/ecg/index.ts';
import { IMPLICIT_VR_LITTLE_ENDIAN } from '../../../shared/synth/dicom-writer.ts';
import { syntheticEcg } from '../../../shared/synth/studies.ts';

describe('synthetic ECG through decodeDicomWaveform', () => {
  for (const ts of [undefined, IMPLICIT_VR_LITTLE_ENDIAN] as const) {
    it(`decodes to the generated signal (${ts ?? 'explicit VR LE'})`, () => {
      const { bytes, recording, metadata } = syntheticEcg({ seed: 5, heartRate: 66, transferSyntaxUID: ts });
      const decoded = decodeDicomWaveform(dicomParser.parseDicom(bytes));
      expect(decoded.groups).toHaveLength(1);
      const g = decoded.groups[0]!;
      expect(g.label).toBe('RHYTHM');
      expect(g.samplingFrequency).toBe(500);
      expect(g.leads.map((l) => l.name)).toEqual(metadata.ecg!.leads);
      for (const lead of g.leads) {
        const src = recording.groups[0]!.leads.find((l) => l.name === lead.name)!;
        expect(lead.mv.length).toBe(src.mv.length);
        let worst = 0;
        for (let i = 0; i < src.mv.length; i++) worst = Math.max(worst, Math.abs(lead.mv[i]! - src.mv[i]!));
        expect(worst).toBeLessThanOrEqual(0.0005 + 1e-6); // 1 µV quantisation
      }
      expect(decoded.deviceMeasurements.heartRate).toBe(66);
    });
  }
});
