import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EcgDecodeError, measureEcg, readAecg, readScpEcg, STANDARD_LEADS } from '../../../shared/dicom/ecg/index.ts';

const SAMPLES = join(import.meta.dirname, '../../../../shared/samples');
const read = (name: string) => new Uint8Array(readFileSync(join(SAMPLES, name)));
const utf8 = (s: string) => new TextEncoder().encode(s);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EcgDecodeError);
    return (e as EcgDecodeError).code;
  }
  return 'no error';
}

describe('readAecg', () => {
  it('Mortara example: 12 leads × 5000 samples @ 500 Hz rhythm, plus the representative beats', () => {
    const rec = readAecg(read('aecg-hl7-example-mortara.xml'));
    expect(rec.source).toBe('hl7-aecg');
    const rhythm = rec.groups[0]!;
    expect(rhythm.label).toBe('RHYTHM');
    expect(rhythm.samplingFrequency).toBe(500);
    expect(rhythm.leads.map((l) => l.name)).toEqual([...STANDARD_LEADS]);
    for (const l of rhythm.leads) expect(l.mv.length).toBe(5000);
    // First digits of lead I are "-2 -2 -2 -2 -3", origin 0 µV, scale 2.5 µV.
    expect(Array.from(rhythm.leads[0]!.mv.subarray(0, 5)).map((v) => +v.toFixed(4))).toEqual([-0.005, -0.005, -0.005, -0.005, -0.0075]);
    expect(rec.groups.map((g) => g.label)).toEqual(['RHYTHM', 'MEDIAN BEAT']);
    expect(rec.groups[1]!.leads).toHaveLength(12);
    // The global (representative-beat) measurements of the device.
    expect(rec.deviceMeasurements).toMatchObject({ prMs: 148, qrsMs: 120, qtMs: 420, qtcMs: 443 });
  });

  it('the Mortara aECG and the DICOM export of the same record measure alike', () => {
    const { measurements: m, detail } = measureEcg(readAecg(read('aecg-hl7-example-mortara.xml')));
    expect(m.heartRate).toBeGreaterThanOrEqual(68);
    expect(m.heartRate).toBeLessThanOrEqual(76);
    expect(Math.abs(m.qrsMs! - 120)).toBeLessThanOrEqual(15);
    expect(detail.medianBeatConsistent).toBe(true);
  });

  it('AMPS CalECG2 example: 12 leads × 10000 samples @ 1000 Hz', () => {
    const rec = readAecg(read('aecg-calecg2-amps.xml'));
    const rhythm = rec.groups[0]!;
    expect(rhythm.samplingFrequency).toBe(1000);
    expect(rhythm.leads.map((l) => l.name)).toEqual([...STANDARD_LEADS]);
    for (const l of rhythm.leads) {
      expect(l.mv.length).toBe(10000);
      expect(l.mv.every((v) => Math.abs(v) < 10)).toBe(true);
    }
    expect(rec.deviceMeasurements.heartRate).toBe(52);
    const { measurements: m } = measureEcg(rec);
    expect(Math.abs(m.heartRate! - 52)).toBeLessThanOrEqual(2);
    expect(m.qtcBazettMs).toBeGreaterThanOrEqual(300);
    expect(m.qtcBazettMs).toBeLessThanOrEqual(550);
  });

  it('minimal example: one lead II of 13 samples @ 500 Hz', () => {
    const rec = readAecg(read('aecg-minimal-single-lead.xml'));
    expect(rec.groups).toHaveLength(1);
    expect(rec.groups[0]!.samplingFrequency).toBe(500);
    expect(rec.groups[0]!.leads.map((l) => [l.name, l.mv.length])).toEqual([['II', 13]]);
    expect(+rec.groups[0]!.leads[0]!.mv[12]!.toFixed(4)).toBe(-0.0225);
  });

  it('honours origin and mV units', () => {
    const xml = `<AnnotatedECG xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><component><series>
      <code code="RHYTHM"/><component><sequenceSet>
      <component><sequence><code code="TIME_RELATIVE"/><value xsi:type="GLIST_PQ"><head value="0" unit="s"/><increment value="4" unit="ms"/></value></sequence></component>
      <component><sequence><code code="MDC_ECG_LEAD_V1"/><value xsi:type="SLIST_PQ"><origin value="0.5" unit="mV"/><scale value="0.01" unit="mV"/><digits>0 10 -100</digits></value></sequence></component>
      </sequenceSet></component></series></component></AnnotatedECG>`;
    const g = readAecg(utf8(xml)).groups[0]!;
    expect(g.samplingFrequency).toBe(250);
    expect(g.leads[0]!.name).toBe('V1');
    expect(Array.from(g.leads[0]!.mv).map((v) => +v.toFixed(4))).toEqual([0.5, 0.6, -0.5]);
  });

  it('refuses empty, malformed and foreign XML with typed codes', () => {
    expect(codeOf(() => readAecg(read('aecg-empty-annotatedecg.xml')))).toBe('ECG.AECG_EMPTY');
    expect(codeOf(() => readAecg(new Uint8Array(0)))).toBe('ECG.AECG_EMPTY');
    expect(codeOf(() => readAecg(utf8('<AnnotatedECG><component><series></component>')))).toBe('ECG.AECG_MALFORMED');
    expect(codeOf(() => readAecg(utf8('<html><body/></html>')))).toBe('ECG.AECG_MALFORMED');
    expect(codeOf(() => readAecg(read('ecg-12lead-mortara-explicit-le.dcm')))).toBe('ECG.AECG_MALFORMED');
  });
});

describe('readScpEcg', () => {
  it('refuses SCP-ECG with a message telling the clinic what to upload instead', () => {
    for (const f of ['scpecg-12lead-example-ecgtoolkit.scp', 'scpecg-contec-ecg90a.scp']) {
      try {
        readScpEcg(read(f));
        throw new Error('expected a refusal');
      } catch (e) {
        expect(e).toBeInstanceOf(EcgDecodeError);
        expect((e as EcgDecodeError).code).toBe('ECG.SCP_UNSUPPORTED');
        expect((e as EcgDecodeError).message).toMatch(/DICOM .*HL7 aECG/);
        expect((e as EcgDecodeError).kind).toBe('unprocessable');
      }
    }
  });
});
