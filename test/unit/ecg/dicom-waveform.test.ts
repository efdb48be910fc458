import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import { decodeDicomWaveform, EcgDecodeError, measureEcg, STANDARD_LEADS } from '../../../shared/dicom/ecg/index.ts';
import type { EcgRecording } from '../../../shared/dicom/ecg/index.ts';
import { int16Interleaved, part10, waveformGroup } from './waveform-writer.ts';

const SAMPLES = join(import.meta.dirname, '../../../../shared/samples');

const inflater = (a: Uint8Array, pos: number): Uint8Array => {
  const body = inflateRawSync(a.subarray(pos));
  const out = new Uint8Array(pos + body.length);
  out.set(a.subarray(0, pos));
  out.set(body, pos);
  return out;
};

function parse(bytes: Uint8Array) {
  // dicom-parser's typings declare the inflater as returning void; it uses the returned array.
  return dicomParser.parseDicom(bytes, { inflater } as unknown as dicomParser.ParseDicomOptions);
}

function decodeSample(name: string): EcgRecording {
  return decodeDicomWaveform(parse(new Uint8Array(readFileSync(join(SAMPLES, name)))));
}

function expectDecodeError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EcgDecodeError);
    expect((e as EcgDecodeError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

/** Per MANIFEST.md section (a). */
const SAMPLE_GROUPS: Record<string, Array<{ label: string; channels: number; samples: number; fs: number }>> = {
  'ecg-12lead-mortara-explicit-le.dcm': [
    { label: 'RHYTHM', channels: 12, samples: 10000, fs: 1000 },
    { label: 'MEDIAN BEAT', channels: 12, samples: 1200, fs: 1000 },
  ],
  'ecg-12lead-eli250-implicit-le-ecgtoolkit.dcm': [
    { label: 'RHYTHM', channels: 12, samples: 5000, fs: 500 },
    { label: 'MEDIAN BEAT', channels: 12, samples: 600, fs: 500 },
  ],
  'ecg-12lead-eli250-explicit-le-cabolabs.dcm': [
    { label: 'RHYTHM', channels: 12, samples: 4999, fs: 500 },
    { label: 'MEDIAN BEAT', channels: 12, samples: 599, fs: 500 },
  ],
  'ecg-12lead-sop-single-channel-cabolabs.dcm': [{ label: 'RHYTHM', channels: 1, samples: 250, fs: 200 }],
  'ecg-hemodynamic-waveform-deflated-gemarquette.dcm': [{ label: 'GROUP 1', channels: 12, samples: 2400, fs: 240 }],
};

describe('decodeDicomWaveform on the public samples', () => {
  for (const [file, groups] of Object.entries(SAMPLE_GROUPS)) {
    it(`${file}: groups, channels, samples, rate, lead names and millivolt range`, () => {
      const rec = decodeSample(file);
      expect(rec.source).toBe('dicom');
      expect(rec.groups.map((g) => ({ label: g.label, channels: g.leads.length, samples: g.leads[0]!.mv.length, fs: g.samplingFrequency }))).toEqual(groups);
      for (const g of rec.groups) {
        const names = g.leads.map((l) => l.name);
        if (g.leads.length === 12) expect(names).toEqual([...STANDARD_LEADS]);
        else expect(names).toEqual(['I']);
        let nonZero = 0;
        for (const l of g.leads) {
          for (const v of l.mv) {
            expect(Number.isFinite(v)).toBe(true);
            expect(Math.abs(v)).toBeLessThan(10);
          }
          if (l.mv.some((v) => Math.abs(v) > 0.05)) nonZero++;
        }
        expect(nonZero).toBeGreaterThanOrEqual(Math.min(g.leads.length, 10));
      }
    });
  }

  it('reads the device measurements and statements the files carry', () => {
    const mortara = decodeSample('ecg-12lead-mortara-explicit-le.dcm');
    expect(mortara.deviceMeasurements).toMatchObject({ rrMs: 982, prMs: 161, qrsMs: 75, qtMs: 368, qtcMs: 370, pAxis: 74, qrsAxis: 52, tAxis: 57, heartRate: 61 });
    expect(mortara.deviceStatements).toEqual(['RITMO SINUSALE', 'ECG NORMALE']);
    const eli = decodeSample('ecg-12lead-eli250-explicit-le-cabolabs.dcm');
    expect(eli.deviceMeasurements).toMatchObject({ prMs: 148, qrsMs: 120, qtMs: 420, qtcMs: 443, qrsAxis: -61 });
    expect(decodeSample('ecg-hemodynamic-waveform-deflated-gemarquette.dcm').deviceMeasurements).toMatchObject({ heartRate: 69 });
  });

  it('the two encodings of the ELI250 record decode to the same millivolts', () => {
    const a = decodeSample('ecg-12lead-eli250-implicit-le-ecgtoolkit.dcm').groups[0]!;
    const b = decodeSample('ecg-12lead-eli250-explicit-le-cabolabs.dcm').groups[0]!;
    for (let l = 0; l < 12; l++) {
      let maxDiff = 0;
      for (let i = 0; i < 4999; i++) maxDiff = Math.max(maxDiff, Math.abs(a.leads[l]!.mv[i]! - b.leads[l]!.mv[i]!));
      expect(maxDiff).toBeLessThan(0.01);
    }
  });

  const plausible: Array<[string, Record<string, number>]> = [
    ['ecg-12lead-mortara-explicit-le.dcm', { heartRate: 61, prMs: 161, qrsMs: 75, qtMs: 368 }],
    ['ecg-12lead-eli250-implicit-le-ecgtoolkit.dcm', { prMs: 148, qrsMs: 120, qtMs: 420 }],
    ['ecg-12lead-eli250-explicit-le-cabolabs.dcm', { prMs: 148, qrsMs: 120, qtMs: 420 }],
    ['ecg-hemodynamic-waveform-deflated-gemarquette.dcm', { heartRate: 69 }],
  ];
  for (const [file, device] of plausible) {
    it(`${file}: measurements are plausible, agree with the device, and with the file's median beat`, () => {
      const rec = decodeSample(file);
      const { measurements: m, flags, detail } = measureEcg(rec);
      expect(m.heartRate).toBeGreaterThanOrEqual(30);
      expect(m.heartRate).toBeLessThanOrEqual(200);
      expect(m.qrsMs).toBeGreaterThanOrEqual(60);
      expect(m.qrsMs).toBeLessThanOrEqual(160);
      expect(m.qtcBazettMs).toBeGreaterThanOrEqual(300);
      expect(m.qtcBazettMs).toBeLessThanOrEqual(550);
      expect(m.qtcFridericiaMs).toBeGreaterThanOrEqual(300);
      expect(m.qtcFridericiaMs).toBeLessThanOrEqual(550);
      expect(flags).toEqual([]);
      // Advisory, but within a few samples of what the acquiring device said.
      if (device.heartRate) expect(Math.abs(m.heartRate! - device.heartRate)).toBeLessThanOrEqual(2);
      if (device.prMs) expect(Math.abs(m.prMs! - device.prMs)).toBeLessThanOrEqual(20);
      if (device.qrsMs) expect(Math.abs(m.qrsMs! - device.qrsMs)).toBeLessThanOrEqual(15);
      if (device.qtMs) expect(Math.abs(m.qtMs! - device.qtMs)).toBeLessThanOrEqual(30);
      if (rec.groups.length > 1) {
        expect(detail.fileMedianBeat).not.toBeNull();
        expect(detail.medianBeatConsistent).toBe(true);
      }
    });
  }

  it('a 1.25 s single-channel record decodes but yields no rate', () => {
    const { measurements } = measureEcg(decodeSample('ecg-12lead-sop-single-channel-cabolabs.dcm'));
    expect(measurements.heartRate).toBeNull();
  });

});

describe('decodeDicomWaveform on constructed datasets', () => {
  const leadI: [string, string, string] = ['5.6.3-9-1', 'SCPECG', 'Lead I (Einthoven)'];

  it('applies value = raw × sensitivity × correction + baseline, in the sensitivity units, to mV', () => {
    const bytes = part10([
      {
        tag: 0x54000100,
        vr: 'SQ',
        items: [
          waveformGroup({
            label: 'RHYTHM',
            fs: '500',
            interpretation: 'SS',
            bits: 16,
            samples: 3,
            channels: [
              { code: leadI, sensitivity: '2.5', units: 'uV', correction: '1.2', baseline: '100' },
              { code: ['2:2', 'MDC', 'Lead II'], sensitivity: '0.005', units: 'mV', correction: '1', baseline: '-0.1' },
            ],
            data: int16Interleaved([
              [0, 1000, -400],
              [0, 200, -20],
            ]),
          }),
        ],
      },
    ]);
    const rec = decodeDicomWaveform(parse(bytes));
    const [i, ii] = rec.groups[0]!.leads;
    expect(i!.name).toBe('I');
    expect(ii!.name).toBe('II');
    // (0 × 2.5 × 1.2 + 100) µV = 0.1 mV; (1000 × 3 + 100) µV = 3.1 mV; (−400 × 3 + 100) µV = −1.1 mV
    expect(Array.from(i!.mv).map((v) => +v.toFixed(4))).toEqual([0.1, 3.1, -1.1]);
    expect(Array.from(ii!.mv).map((v) => +v.toFixed(4))).toEqual([-0.1, 0.9, -0.2]);
  });

  it('keeps only the ECG leads of a hemodynamic group that mixes in pressures', () => {
    const bytes = part10(
      [
        {
          tag: 0x54000100,
          vr: 'SQ',
          items: [
            waveformGroup({
              fs: '250',
              interpretation: 'SS',
              bits: 16,
              samples: 2,
              channels: [
                { code: ['5.6.3-9-2', 'SCPECG', 'Lead II'], sensitivity: '1', units: 'uV', baseline: '0' },
                { code: ['2:1', 'MDC', 'Lead I'], sensitivity: '1', units: 'uV', baseline: '0' },
                { code: ['122.1', 'DCM', 'Aortic pressure'], sensitivity: '0.1', units: 'mm[Hg]', baseline: '0' },
              ],
              data: int16Interleaved([
                [100, 200],
                [300, 400],
                [1200, 800],
              ]),
            }),
          ],
        },
      ],
      { sopClass: '1.2.840.10008.5.1.4.1.1.9.2.1' },
    );
    const rec = decodeDicomWaveform(parse(bytes));
    expect(rec.groups[0]!.leads.map((l) => l.name)).toEqual(['I', 'II']);
    expect(Array.from(rec.groups[0]!.leads[0]!.mv).map((v) => +v.toFixed(3))).toEqual([0.3, 0.4]);
    expect(rec.warnings?.join(' ')).toMatch(/channel 3 .*skipped/);
  });

  it('honours big-endian byte order', () => {
    const group = (big: boolean) =>
      part10(
        [
          {
            tag: 0x54000100,
            vr: 'SQ',
            items: [
              waveformGroup({
                fs: '500',
                interpretation: 'SS',
                bits: 16,
                samples: 3,
                channels: [{ code: leadI, sensitivity: '1', units: 'mV', baseline: '0' }],
                data: int16Interleaved([[1, -2, 300]], big),
              }),
            ],
          },
        ],
        { bigEndian: big },
      );
    expect(Array.from(decodeDicomWaveform(parse(group(true))).groups[0]!.leads[0]!.mv)).toEqual([1, -2, 300]);
    expect(Array.from(decodeDicomWaveform(parse(group(false))).groups[0]!.leads[0]!.mv)).toEqual([1, -2, 300]);
  });

  it('reads 8-bit signed, unsigned and µ-law samples', () => {
    const make = (interpretation: string, data: number[]) =>
      decodeDicomWaveform(
        parse(
          part10([
            {
              tag: 0x54000100,
              vr: 'SQ',
              items: [
                waveformGroup({
                  fs: '200',
                  interpretation,
                  bits: 8,
                  samples: data.length,
                  channels: [{ code: leadI, sensitivity: '1', units: 'uV', baseline: '0' }],
                  data: Uint8Array.from(data),
                }),
              ],
            },
          ]),
        ),
      ).groups[0]!.leads[0]!.mv;
    expect(Array.from(make('SB', [0xff, 0x02])).map((v) => Math.round(v * 1000))).toEqual([-1, 2]);
    expect(Array.from(make('UB', [0xff, 0x02])).map((v) => Math.round(v * 1000))).toEqual([255, 2]);
    // G.711 µ-law: 0xFF is +0, 0x80 is the largest positive value (32124), 0x00 the largest negative.
    expect(Array.from(make('MB', [0xff, 0x80, 0x00])).map((v) => Math.round(v * 1000))).toEqual([0, 32124, -32124]);
  });

  it('fills padding samples at the end of a channel instead of reading them as millivolts', () => {
    const rec = decodeDicomWaveform(
      parse(
        part10([
          {
            tag: 0x54000100,
            vr: 'SQ',
            items: [
              waveformGroup({
                fs: '500',
                interpretation: 'SS',
                bits: 16,
                samples: 4,
                channels: [{ code: leadI, sensitivity: '1', units: 'mV', baseline: '0' }],
                data: int16Interleaved([[1, 2, -32768, -32768]]),
                padding: Uint8Array.from([0x00, 0x80]),
              }),
            ],
          },
        ]),
      ),
    );
    expect(Array.from(rec.groups[0]!.leads[0]!.mv)).toEqual([1, 2, 2, 2]);
    expect(rec.warnings?.join(' ')).toMatch(/2 padding samples/);
  });

  it('refuses a dataset without waveform, with truncated data, or with a bad interpretation', () => {
    expectDecodeError(() => decodeDicomWaveform(parse(part10([{ tag: 0x00100020, vr: 'LO', value: 'X' }]))), 'ECG.NO_WAVEFORM');
    const base = { fs: '500', bits: 16, channels: [{ code: leadI, sensitivity: '1', units: 'mV', baseline: '0' }] };
    expectDecodeError(
      () =>
        decodeDicomWaveform(
          parse(part10([{ tag: 0x54000100, vr: 'SQ', items: [waveformGroup({ ...base, interpretation: 'SS', samples: 10, data: int16Interleaved([[1, 2]]) })] }])),
        ),
      'ECG.WAVEFORM_TRUNCATED',
    );
    expectDecodeError(
      () =>
        decodeDicomWaveform(
          parse(part10([{ tag: 0x54000100, vr: 'SQ', items: [waveformGroup({ ...base, interpretation: 'XX', samples: 2, data: int16Interleaved([[1, 2]]) })] }])),
        ),
      'ECG.UNSUPPORTED_SAMPLE_FORMAT',
    );
    expectDecodeError(
      () =>
        decodeDicomWaveform(
          parse(
            part10([
              {
                tag: 0x54000100,
                vr: 'SQ',
                items: [
                  waveformGroup({
                    ...base,
                    channels: [{ code: ['122.1', 'DCM', 'Aortic pressure'], sensitivity: '1', units: 'mm[Hg]', baseline: '0' }],
                    interpretation: 'SS',
                    samples: 2,
                    data: int16Interleaved([[1, 2]]),
                  }),
                ],
              },
            ]),
          ),
        ),
      'ECG.NO_ECG_LEADS',
    );
  });
});
