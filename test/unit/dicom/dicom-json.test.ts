/**
 * The DICOMweb reader of stored instances: DICOM JSON of the header (PS3.18 F.2) and the byte runs
 * of each frame, on real samples in every layout (native, big-endian, raw dataset, encapsulated with
 * and without a Basic Offset Table, several fragments per frame, RLE, implicit-VR and deflated ECGs).
 */
import { describe, expect, it } from 'vitest';
import { dicomObjectReader } from '../../../shared/dicom/dicom-json.ts';
import { bytesSource } from '../../../shared/dicom/inspector.ts';
import type { ByteRun, DicomJson, FrameLayout } from '../../../shared/ports/dicom-reader.ts';
import { countingSource, readSample } from './support.ts';

async function meta(name: string): Promise<DicomJson> {
  const r = await dicomObjectReader.metadata(bytesSource(readSample(name)));
  if (!r.ok) throw new Error(`${name}: ${r.code}`);
  return r.json;
}
async function layout(name: string): Promise<FrameLayout> {
  const r = await dicomObjectReader.frames(bytesSource(readSample(name)));
  if (!r.ok) throw new Error(`${name}: ${r.code}`);
  return r.layout;
}
const concat = (b: Uint8Array, runs: ByteRun[]) => Buffer.concat(runs.map((r) => b.subarray(r.offset, r.offset + r.length)));
const v = (j: DicomJson, tag: string) => j[tag]?.Value?.[0];

describe('DICOM JSON of a stored header', () => {
  it('gives explicit-VR attributes their VR and JSON types (PN objects, IS/DS numbers, US numbers)', async () => {
    const j = await meta('xray-cr-chest-16bit-uncompressed-explicit-le.dcm');
    expect(j['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Anonymized' }] });
    expect(j['00280010']).toEqual({ vr: 'US', Value: [440] });
    expect(j['00200013']).toEqual({ vr: 'IS', Value: [16] });
    expect(j['00080016']).toEqual({ vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.1'] });
    expect(v(j, '00020010')).toBe('1.2.840.10008.1.2.1');
    expect(j['7FE00010']).toBeUndefined();
    expect(Object.keys(j).every((k) => /^[0-9A-F]{8}$/.test(k))).toBe(true);
  });

  it('takes implicit-VR types from the dictionary and leaves waveform samples out', async () => {
    const j = await meta('ecg-12lead-eli250-implicit-le-ecgtoolkit.dcm');
    expect(j['00100010']!.vr).toBe('PN');
    expect(j['00080060']).toEqual({ vr: 'CS', Value: ['ECG'] });
    const seq = j['54000100'];
    expect(seq?.vr).toBe('SQ');
    const items = seq!.Value as DicomJson[];
    expect(items).toHaveLength(2);
    expect(items[0]!['003A0005']).toEqual({ vr: 'US', Value: [12] });
    expect(items.every((it) => it['54001010'] === undefined)).toBe(true);
    expect(v(j, '00020010')).toBe('1.2.840.10008.1.2');
  });

  it('reads a deflated ECG and a raw dataset without a Part 10 header', async () => {
    const d = await meta('ecg-hemodynamic-waveform-deflated-gemarquette.dcm');
    expect(v(d, '00020010')).toBe('1.2.840.10008.1.2.1.99');
    expect(v(d, '00080060')).toBe('ECG');
    const raw = await meta('xray-cr-chest-16bit-raw-no-part10-header.dcm');
    expect(v(raw, '00020010')).toBe('1.2.840.10008.1.2');
    expect(v(raw, '00280011')).toBe(440);
  });

  it('reads only the header of a large compressed image', async () => {
    const bytes = readSample('xray-dx-16bit-jpeg2000-lossless.dcm');
    const { source, stats } = countingSource(bytes);
    const r = await dicomObjectReader.metadata(source);
    expect(r.ok).toBe(true);
    expect(stats.maxEnd).toBeLessThan(bytes.length / 4);
  });

  it('refuses what is not DICOM with a code, without throwing', async () => {
    const r = await dicomObjectReader.metadata(bytesSource(readSample('nondicom-ecg-printout.pdf')));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toMatch(/^(FILE|DICOM)\./);
  });
});

describe('frame layout', () => {
  it('native: one run of Rows × Columns × Samples × Bits/8 bytes at the end of the file', async () => {
    const bytes = readSample('xray-cr-chest-16bit-uncompressed-explicit-le.dcm');
    const l = await layout('xray-cr-chest-16bit-uncompressed-explicit-le.dcm');
    expect(l.kind).toBe('native');
    if (l.kind !== 'native') return;
    expect(l.frames).toEqual([[{ offset: bytes.length - 387200, length: 387200 }]]);
    expect(l.swapBytes).toBe(0);
    const rgb = await layout('us-rgb-uncompressed-single-frame.dcm');
    expect(rgb.kind === 'native' && rgb.frames[0]![0]!.length).toBe(240 * 320 * 3);
  });

  it('encapsulated with a Basic Offset Table: one fragment per frame, each a JPEG', async () => {
    const name = 'us-multiframe-30f-jpeg-baseline-ybr422.dcm';
    const bytes = readSample(name);
    const l = await layout(name);
    expect(l.kind === 'encapsulated' && l.transferSyntaxUID).toBe('1.2.840.10008.1.2.4.50');
    if (l.kind !== 'encapsulated') return;
    expect(l.frames).toHaveLength(30);
    for (const f of l.frames) {
      const b = concat(bytes, f);
      expect([b[0], b[1]]).toEqual([0xff, 0xd8]);
      // Fragments have even length: the end-of-image marker may be followed by one padding byte.
      expect(b.subarray(-3).indexOf(Buffer.from([0xff, 0xd9]))).toBeGreaterThanOrEqual(0);
    }
  });

  it('encapsulated without an offset table: fragments grouped into frames at each JPEG start', async () => {
    const name = 'us-multiframe-8f-jpeg-baseline-no-bot.dcm';
    const bytes = readSample(name);
    const l = await layout(name);
    if (l.kind !== 'encapsulated') throw new Error(l.kind);
    expect(l.frames).toHaveLength(8);
    expect(l.frames.flat()).toHaveLength(44);
    for (const f of l.frames) {
      const b = concat(bytes, f);
      expect([b[0], b[1]]).toEqual([0xff, 0xd8]);
      expect(b.subarray(-3).indexOf(Buffer.from([0xff, 0xd9]))).toBeGreaterThanOrEqual(0);
      expect(b.subarray(2).indexOf(Buffer.from([0xff, 0xd8, 0xff]))).toBe(-1);
    }
  });

  it('a single frame in several fragments is all of them; RLE frames start with their segment count', async () => {
    const ls = await layout('xray-cr-nema-rg2-jpegls-near-lossless.dcm');
    expect(ls.kind === 'encapsulated' && ls.frames.length).toBe(1);
    expect(ls.kind === 'encapsulated' && ls.frames[0]!.length).toBe(11);
    const name = 'us-multiframe-10f-palette-rle-echo.dcm';
    const bytes = readSample(name);
    const rle = await layout(name);
    if (rle.kind !== 'encapsulated') throw new Error(rle.kind);
    expect(rle.frames).toHaveLength(10);
    for (const f of rle.frames) expect(Buffer.from(concat(bytes, f)).readUInt32LE(0)).toBe(1);
  });

  it('an ECG has no frames', async () => {
    expect((await layout('ecg-12lead-mortara-explicit-le.dcm')).kind).toBe('none');
  });
});
