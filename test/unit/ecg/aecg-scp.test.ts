import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import dicomParser from 'dicom-parser';
import {
  decodeDicomWaveform,
  EcgDecodeError,
  looksLikeScpEcg,
  measureEcg,
  readAecg,
  readScpEcg,
  STANDARD_LEADS,
} from '../../../shared/dicom/ecg/index.ts';
import { crcCcitt } from '../../../shared/dicom/ecg/scp.ts';

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
  /** Patch bytes of one section, then re-seal its CRC and the record's. */
  function patched(bytes: Uint8Array, sectionIndex: number, at: number, value: number): Uint8Array {
    const b = bytes.slice();
    const v = new DataView(b.buffer);
    const start = sectionIndex - 1;
    const len = v.getUint32(start + 4, true);
    b[start + at] = value;
    v.setUint16(start, crcCcitt(b.subarray(start + 2, start + len)), true);
    v.setUint16(0, crcCcitt(b.subarray(2, v.getUint32(2, true))), true);
    return b;
  }

  it('ECG Toolkit example (default Huffman, second differences) decodes to the same mV as its DICOM export', () => {
    const scp = readScpEcg(read('scpecg-12lead-example-ecgtoolkit.scp'));
    expect(scp.source).toBe('scp-ecg');
    const g = scp.groups[0]!;
    expect(g.samplingFrequency).toBe(500);
    expect(g.leads.map((l) => l.name)).toEqual([...STANDARD_LEADS]);
    for (const l of g.leads) expect(l.mv.length).toBe(5000);
    const dcm = decodeDicomWaveform(dicomParser.parseDicom(read('ecg-12lead-eli250-implicit-le-ecgtoolkit.dcm'))).groups[0]!;
    for (let l = 0; l < 12; l++) {
      let maxDiff = 0;
      for (let i = 0; i < 5000; i++) maxDiff = Math.max(maxDiff, Math.abs(g.leads[l]!.mv[i]! - dcm.leads[l]!.mv[i]!));
      expect(maxDiff).toBeLessThanOrEqual(0.0026); // at most one 2.5 µV step (a padded sample in the DICOM copy)
    }
    // Section 7: the device's global measurements.
    expect(scp.deviceMeasurements).toMatchObject({ prMs: 148, qrsMs: 120, qtMs: 420, pDurationMs: 102, qrsAxis: -61 });
    const m = measureEcg(scp).measurements;
    expect(Math.abs(m.qrsMs! - 120)).toBeLessThanOrEqual(15);
  });

  it('Contec ECG90A (no Huffman, raw samples): 12 leads @ 800 Hz, cut to the samples section 6 really holds', () => {
    const rec = readScpEcg(read('scpecg-contec-ecg90a.scp'));
    const g = rec.groups[0]!;
    expect(g.samplingFrequency).toBe(800);
    expect(g.leads.map((l) => l.name)).toEqual([...STANDARD_LEADS]);
    // Section 3 declares 37855 samples per lead but the encoder's 16-bit byte counts cap section 6 at 65534 bytes.
    for (const l of g.leads) expect(l.mv.length).toBe(32767);
    expect(rec.warnings?.[0]).toMatch(/declares 37855 samples, section 6 holds 32767/);
    for (const l of g.leads) expect(l.mv.every((v) => Math.abs(v) < 10)).toBe(true);
    const m = measureEcg(rec).measurements;
    expect(m.heartRate).toBeGreaterThanOrEqual(30);
    expect(m.heartRate).toBeLessThanOrEqual(200);
    expect(m.beats).toBeGreaterThan(40);
  });

  it('refuses what it cannot decode faithfully, and damaged or foreign files', () => {
    const toolkit = read('scpecg-12lead-example-ecgtoolkit.scp');
    // Section 3 starts at byte index 329; its flags byte is at 16 + 1. Bit 0: reference-beat subtraction.
    const withRefBeat = patched(toolkit, 329, 17, toolkit[329 - 1 + 17]! | 1);
    expect(codeOf(() => readScpEcg(withRefBeat))).toBe('ECG.SCP_UNSUPPORTED');
    try {
      readScpEcg(withRefBeat);
    } catch (e) {
      expect((e as EcgDecodeError).message).toMatch(/reference-beat subtraction.*DICOM .*HL7 aECG/);
      expect((e as EcgDecodeError).kind).toBe('unprocessable');
    }
    // Section 6 starts at 3819; bimodal compression byte at 16 + 5.
    expect(codeOf(() => readScpEcg(patched(toolkit, 3819, 21, 1)))).toBe('ECG.SCP_UNSUPPORTED');
    const corrupt = toolkit.slice();
    corrupt[5000] = corrupt[5000]! ^ 0xff;
    expect(codeOf(() => readScpEcg(corrupt))).toBe('ECG.SCP_MALFORMED');
    expect(codeOf(() => readScpEcg(toolkit.subarray(0, 20000)))).toBe('ECG.SCP_MALFORMED');
    expect(codeOf(() => readScpEcg(read('aecg-minimal-single-lead.xml')))).toBe('ECG.SCP_MALFORMED');
    expect(looksLikeScpEcg(toolkit)).toBe(true);
    expect(looksLikeScpEcg(read('ecg-12lead-mortara-explicit-le.dcm'))).toBe(false);
  });
});
