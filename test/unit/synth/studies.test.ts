import { mkdtempSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import { IMPLICIT_VR_LITTLE_ENDIAN } from '../../../shared/synth/dicom-writer.ts';
import { pipeToFile, writeSyntheticFile } from '../../../shared/synth/files.ts';
import {
  ECG_LEAD_CODES,
  SOP_CLASS,
  syntheticCrDx,
  syntheticEcg,
  syntheticUltrasound,
  syntheticUltrasoundStream,
  type SyntheticMetadata,
} from '../../../shared/synth/studies.ts';
import { collect, crossCheck, dcmdump } from './cross-check.ts';


function expectCommon(ds: dicomParser.DataSet, md: SyntheticMetadata): void {
  expect(ds.string('x00020002')).toBe(md.SOPClassUID);
  expect(ds.string('x00080016')).toBe(md.SOPClassUID);
  expect(ds.string('x00020003')).toBe(md.SOPInstanceUID);
  expect(ds.string('x00080018')).toBe(md.SOPInstanceUID);
  expect(ds.string('x0020000d')).toBe(md.StudyInstanceUID);
  expect(ds.string('x0020000e')).toBe(md.SeriesInstanceUID);
  expect(ds.string('x00080060')).toBe(md.Modality);
  expect(ds.string('x00100020')).toBe(md.PatientID);
  expect(ds.string('x00020010')).toBe(md.TransferSyntaxUID);
  for (const uid of [md.StudyInstanceUID, md.SeriesInstanceUID, md.SOPInstanceUID]) {
    expect(uid).toMatch(/^2\.25\.[1-9]\d*$/);
    expect(uid.length).toBeLessThanOrEqual(64);
  }
  expect(md.PatientID).toMatch(/^SYN-\d{8}$/);
}

describe('syntheticCrDx', () => {
  it('makes a 2500×2000 12-bit CR chest by default, read alike by dicom-parser, the strict walker and dcmdump', () => {
    const { bytes, metadata: md } = syntheticCrDx({ seed: 1, modality: 'CR' });
    expect(md.sizeBytes).toBe(bytes.length);
    const ds = dicomParser.parseDicom(bytes);
    expectCommon(ds, md);
    expect(md.SOPClassUID).toBe(SOP_CLASS.CR);
    expect(ds.uint16('x00280010')).toBe(2500);
    expect(ds.uint16('x00280011')).toBe(2000);
    expect(ds.uint16('x00280002')).toBe(1);
    expect(ds.uint16('x00280100')).toBe(16);
    expect(ds.uint16('x00280101')).toBe(12);
    expect(ds.uint16('x00280102')).toBe(11);
    expect(ds.uint16('x00280103')).toBe(0);
    expect(ds.string('x00280004')).toBe('MONOCHROME2');
    const px = ds.elements['x7fe00010']!;
    expect(px.length).toBe(2500 * 2000 * 1 * 2);
    expect(px.dataOffset + px.length).toBe(bytes.length);
    // stored values within BitsStored, image not flat
    const v = new Uint16Array(bytes.buffer.slice(px.dataOffset, px.dataOffset + px.length));
    let min = 65535;
    let max = 0;
    for (let i = 0; i < v.length; i += 97) {
      min = Math.min(min, v[i]!);
      max = Math.max(max, v[i]!);
    }
    expect(max).toBeLessThanOrEqual(4095);
    expect(max - min).toBeGreaterThan(1500);
    // the spine (centre column) is brighter than the lung fields
    const at = (r: number, c: number): number => v[r * 2000 + c]!;
    expect(at(1100, 1000)).toBeGreaterThan(at(1100, 600) + 300);

    const { dump } = crossCheck(bytes, 'cr.dcm');
    if (dump) {
      expect(dump.values.get('0008,0016')).toBe('=ComputedRadiographyImageStorage');
      expect(dump.values.get('0028,0010')).toBe('2500');
      expect(dump.values.get('0028,0011')).toBe('2000');
    }
  });

  it('makes DX For Presentation with the DX image attributes, MONOCHROME1 inverted', () => {
    const mono2 = syntheticCrDx({ seed: 5, modality: 'DX', rows: 250, columns: 200 });
    const mono1 = syntheticCrDx({ seed: 5, modality: 'DX', rows: 250, columns: 200, photometric: 'MONOCHROME1', bitsStored: 14 });
    const ds = dicomParser.parseDicom(mono1.bytes);
    expectCommon(ds, mono1.metadata);
    expect(mono1.metadata.SOPClassUID).toBe(SOP_CLASS.DX_FOR_PRESENTATION);
    expect(ds.string('x00080068')).toBe('FOR PRESENTATION');
    expect(ds.string('x00280004')).toBe('MONOCHROME1');
    expect(ds.string('x20500020')).toBe('INVERSE');
    expect(ds.string('x00281054')).toBe('US');
    expect(ds.uint16('x00280101')).toBe(14);
    expect(ds.uint16('x00280102')).toBe(13);
    expect(ds.elements['x00400555']).toBeDefined();
    expect(ds.elements['x7fe00010']!.length).toBe(250 * 200 * 2);
    expect(dicomParser.parseDicom(mono2.bytes).string('x20500020')).toBe('IDENTITY');
    // same anatomy, inverted scale: air (corner) dark in MONOCHROME2, bright in MONOCHROME1
    const corner = (b: Uint8Array): number => {
      const p = dicomParser.parseDicom(b).elements['x7fe00010']!;
      return b[p.dataOffset]! | (b[p.dataOffset + 1]! << 8);
    };
    expect(corner(mono2.bytes)).toBeLessThan(1000);
    expect(corner(mono1.bytes)).toBeGreaterThan(12000);
    crossCheck(mono1.bytes, 'dx.dcm');
  });

  it('is byte-identical for the same seed, with other UIDs for another seed', () => {
    const a = syntheticCrDx({ seed: 42, modality: 'CR', rows: 100, columns: 80 });
    const b = syntheticCrDx({ seed: 42, modality: 'CR', rows: 100, columns: 80 });
    const c = syntheticCrDx({ seed: 43, modality: 'CR', rows: 100, columns: 80 });
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(c.metadata.StudyInstanceUID).not.toBe(a.metadata.StudyInstanceUID);
    expect(c.metadata.SeriesInstanceUID).not.toBe(a.metadata.SeriesInstanceUID);
    expect(c.metadata.SOPInstanceUID).not.toBe(a.metadata.SOPInstanceUID);
    expect(Buffer.from(a.bytes).equals(Buffer.from(c.bytes))).toBe(false);
  });

  it('groups instances into one study with studySeed', () => {
    const a = syntheticCrDx({ seed: 1, studySeed: 900, modality: 'CR', rows: 64, columns: 64 });
    const b = syntheticCrDx({ seed: 2, studySeed: 900, modality: 'DX', rows: 64, columns: 64, instanceNumber: 2 });
    expect(a.metadata.StudyInstanceUID).toBe(b.metadata.StudyInstanceUID);
    expect(a.metadata.PatientID).toBe(b.metadata.PatientID);
    expect(a.metadata.AccessionNumber).toBe(b.metadata.AccessionNumber);
    expect(a.metadata.SOPInstanceUID).not.toBe(b.metadata.SOPInstanceUID);
  });
});

describe('Chinese patient names', () => {
  const wangFang = { family: { hanzi: '王', pinyin: 'Wang' }, given: { hanzi: '芳', pinyin: 'Fang' } };

  it('writes GB18030 with SpecificCharacterSet GB18030', () => {
    const { bytes, metadata } = syntheticCrDx({ seed: 3, modality: 'CR', rows: 32, columns: 32, patient: { ...wangFang, charset: 'GB18030' } });
    const ds = dicomParser.parseDicom(bytes);
    expect(ds.string('x00080005')).toBe('GB18030');
    const el = ds.elements['x00100010']!;
    const raw = bytes.subarray(el.dataOffset, el.dataOffset + el.length);
    // 15 bytes, padded to even length with a space
    expect([...raw]).toEqual([...Buffer.from('Wang^Fang=', 'latin1'), 0xcd, 0xf5, 0x5e, 0xb7, 0xbc, 0x20]);
    expect(new TextDecoder('gb18030').decode(raw).trim()).toBe('Wang^Fang=王^芳');
    expect(metadata.PatientName).toBe('Wang^Fang=王^芳');
    expect(metadata.SpecificCharacterSet).toBe('GB18030');
    const { dump } = crossCheck(bytes, 'gb18030.dcm');
    if (dump) expect(dump.values.get('0010,0010')).toBe('Wang^Fang=王^芳');
  });

  it("writes UTF-8 with SpecificCharacterSet 'ISO_IR 192'", () => {
    const { bytes } = syntheticEcg({ seed: 3, patient: { ...wangFang, charset: 'ISO_IR 192' } });
    const ds = dicomParser.parseDicom(bytes);
    expect(ds.string('x00080005')).toBe('ISO_IR 192');
    const el = ds.elements['x00100010']!;
    const raw = bytes.subarray(el.dataOffset, el.dataOffset + el.length);
    expect([...raw.subarray(10, 17)]).toEqual([0xe7, 0x8e, 0x8b, 0x5e, 0xe8, 0x8a, 0xb3]);
    expect(new TextDecoder().decode(raw).trim()).toBe('Wang^Fang=王^芳');
    const { dump } = crossCheck(bytes, 'utf8.dcm');
    if (dump) expect(dump.values.get('0010,0010')).toBe('Wang^Fang=王^芳');
  });

  it('draws ASCII pinyin names by default, no SpecificCharacterSet', () => {
    const { bytes, metadata } = syntheticEcg({ seed: 8 });
    const ds = dicomParser.parseDicom(bytes);
    expect(ds.elements['x00080005']).toBeUndefined();
    expect(metadata.PatientName).toMatch(/^[A-Z][a-z]+\^[A-Z][a-z]+$/);
    expect(ds.string('x00100010')).toBe(metadata.PatientName);
  });
});

describe('syntheticUltrasound', () => {
  it('makes a single-frame MONOCHROME2 ultrasound (Ultrasound Image Storage)', () => {
    const { bytes, metadata: md } = syntheticUltrasound({ seed: 1 });
    const ds = dicomParser.parseDicom(bytes);
    expectCommon(ds, md);
    expect(md.SOPClassUID).toBe(SOP_CLASS.US);
    expect(ds.string('x00080060')).toBe('US');
    expect(ds.uint16('x00280010')).toBe(480);
    expect(ds.uint16('x00280011')).toBe(640);
    expect(ds.uint16('x00280002')).toBe(1);
    expect(ds.uint16('x00280100')).toBe(8);
    expect(ds.string('x00280004')).toBe('MONOCHROME2');
    expect(ds.elements['x00280008']).toBeUndefined();
    expect(ds.elements['x7fe00010']!.length).toBe(480 * 640);
    const region = ds.elements['x00186011']!.items![0]!.dataSet!;
    expect(region.uint16('x00186024')).toBe(3);
    expect(region.double('x0018602c')).toBeGreaterThan(0);
    const { dump } = crossCheck(bytes, 'us.dcm');
    if (dump) expect(dump.values.get('0008,0016')).toBe('=UltrasoundImageStorage');
  });

  it('makes an RGB multi-frame cine with NumberOfFrames, FrameTime, CineRate and FrameIncrementPointer', () => {
    const { bytes, metadata: md } = syntheticUltrasound({ seed: 2, frames: 12, rows: 120, columns: 160, rgb: true, frameTimeMs: 40 });
    const ds = dicomParser.parseDicom(bytes);
    expectCommon(ds, md);
    expect(md.SOPClassUID).toBe(SOP_CLASS.US_MULTIFRAME);
    expect(ds.intString('x00280008')).toBe(12);
    expect(ds.floatString('x00181063')).toBe(40);
    expect(ds.intString('x00180040')).toBe(25);
    expect(ds.attributeTag('x00280009')).toBe('x00181063');
    expect(ds.string('x00280004')).toBe('RGB');
    expect(ds.uint16('x00280002')).toBe(3);
    expect(ds.uint16('x00280006')).toBe(0);
    const px = ds.elements['x7fe00010']!;
    expect(px.length).toBe(120 * 160 * 3 * 12);
    expect(md.pixelDataLength).toBe(px.length);
    // frames differ (speckle and motion)
    const f = 120 * 160 * 3;
    const f0 = bytes.subarray(px.dataOffset, px.dataOffset + f);
    const f1 = bytes.subarray(px.dataOffset + f, px.dataOffset + 2 * f);
    expect(Buffer.from(f0).equals(Buffer.from(f1))).toBe(false);
    const { dump } = crossCheck(bytes, 'us-cine.dcm');
    if (dump) {
      expect(dump.values.get('0008,0016')).toBe('=UltrasoundMultiframeImageStorage');
      expect(dump.values.get('0028,0008')).toBe('12');
    }
  });

  it('writes Implicit VR Little Endian cines too, streamed and in memory alike', async () => {
    const opts = { seed: 4, frames: 3, rows: 60, columns: 80, rgb: true, transferSyntaxUID: IMPLICIT_VR_LITTLE_ENDIAN } as const;
    const mem = syntheticUltrasound(opts);
    const streamed = await collect(syntheticUltrasoundStream(opts).stream);
    expect(Buffer.from(streamed).equals(Buffer.from(mem.bytes))).toBe(true);
    const ds = dicomParser.parseDicom(mem.bytes);
    expect(ds.string('x00020010')).toBe(IMPLICIT_VR_LITTLE_ENDIAN);
    expect(ds.intString('x00280008')).toBe(3);
    expect(ds.elements['x7fe00010']!.length).toBe(60 * 80 * 3 * 3);
    const { dump } = crossCheck(mem.bytes, 'us-implicit.dcm', ['00186011']);
    if (dump) expect(dump.values.get('0028,0004')).toBe('RGB');
  });

  it('streams byte-identical to the in-memory cine; same seed same bytes, other seed other UIDs', async () => {
    const opts = { seed: 11, frames: 6, rows: 96, columns: 128 };
    const mem = syntheticUltrasound(opts);
    const s = syntheticUltrasoundStream(opts);
    const streamed = await collect(s.stream);
    expect(Buffer.from(streamed).equals(Buffer.from(mem.bytes))).toBe(true);
    expect(s.metadata.sizeBytes).toBe(streamed.length);
    expect(s.metadata).toEqual(mem.metadata);
    const again = await collect(syntheticUltrasoundStream(opts).stream);
    expect(Buffer.from(again).equals(Buffer.from(streamed))).toBe(true);
    const other = syntheticUltrasoundStream({ ...opts, seed: 12 });
    expect(other.metadata.SOPInstanceUID).not.toBe(s.metadata.SOPInstanceUID);
    expect(other.metadata.StudyInstanceUID).not.toBe(s.metadata.StudyInstanceUID);
  });

  async function rssGrowth(run: () => Promise<void>): Promise<number> {
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    try {
      await run();
    } finally {
      clearInterval(timer);
    }
    return Math.max(peak, process.memoryUsage().rss) - before;
  }
  const framesFor = (mb: number): number => Math.ceil((mb * 1024 * 1024) / (480 * 640));

  it('streams a 50 MB cine to disk with bounded memory (writeSyntheticFile: about one frame)', async () => {
    const frames = framesFor(50);
    const s = syntheticUltrasoundStream({ seed: 21, frames });
    expect(s.metadata.sizeBytes).toBeGreaterThan(50 * 1024 * 1024);
    const dir = mkdtempSync(join(tmpdir(), 'synth-cine-'));
    let path = '';
    const growth = await rssGrowth(async () => {
      path = (await writeSyntheticFile(dir, s)).path;
    });
    expect(statSync(path).size).toBe(s.metadata.sizeBytes);
    // one frame is 300 KB, the file 50 MB
    expect(growth).toBeLessThan(s.metadata.sizeBytes / 5);

    // the header read back from disk says what was promised
    const fd = openSync(path, 'r');
    const head = new Uint8Array(4096);
    readSync(fd, head, 0, head.length, 0);
    closeSync(fd);
    const ds = dicomParser.parseDicom(head, { untilTag: 'x7fe00010' });
    expect(ds.intString('x00280008')).toBe(frames);
    expect(ds.string('x00080016')).toBe(SOP_CLASS.US_MULTIFRAME);
    const pixel = ds.elements['x7fe00010']!;
    expect(pixel.length).toBe(frames * 480 * 640);
    expect(pixel.dataOffset + pixel.length).toBe(s.metadata.sizeBytes);
    const dump = dcmdump(path);
    if (dump) expect(dump.values.get('0028,0008')).toBe(String(frames));
  });

  it('streams through the AsyncIterable with memory that does not grow with the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synth-cine-iter-'));
    const small = syntheticUltrasoundStream({ seed: 22, frames: framesFor(50) });
    const g50 = await rssGrowth(() => pipeToFile(small.stream, join(dir, 'a.dcm')));
    const big = syntheticUltrasoundStream({ seed: 22, frames: framesFor(150) });
    const g150 = await rssGrowth(() => pipeToFile(big.stream, join(dir, 'b.dcm')));
    expect(statSync(join(dir, 'b.dcm')).size).toBe(big.metadata.sizeBytes);
    // Fresh frame buffers wait for the GC (tens of MB of slack), but nothing holds the file.
    expect(g50).toBeLessThan(small.metadata.sizeBytes);
    expect(g150).toBeLessThan(big.metadata.sizeBytes * 0.6); // V8 frees external buffers after up to ~64 MB of garbage
    // one consumption per stream object: the iterable is spent, writeTo refuses
    expect(await collect(small.stream)).toHaveLength(0);
    await expect(small.writeTo(() => undefined)).rejects.toThrow(/once/);
  });
});

describe('syntheticEcg', () => {
  it('makes 12-lead ECG Waveform Storage with a RHYTHM group, SS samples in µV and CID 3001 lead codes', () => {
    const { bytes, metadata: md, recording } = syntheticEcg({ seed: 1, heartRate: 75, pr: 170, qrs: 96, qt: 400 });
    const ds = dicomParser.parseDicom(bytes);
    expectCommon(ds, md);
    expect(md.SOPClassUID).toBe(SOP_CLASS.ECG_12_LEAD);
    expect(ds.string('x00080060')).toBe('ECG');
    expect(ds.string('x0008002a')).toMatch(/^\d{14}$/);
    const groups = ds.elements['x54000100']!.items!;
    expect(groups).toHaveLength(1);
    const g = groups[0]!.dataSet!;
    expect(g.string('x003a0020')).toBe('RHYTHM');
    expect(g.uint16('x003a0005')).toBe(12);
    expect(g.uint32('x003a0010')).toBe(5000);
    expect(g.floatString('x003a001a')).toBe(500);
    expect(g.uint16('x54001004')).toBe(16);
    expect(g.string('x54001006')).toBe('SS');
    expect(g.string('x003a0004')).toBe('ORIGINAL');
    const channels = g.elements['x003a0200']!.items!;
    expect(channels).toHaveLength(12);
    const names = ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'];
    channels.forEach((ch, i) => {
      const c = ch.dataSet!;
      const src = c.elements['x003a0208']!.items![0]!.dataSet!;
      expect(src.string('x00080102')).toBe('MDC');
      expect(src.string('x00080100')).toBe(ECG_LEAD_CODES[names[i]!]!.value);
      expect(src.string('x00080104')).toBe(ECG_LEAD_CODES[names[i]!]!.meaning);
      expect(c.floatString('x003a0210')).toBe(1);
      const unit = c.elements['x003a0211']!.items![0]!.dataSet!;
      expect(unit.string('x00080100')).toBe('uV');
      expect(unit.string('x00080102')).toBe('UCUM');
      expect(c.floatString('x003a0212')).toBe(1);
      expect(c.floatString('x003a0213')).toBe(0);
      expect(c.uint16('x003a021a')).toBe(16);
    });
    expect(ECG_LEAD_CODES.I).toEqual({ value: '2:1', meaning: 'Lead I' });
    expect(ECG_LEAD_CODES.III!.value).toBe('2:61');
    expect(ECG_LEAD_CODES.V1!.value).toBe('2:3');

    // interleaved samples decode back to the generated millivolts (1 µV steps)
    const data = g.elements['x54001010']!;
    expect(data.length).toBe(12 * 5000 * 2);
    const view = new DataView(bytes.buffer, bytes.byteOffset + data.dataOffset, data.length);
    const leads = recording.groups[0]!.leads;
    const sampleAt = (s: number, c: number): number => view.getInt16((s * 12 + c) * 2, true);
    for (const s of [0, 777, 2500, 4999]) {
      for (let c = 0; c < 12; c++) {
        const lead = leads.find((l) => l.name === names[c])!;
        expect(Math.abs(sampleAt(s, c) - lead.mv[s]! * 1000)).toBeLessThanOrEqual(0.5 + 1e-6);
      }
    }
    // channel order: without noise and wander, Einthoven holds (III = II − I, aVF = II − I/2) within rounding
    const clean = syntheticEcg({ seed: 1, signal: { noiseMv: 0, baselineWanderMv: 0 } });
    const cg = dicomParser.parseDicom(clean.bytes).elements['x54000100']!.items![0]!.dataSet!.elements['x54001010']!;
    const cv = new DataView(clean.bytes.buffer, clean.bytes.byteOffset + cg.dataOffset, cg.length);
    const cAt = (s: number, c: number): number => cv.getInt16((s * 12 + c) * 2, true);
    let checked = 0;
    for (let s = 0; s < 5000; s += 7) {
      expect(Math.abs(cAt(s, 2) - (cAt(s, 1) - cAt(s, 0)))).toBeLessThanOrEqual(2);
      expect(Math.abs(cAt(s, 5) - (cAt(s, 1) - cAt(s, 0) / 2))).toBeLessThanOrEqual(2);
      if (Math.abs(cAt(s, 1)) > 100) checked++;
    }
    expect(checked).toBeGreaterThan(10);
    // there are QRS complexes: lead II peaks near 1 mV
    let peak = 0;
    for (let s = 0; s < 5000; s++) peak = Math.max(peak, sampleAt(s, 1));
    expect(peak).toBeGreaterThan(600);

    // device measurements as waveform annotations
    const ann = ds.elements['x0040b020']!.items!.map((it) => {
      const a = it.dataSet!;
      const concept = a.elements['x0040a043']!.items![0]!.dataSet!;
      return [concept.string('x00080100'), a.floatString('x0040a30a')] as const;
    });
    expect(ann).toContainEqual(['2:15872', 170]);
    expect(ann).toContainEqual(['2:16156', 96]);
    expect(ann).toContainEqual(['2:16160', 400]);
    expect(md.ecg).toMatchObject({ samplingFrequency: 500, samplesPerChannel: 5000, channels: 12, multiplexGroupLabel: 'RHYTHM' });

    const { dump } = crossCheck(bytes, 'ecg.dcm');
    if (dump) expect(dump.values.get('0008,0016')).toBe('=TwelveLeadECGWaveformStorage');
  });

  it('honours fs, duration and RR intervals; implicit VR parses the same', () => {
    const rrMs = [800, 800, 3200, 800];
    const a = syntheticEcg({ seed: 2, fs: 1000, durationS: 12, rrMs, transferSyntaxUID: IMPLICIT_VR_LITTLE_ENDIAN });
    const ds = dicomParser.parseDicom(a.bytes);
    expect(ds.string('x00020010')).toBe(IMPLICIT_VR_LITTLE_ENDIAN);
    const g = ds.elements['x54000100']!.items![0]!.dataSet!;
    expect(g.uint32('x003a0010')).toBe(12000);
    expect(g.floatString('x003a001a')).toBe(1000);
    expect(g.elements['x003a0200']!.items).toHaveLength(12);
    expect(g.elements['x54001010']!.length).toBe(12 * 12000 * 2);
    crossCheck(a.bytes, 'ecg-implicit.dcm', ['54000100', '003a0200', '003a0208', '003a0211', '0040b020', '004008ea', '0040a043', '00400555']);
    // longer than 16384 samples per channel → General ECG Waveform Storage
    const long = syntheticEcg({ seed: 2, fs: 500, durationS: 40 });
    expect(long.metadata.SOPClassUID).toBe(SOP_CLASS.ECG_GENERAL);
    expect(() => syntheticEcg({ seed: 1, fs: 100 })).toThrow(/200–1000/);
  });

  it('is byte-identical for the same seed, other UIDs for another seed', () => {
    const a = syntheticEcg({ seed: 9 });
    const b = syntheticEcg({ seed: 9 });
    const c = syntheticEcg({ seed: 10 });
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(c.metadata.SOPInstanceUID).not.toBe(a.metadata.SOPInstanceUID);
    expect(c.metadata.StudyInstanceUID).not.toBe(a.metadata.StudyInstanceUID);
    expect(c.metadata.SeriesInstanceUID).not.toBe(a.metadata.SeriesInstanceUID);
  });
});
