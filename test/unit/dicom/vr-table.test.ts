import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VR_TABLE } from '../../../shared/dicom/vr-table.ts';
import { vrTableSource } from '../../../scripts/gen-vr-table.ts';

describe('the generated VR table', () => {
  it('is what scripts/gen-vr-table.ts makes from the installed dcmjs (regenerate after an upgrade)', async () => {
    const committed = readFileSync(new URL('../../../shared/dicom/vr-table.ts', import.meta.url), 'utf8');
    expect(committed).toBe(await vrTableSource());
  });

  it('holds the elements implicit-VR files carry, with their standard VRs', () => {
    const vr = (tag: string) => {
      for (let i = 0; i < VR_TABLE.length; i += 10) if (VR_TABLE.slice(i, i + 8) === tag) return VR_TABLE.slice(i + 8, i + 10);
      return undefined;
    };
    expect(VR_TABLE.length % 10).toBe(0);
    expect(VR_TABLE.length / 10).toBeGreaterThan(4000);
    expect(vr('00100010')).toBe('PN'); // PatientName
    expect(vr('0020000D')).toBe('UI'); // StudyInstanceUID
    expect(vr('00280010')).toBe('US'); // Rows
    expect(vr('00281050')).toBe('DS'); // WindowCenter
    expect(vr('54000100')).toBe('SQ'); // WaveformSequence
    expect(vr('60xx3000')).toBe('OX'); // OverlayData, a repeating group (OB or OW)
  });
});
