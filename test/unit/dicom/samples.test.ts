/**
 * Every one of the 57 sample files gets its expected outcome, in-process and through the worker
 * pool: accepted with the key metadata of MANIFEST.md, or refused with its own code. Messages
 * carry no PHI (checked against the patient values found in each sample). HL7 aECG and SCP-ECG
 * files are accepted as ECG studies (shared/dicom/ecg-file.ts), except the empty aECG.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StudyMetadataSchema } from '../../../shared/contracts/study.ts';
import { DICOM_CODES } from '../../../shared/dicom/codes.ts';
import { ECG_DECODE_CODES } from '../../../shared/dicom/ecg/index.ts';
import { ECG_FILE_FORMATS } from '../../../shared/dicom/ecg-file.ts';
import { bytesSource, createDicomInspector, inspectInProcess } from '../../../shared/dicom/inspector.ts';
import type { InspectOutcome, StudyInspector } from '../../../shared/ports/study-inspector.ts';
import { countingSource, readSample, sampleNames, samplePhi } from './support.ts';

type Img = { rows: number; cols: number; frames: number; pi: string; encapsulated: boolean; bits?: number };
type Accept = {
  ok: true;
  modality: string;
  sop: string;
  ts: string;
  image?: Img;
  waveform?: Array<[channels: number, samples: number, hz: number]>;
  sniffed?: boolean;
};
type Refuse = { ok: false; code: string; says?: RegExp };
type Expectation = Accept | Refuse;

const SOP = {
  ecg12: '1.2.840.10008.5.1.4.1.1.9.1.1',
  hemo: '1.2.840.10008.5.1.4.1.1.9.2.1',
  cr: '1.2.840.10008.5.1.4.1.1.1',
  dx: '1.2.840.10008.5.1.4.1.1.1.1',
  us: '1.2.840.10008.5.1.4.1.1.6.1',
  usmf: '1.2.840.10008.5.1.4.1.1.3.1',
  ct: '1.2.840.10008.5.1.4.1.1.2',
  mr: '1.2.840.10008.5.1.4.1.1.4',
  sc: '1.2.840.10008.5.1.4.1.1.7',
  aecg: ECG_FILE_FORMATS['hl7-aecg'].sopClassUID,
  scp: ECG_FILE_FORMATS['scp-ecg'].sopClassUID,
};
const TSX = {
  implicit: '1.2.840.10008.1.2',
  explicit: '1.2.840.10008.1.2.1',
  deflated: '1.2.840.10008.1.2.1.99',
  bigEndian: '1.2.840.10008.1.2.2',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegLossless: '1.2.840.10008.1.2.4.70',
  jpegLsNear: '1.2.840.10008.1.2.4.81',
  j2kLossless: '1.2.840.10008.1.2.4.90',
  j2k: '1.2.840.10008.1.2.4.91',
  rle: '1.2.840.10008.1.2.5',
  aecg: ECG_FILE_FORMATS['hl7-aecg'].transferSyntaxUID,
  scp: ECG_FILE_FORMATS['scp-ecg'].transferSyntaxUID,
};
const img = (rows: number, cols: number, frames: number, pi: string, encapsulated: boolean, bits?: number): Img => ({
  rows,
  cols,
  frames,
  pi,
  encapsulated,
  ...(bits ? { bits } : {}),
});
const no = (code: string, says?: RegExp): Refuse => ({ ok: false, code, ...(says ? { says } : {}) });

export const EXPECTED: Record<string, Expectation> = {
  // (a) ECG waveforms
  'ecg-12lead-mortara-explicit-le.dcm': { ok: true, modality: 'ECG', sop: SOP.ecg12, ts: TSX.explicit, waveform: [[12, 10000, 1000], [12, 1200, 1000]] },
  'ecg-12lead-eli250-implicit-le-ecgtoolkit.dcm': { ok: true, modality: 'ECG', sop: SOP.ecg12, ts: TSX.implicit, waveform: [[12, 5000, 500], [12, 600, 500]] },
  'ecg-12lead-eli250-explicit-le-cabolabs.dcm': { ok: true, modality: 'ECG', sop: SOP.ecg12, ts: TSX.explicit, waveform: [[12, 4999, 500], [12, 599, 500]] },
  'ecg-12lead-sop-single-channel-cabolabs.dcm': { ok: true, modality: 'ECG', sop: SOP.ecg12, ts: TSX.explicit, waveform: [[1, 250, 200]] },
  'ecg-hemodynamic-waveform-deflated-gemarquette.dcm': { ok: true, modality: 'ECG', sop: SOP.hemo, ts: TSX.deflated, waveform: [[12, 2400, 240]] },
  // (b) X-ray
  'xray-cr-chest-16bit-uncompressed-explicit-le.dcm': { ok: true, modality: 'CR', sop: SOP.cr, ts: TSX.explicit, image: img(440, 440, 1, 'MONOCHROME1', false, 16) },
  'xray-cr-chest-16bit-raw-no-part10-header.dcm': { ok: true, modality: 'CR', sop: SOP.cr, ts: TSX.implicit, image: img(440, 440, 1, 'MONOCHROME1', false, 16), sniffed: true },
  'xray-cr-16x16-16bit-uncompressed-pydicom.dcm': { ok: true, modality: 'CR', sop: SOP.cr, ts: TSX.explicit, image: img(16, 16, 1, 'MONOCHROME1', false, 16) },
  'xray-dx-8bit-uncompressed-highdicom.dcm': { ok: true, modality: 'DX', sop: SOP.dx, ts: TSX.explicit, image: img(169, 211, 1, 'MONOCHROME1', false, 8) },
  'xray-dx-16bit-jpeg2000-lossless.dcm': { ok: true, modality: 'DX', sop: SOP.dx, ts: TSX.j2kLossless, image: img(2128, 2000, 1, 'MONOCHROME1', true, 16) },
  'xray-cr-16bit-jpeg-lossless-sv1.dcm': { ok: true, modality: 'CR', sop: SOP.cr, ts: TSX.jpegLossless, image: img(1576, 1976, 1, 'MONOCHROME1', true, 16) },
  'xray-cr-nema-rg3-jpeg2000-lossy.dcm': { ok: true, modality: 'CR', sop: SOP.cr, ts: TSX.j2k, image: img(1760, 1760, 1, 'MONOCHROME1', true, 16) },
  'xray-cr-nema-rg2-jpeg-extended-12bit.dcm': { ok: true, modality: 'CR', sop: SOP.cr, ts: TSX.jpegExtended, image: img(2140, 1760, 1, 'MONOCHROME2', true, 16) },
  'xray-cr-nema-rg2-jpegls-near-lossless.dcm': { ok: true, modality: 'CR', sop: SOP.cr, ts: TSX.jpegLsNear, image: img(2140, 1760, 1, 'MONOCHROME2', true, 16) },
  // (c) Ultrasound
  'us-rgb-uncompressed-single-frame.dcm': { ok: true, modality: 'US', sop: SOP.us, ts: TSX.explicit, image: img(240, 320, 1, 'RGB', false, 8) },
  'us-rgb-explicit-big-endian-small.dcm': { ok: true, modality: 'US', sop: SOP.us, ts: TSX.bigEndian, image: img(60, 80, 1, 'RGB', false, 8) },
  'us-ybr-jpeg-baseline-single-frame-philips.dcm': { ok: true, modality: 'US', sop: SOP.us, ts: TSX.jpegBaseline, image: img(480, 640, 1, 'YBR_FULL_422', true, 8) },
  'us-ybr-jpeg-extended-single-frame.dcm': { ok: true, modality: 'US', sop: SOP.us, ts: TSX.jpegExtended, image: img(576, 768, 1, 'YBR_FULL', true, 8) },
  'us-ybr-jpeg2000-lossy-single-frame-nema-us1.dcm': { ok: true, modality: 'US', sop: SOP.us, ts: TSX.j2k, image: img(480, 640, 1, 'YBR_ICT', true, 8) },
  'us-palette-rle-single-frame.dcm': { ok: true, modality: 'US', sop: SOP.us, ts: TSX.rle, image: img(600, 800, 1, 'PALETTE COLOR', true, 8) },
  'us-multiframe-30f-jpeg-baseline-ybr422.dcm': { ok: true, modality: 'US', sop: SOP.usmf, ts: TSX.jpegBaseline, image: img(240, 320, 30, 'YBR_FULL_422', true, 8) },
  'us-multiframe-8f-jpeg-baseline-no-bot.dcm': { ok: true, modality: 'US', sop: SOP.usmf, ts: TSX.jpegBaseline, image: img(240, 320, 8, 'YBR_FULL', true, 8) },
  'us-multiframe-10f-palette-rle-echo.dcm': { ok: true, modality: 'US', sop: SOP.usmf, ts: TSX.rle, image: img(430, 600, 10, 'PALETTE COLOR', true, 8) },
  // (d) Other modalities (accepted here; the application rejects them by Modality) and non-image objects
  'other-ct-small.dcm': { ok: true, modality: 'CT', sop: SOP.ct, ts: TSX.explicit, image: img(128, 128, 1, 'MONOCHROME2', false, 16) },
  'other-mr-small.dcm': { ok: true, modality: 'MR', sop: SOP.mr, ts: TSX.explicit, image: img(64, 64, 1, 'MONOCHROME2', false, 16) },
  'other-seg-liver-single-frame.dcm': no('DICOM.UNSUPPORTED_SOP_CLASS', /segmentation/),
  'other-sr-structured-report.dcm': no('DICOM.UNSUPPORTED_SOP_CLASS', /structured report/),
  'other-encapsulated-pdf.dcm': no('DICOM.UNSUPPORTED_SOP_CLASS', /PDF/),
  'other-dicomdir.dcm': no('DICOM.UNSUPPORTED_SOP_CLASS', /DICOMDIR/),
  // (e1) Malformed
  'bad-truncated-pixel-data-mr.dcm': no('DICOM.PIXEL_DATA_TRUNCATED', /cut short/),
  'bad-truncated-inside-sequence-rtplan.dcm': no('DICOM.TRUNCATED', /ends before/),
  'bad-meta-missing-transfer-syntax.dcm': no('DICOM.FILE_META_INVALID', /Transfer Syntax/),
  'bad-meta-no-group-length.dcm': no('DICOM.UNSUPPORTED_SOP_CLASS', /radiotherapy/), // RT Image, SOP class from the file meta
  'bad-meta-no-group-length-dcmjs.dcm': no('DICOM.PIXEL_DATA_MISSING', /no image data/), // header-only US
  'bad-no-preamble-raw-dataset.dcm': no('DICOM.UNSUPPORTED_SOP_CLASS', /radiotherapy/), // raw dataset sniffed, RT Ion Plan
  'bad-no-preamble-dicm-at-offset-128.dcm': no('DICOM.NO_PART10_HEADER', /DICM/),
  'bad-ts-mismatch-implicit-body-declared-jpeg.dcm': no('DICOM.TRANSFER_SYNTAX_MISMATCH', /Implicit VR/),
  'bad-invalid-is-value-number-of-frames.dcm': no('DICOM.INVALID_VALUE', /Number of Frames/),
  'bad-invalid-vr-blank.dcm': no('DICOM.INVALID_VR', /value representation/),
  'bad-private-sequence-wrong-length.dcm': no('DICOM.PIXEL_DATA_MISSING', /wrong length/),
  'bad-missing-seq-delimiter-at-eof.dcm': no('DICOM.PIXEL_DATA_TRUNCATED', /end-of-data marker/),
  'bad-encapsulated-pixel-data-truncated.dcm': no('DICOM.PIXEL_DATA_TRUNCATED', /cut short/),
  // Structure valid (item lengths are used, not a scan for the delimiter): accepted; NM is refused downstream by Modality.
  'bad-seq-delimiter-bytes-inside-j2k-fragment.dcm': { ok: true, modality: 'NM', sop: SOP.sc, ts: TSX.j2k, image: img(1024, 256, 1, 'MONOCHROME2', true, 16) },
  'bad-claims-3gb-pixel-data-truncated.dcm': no('DICOM.PIXEL_DATA_TRUNCATED', /cut short/),
  'bad-rows-cols-65535-tiny-file.dcm': no('DICOM.INVALID_GEOMETRY', /65535 × 65535/),
  'bad-deeply-nested-sequences.dcm': no('DICOM.TOO_DEEP', /nests sequences/),
  'bad-header-only-no-patient-no-study.dcm': no('DICOM.MISSING_ATTRIBUTE', /StudyInstanceUID/),
  // (e2) Not DICOM
  'nondicom-empty-file.dcm': no('FILE.EMPTY', /empty/),
  'nondicom-gzipped-dicom.dcm.gz': no('FILE.NOT_DICOM', /gzip/),
  'nondicom-ecg-printout.pdf': no('FILE.NOT_DICOM', /PDF.*export the ECG|PDF/i),
  'nondicom-small-photo.jpeg': no('FILE.NOT_DICOM', /JPEG photo/),
  // (f) HL7 aECG and SCP-ECG: accepted as ECG studies; the empty aECG is refused with the ECG module's code.
  'aecg-hl7-example-mortara.xml': { ok: true, modality: 'ECG', sop: SOP.aecg, ts: TSX.aecg, waveform: [[12, 5000, 500], [12, 599, 500]] },
  'aecg-calecg2-amps.xml': { ok: true, modality: 'ECG', sop: SOP.aecg, ts: TSX.aecg, waveform: [[12, 10000, 1000], [12, 1200, 1000]] },
  'aecg-minimal-single-lead.xml': { ok: true, modality: 'ECG', sop: SOP.aecg, ts: TSX.aecg, waveform: [[1, 13, 500]] },
  'aecg-empty-annotatedecg.xml': no('ECG.AECG_EMPTY', /no ECG waveform.*Export the ECG again/),
  'scpecg-12lead-example-ecgtoolkit.scp': { ok: true, modality: 'ECG', sop: SOP.scp, ts: TSX.scp, waveform: [[12, 5000, 500]] },
  // MANIFEST says 37,855 samples per lead (section 3), but section 6 really holds 32,767 (16-bit byte counts).
  'scpecg-contec-ecg90a.scp': { ok: true, modality: 'ECG', sop: SOP.scp, ts: TSX.scp, waveform: [[12, 32767, 800]] },
};

function check(name: string, outcome: InspectOutcome) {
  const want = EXPECTED[name];
  expect(want, `no expectation for ${name}`).toBeDefined();
  if (!want!.ok) {
    expect(outcome.ok ? 'accepted' : outcome.code, name).toBe(want!.code);
    if (!outcome.ok) {
      if (want!.says) expect(outcome.message).toMatch(want!.says);
      expect([...DICOM_CODES, ...ECG_DECODE_CODES] as string[]).toContain(outcome.code);
      const phi = samplePhi(readSample(name));
      for (const v of phi) expect(outcome.message, `${name}: message leaks PHI`).not.toContain(v);
    }
    return;
  }
  expect(outcome.ok ? 'accepted' : `${outcome.code}: ${outcome.message}`, name).toBe('accepted');
  if (!outcome.ok) return;
  const m = outcome.metadata;
  expect(StudyMetadataSchema.safeParse(m).success).toBe(true);
  expect(m.Modality).toBe(want!.modality);
  expect(m.instance.SOPClassUID).toBe(want!.sop);
  expect(m.TransferSyntaxUID).toBe(want!.ts);
  expect(m.study.StudyInstanceUID.length).toBeGreaterThan(0);
  expect(m.sniffedTransferSyntax ?? false).toBe(want!.sniffed ?? false);
  if (want!.image) {
    expect(m.image).toBeDefined();
    const i = m.image!;
    expect([i.Rows, i.Columns, i.NumberOfFrames, i.PhotometricInterpretation, i.encapsulated]).toEqual([
      want!.image.rows,
      want!.image.cols,
      want!.image.frames,
      want!.image.pi,
      want!.image.encapsulated,
    ]);
    if (want!.image.bits) expect(i.BitsAllocated).toBe(want!.image.bits);
    expect(m.waveform).toBeUndefined();
  }
  if (want!.waveform) {
    expect(m.image).toBeUndefined();
    const groups = m.waveform!.groups.map((g) => [g.channels, g.samples, g.samplingFrequency]);
    expect(groups).toEqual(want!.waveform);
    for (const g of m.waveform!.groups) {
      expect(g.bitsAllocated).toBe(16);
      expect(g.sampleInterpretation).toBe('SS');
      expect(g.leads).toHaveLength(g.channels);
    }
  }
}

describe('the 57 samples', () => {
  it('the table covers every sample file and nothing else', () => {
    expect(sampleNames()).toEqual(Object.keys(EXPECTED).sort());
    expect(sampleNames()).toHaveLength(57);
  });

  describe('in-process', () => {
    for (const name of Object.keys(EXPECTED)) {
      it(name, async () => {
        check(name, await inspectInProcess(bytesSource(readSample(name))));
      });
    }
  });

  describe('through the worker pool', () => {
    let inspector: StudyInspector;
    beforeAll(() => {
      inspector = createDicomInspector({ workers: 2 });
    });
    afterAll(async () => {
      await inspector.close();
    });
    it('gives every sample the same outcome (all at once)', async () => {
      const names = Object.keys(EXPECTED);
      const outcomes = await Promise.all(names.map((n) => inspector.inspect(bytesSource(readSample(n)))));
      names.forEach((n, i) => check(n, outcomes[i]!));
      // the ECG module runs inside the worker too, for DICOM, aECG and SCP-ECG alike
      for (const n of ['ecg-12lead-mortara-explicit-le.dcm', 'aecg-hl7-example-mortara.xml', 'scpecg-12lead-example-ecgtoolkit.scp']) {
        const o = outcomes[names.indexOf(n)]!;
        expect(o.ok && o.ecg?.measurements.heartRate, n).toBeGreaterThan(40);
      }
    });
  });

  it('the PHI check has teeth: patient values are found in the refused DICOM samples', () => {
    const refusedDicom = Object.entries(EXPECTED).filter(([n, e]) => !e.ok && n.endsWith('.dcm'));
    const found = refusedDicom.flatMap(([n]) => samplePhi(readSample(n)));
    expect(found.length).toBeGreaterThan(10);
  });

  it('accepted samples carry the patient data in metadata (PHI goes there, not in messages)', async () => {
    const r = await inspectInProcess(bytesSource(readSample('ecg-12lead-mortara-explicit-le.dcm')));
    expect(r.ok && r.metadata.patient).toEqual({ id: '642341', name: 'Anonymous', sex: 'F', birthDate: '19710123' });
  });

  it('ECG lead names come from the channel source code meanings', async () => {
    const r = await inspectInProcess(bytesSource(readSample('ecg-12lead-eli250-implicit-le-ecgtoolkit.dcm')));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.metadata.waveform!.groups[0]!.label).toBe('RHYTHM');
    expect(r.metadata.waveform!.groups[0]!.leads).toEqual([
      'Lead I', 'Lead II', 'Lead III', 'Lead aVR', 'Lead aVL', 'Lead aVF', 'Lead V1', 'Lead V2', 'Lead V3', 'Lead V4', 'Lead V5', 'Lead V6',
    ]);
  });

  it('ECG objects come back with measurements from the ECG module', async () => {
    const r = await inspectInProcess(bytesSource(readSample('ecg-12lead-mortara-explicit-le.dcm')));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.ecg).not.toBeNull();
    expect(r.ecg!.measurements.heartRate).toBeGreaterThan(40);
    expect(r.ecg!.measurements.heartRate).toBeLessThan(100);
    expect(Array.isArray(r.ecg!.flags)).toBe(true);
    expect(r.ecg!.deviceMeasurements).toBeDefined();
  });

  it('images are read header-only: a 4 MiB JPEG 2000 DX reads well under its size', async () => {
    const bytes = readSample('xray-dx-16bit-jpeg2000-lossless.dcm');
    const { source, stats } = countingSource(bytes);
    const r = await inspectInProcess(source);
    expect(r.ok).toBe(true);
    // One 256 KiB prefix plus small item-header reads of the encapsulated pixel data.
    expect(stats.bytes).toBeLessThan(400 * 1024);
    expect(bytes.length).toBeGreaterThan(4_000_000);
  });

  it('ECG waveforms are read whole (the 291 KB Mortara file is larger than the first prefix)', async () => {
    const bytes = readSample('ecg-12lead-mortara-explicit-le.dcm');
    const { source, stats } = countingSource(bytes);
    const r = await inspectInProcess(source, { ecg: false });
    expect(r.ok).toBe(true);
    expect(stats.maxEnd).toBe(bytes.length);
  });
  describe('HL7 aECG and SCP-ECG files', () => {
    const accepted = Object.entries(EXPECTED).filter(([n, e]) => e.ok && /\.(xml|scp)$/.test(n)).map(([n]) => n);

    it('carry the source demographics in the patient block', async () => {
      const aecg = await inspectInProcess(bytesSource(readSample('aecg-hl7-example-mortara.xml')));
      expect(aecg.ok && aecg.metadata.patient).toEqual({ id: 'SBJ-123', name: 'Clark', sex: 'M', birthDate: '19530508' });
      expect(aecg.ok && aecg.metadata.study).toMatchObject({ StudyDate: '20021122', StudyTime: '091000' });
      expect(aecg.ok && [aecg.metadata.Manufacturer, aecg.metadata.ManufacturerModelName]).toEqual(['Mortara Instrument, Inc.', 'ELI250']);
      const scp = await inspectInProcess(bytesSource(readSample('scpecg-12lead-example-ecgtoolkit.scp')));
      expect(scp.ok && scp.metadata.patient).toEqual({ id: 'SBJ-123', name: 'Clark', sex: 'M', birthDate: '19530508' });
      expect(scp.ok && scp.metadata.study).toMatchObject({ StudyDate: '20021122', StudyTime: '091000' });
      expect(scp.ok && scp.metadata.ManufacturerModelName).toBe('ELI250');
    });

    it('get deterministic 2.25 UIDs from their bytes: the same file twice is the same instance, different files differ', async () => {
      const uids = new Set<string>();
      for (const n of accepted) {
        const [a, b] = await Promise.all([inspectInProcess(bytesSource(readSample(n))), inspectInProcess(bytesSource(readSample(n)))]);
        expect(a.ok && b.ok, n).toBe(true);
        if (!a.ok || !b.ok) continue;
        expect(a.metadata.instance.SOPInstanceUID).toBe(b.metadata.instance.SOPInstanceUID);
        expect(a.metadata.study.StudyInstanceUID).toBe(b.metadata.study.StudyInstanceUID);
        for (const uid of [a.metadata.instance.SOPInstanceUID, a.metadata.study.StudyInstanceUID, a.metadata.series.SeriesInstanceUID]) {
          expect(uid).toMatch(/^2\.25\.(0|[1-9]\d{0,38})$/);
          expect(uids.has(uid), `${n}: ${uid} collides`).toBe(false);
          uids.add(uid);
        }
      }
      expect(uids.size).toBe(accepted.length * 3);
    });

    it('come back with the ECG summary (measurements, flags, device measurements) as DICOM ECGs do', async () => {
      const r = await inspectInProcess(bytesSource(readSample('scpecg-12lead-example-ecgtoolkit.scp')));
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.ecg!.measurements.heartRate).toBeGreaterThan(60);
      expect(r.ecg!.measurements.heartRate).toBeLessThan(85);
      expect(r.ecg!.flags).toEqual([]);
      expect(r.ecg!.deviceMeasurements).toMatchObject({ prMs: 148, qrsMs: 120, qtMs: 420 });
      const dicom = await inspectInProcess(bytesSource(readSample('ecg-12lead-eli250-implicit-le-ecgtoolkit.dcm')));
      // The same recording as DICOM measures the same.
      expect(dicom.ok && Math.abs(dicom.ecg!.measurements.heartRate! - r.ecg!.measurements.heartRate!)).toBeLessThanOrEqual(2);
    });

    it('are read whole, within the waveform size cap', async () => {
      const bytes = readSample('aecg-hl7-example-mortara.xml');
      const { source, stats } = countingSource(bytes);
      expect((await inspectInProcess(source, { ecg: false })).ok).toBe(true);
      expect(stats.maxEnd).toBe(bytes.length);
      expect(bytes.length).toBeGreaterThan(256 * 1024);
      const capped = await inspectInProcess(bytesSource(bytes), { maxWaveformBytes: 300 * 1024 });
      expect(capped.ok ? 'accepted' : capped.code).toBe('FILE.TOO_LARGE');
      expect(!capped.ok && capped.message).toMatch(/ECG/);
    });
  });
});
