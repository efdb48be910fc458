/** Behaviour of the door on synthetic files: each check with its own code, isolation, limits. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DicomParseError } from '../../../shared/dicom/codes.ts';
import { buildParseWorkerCore, bytesSource, createDicomInspector, inspectInProcess } from '../../../shared/dicom/inspector.ts';
import { normaliseThrown, safeParse } from '../../../shared/dicom/safe-parse.ts';
import { analyzeBuffer } from '../../../shared/dicom/worker-core.ts';
import type { InspectOutcome } from '../../../shared/ports/study-inspector.ts';
import { encodeDataset, writePart10 } from '../../../shared/synth/dicom-writer.ts';
import { PHI_VALUES, concat, countingSource, crElements, crFile, readSample } from './support.ts';

const inspect = (b: Uint8Array, opts = {}) => inspectInProcess(bytesSource(b), opts);
const codeOf = (r: InspectOutcome) => (r.ok ? 'accepted' : r.code);
const noPhi = (r: InspectOutcome) => {
  if (!r.ok) for (const v of PHI_VALUES) expect(r.message).not.toContain(v);
};

describe('safe-parse: normalising what dicom-parser throws', () => {
  it('strings, Errors, wrapper objects, RangeError all become DicomParseError with a code', () => {
    expect(normaliseThrown('dicomParser:parseDicomDataSetExplicit: buffer overrun').code).toBe('DICOM.TRUNCATED');
    expect(normaliseThrown(new Error('dicomParser.readFixedString: attempt to read past end of buffer')).code).toBe('DICOM.TRUNCATED');
    expect(normaliseThrown({ exception: 'something odd', dataSet: {} }).code).toBe('DICOM.MALFORMED');
    expect(normaliseThrown({ weird: true }).code).toBe('DICOM.MALFORMED');
    expect(normaliseThrown(new RangeError('Maximum call stack size exceeded')).code).toBe('DICOM.TOO_DEEP');
    expect(normaliseThrown({ exception: new RangeError('Maximum call stack size exceeded') }).code).toBe('DICOM.TOO_DEEP');
    expect(normaliseThrown(42)).toBeInstanceOf(DicomParseError);
  });
  it('safeParse asks for more bytes when a prefix ends inside the header', () => {
    const f = crFile([{ tag: '00081030', vr: 'LO', value: 'X'.repeat(4000) }]);
    const step = safeParse(f.subarray(0, 1000), f.length);
    expect(step.kind).toBe('need-more');
  });
});

describe('checks on synthetic files', () => {
  it('a valid synthetic CR is accepted with its metadata', async () => {
    const r = await inspect(crFile());
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.metadata.image).toMatchObject({ Rows: 4, Columns: 4, BitsAllocated: 16, BitsStored: 12, encapsulated: false });
      expect(r.metadata.patient.name).toBe('Zhang^San');
      expect(r.ecg).toBeNull();
    }
  });

  it('executable preambles (CVE-2019-11687 polyglots) are refused', async () => {
    for (const magic of [[0x4d, 0x5a, 0x90, 0x00], [0x7f, 0x45, 0x4c, 0x46], [0xcf, 0xfa, 0xed, 0xfe], [0xca, 0xfe, 0xba, 0xbe]]) {
      const pre = new Uint8Array(128);
      pre.set(magic);
      const r = await inspect(crFile([], [], undefined, pre));
      expect(codeOf(r)).toBe('DICOM.EXECUTABLE_PREAMBLE');
    }
    // a plain (non-Part 10) executable is simply not DICOM
    const exe = new Uint8Array(512);
    exe.set([0x7f, 0x45, 0x4c, 0x46]);
    expect(codeOf(await inspect(exe))).toBe('FILE.NOT_DICOM');
  });

  it('raw datasets without Part 10 header are sniffed (implicit and explicit LE)', async () => {
    for (const ts of ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']) {
      const raw = encodeDataset(crElements([{ tag: '00080005', vr: 'CS', value: 'ISO_IR 100' }]), ts);
      const r = await inspect(raw);
      expect(r.ok, ts).toBe(true);
      if (r.ok) {
        expect(r.metadata.sniffedTransferSyntax).toBe(true);
        expect(r.metadata.TransferSyntaxUID).toBe(ts);
      }
    }
  });

  it('sniffs other non-DICOM files and says what they are', async () => {
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['png', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(200).fill(0)]), /PNG/],
      ['zip', Uint8Array.from([0x50, 0x4b, 0x03, 0x04, ...new Array(200).fill(0)]), /ZIP/],
      ['xml', new TextEncoder().encode('<?xml version="1.0"?><report>hello</report>'), /XML/],
      ['text', new TextEncoder().encode('hello world, this is not dicom at all'.repeat(10)), /not a DICOM file/],
    ];
    for (const [what, bytes, says] of cases) {
      const r = await inspect(bytes);
      expect(codeOf(r), what).toBe('FILE.NOT_DICOM');
      if (!r.ok) expect(r.message).toMatch(says);
    }
  });

  it('refuses transfer syntaxes outside the allow-list', async () => {
    const g = crFileWithTs('1.2.840.10008.1.2.4.102');
    expect(codeOf(await inspect(g))).toBe('DICOM.UNSUPPORTED_TRANSFER_SYNTAX');
  });

  it('missing required attributes are named, without PHI', async () => {
    const r = await inspect(crFile([], ['0020000d', '00080060']));
    expect(codeOf(r)).toBe('DICOM.MISSING_ATTRIBUTE');
    if (!r.ok) expect(r.message).toMatch(/StudyInstanceUID.*Modality/);
    noPhi(r);
  });

  it('image geometry: zero rows, bad bits, invalid IS and DS are refused', async () => {
    expect(codeOf(await inspect(crFile([{ tag: '00280010', vr: 'US', value: 0 }])))).toBe('DICOM.INVALID_GEOMETRY');
    expect(codeOf(await inspect(crFile([{ tag: '00280100', vr: 'US', value: 12 }])))).toBe('DICOM.INVALID_GEOMETRY');
    expect(codeOf(await inspect(crFile([{ tag: '00280008', vr: 'IS', value: '1A' }])))).toBe('DICOM.INVALID_VALUE');
    expect(codeOf(await inspect(crFile([{ tag: '00280030', vr: 'DS', value: '0.1\\x' }])))).toBe('DICOM.INVALID_VALUE');
    expect(codeOf(await inspect(crFile([{ tag: '00181063', vr: 'DS', value: 'fast' }])))).toBe('DICOM.INVALID_VALUE');
  });

  it('native pixel data must have exactly rows×cols×samples×bytes×frames', async () => {
    const r = await inspect(crFile([{ tag: '7fe00010', vr: 'OW', value: new Uint8Array(30) }]));
    expect(codeOf(r)).toBe('DICOM.PIXEL_DATA_LENGTH_MISMATCH');
    noPhi(r);
    // odd pixel count padded to even is fine (3×3 8-bit = 9 bytes + 1 pad)
    const padded = crFile([
      { tag: '00280010', vr: 'US', value: 3 },
      { tag: '00280011', vr: 'US', value: 3 },
      { tag: '00280100', vr: 'US', value: 8 },
      { tag: '00280101', vr: 'US', value: 8 },
      { tag: '00280102', vr: 'US', value: 7 },
      { tag: '7fe00010', vr: 'OB', value: new Uint8Array(10) },
    ]);
    expect(codeOf(await inspect(padded))).toBe('accepted');
  });

  it('an image with no pixel data is refused', async () => {
    expect(codeOf(await inspect(crFile([], ['7fe00010'])))).toBe('DICOM.PIXEL_DATA_MISSING');
  });

  it('every truncation of a native image is refused with a code, never accepted', async () => {
    const f = crFile();
    for (let n = 1; n < f.length; n++) {
      const r = await inspect(f.subarray(0, n));
      expect(r.ok, `cut at ${n}`).toBe(false);
    }
  });

  it('deflated datasets are inflated with a hard cap', async () => {
    const body = encodeDataset(crElements(), '1.2.840.10008.1.2.1');
    const deflated = deflatedFile(body);
    const ok = await inspect(deflated);
    expect(codeOf(ok)).toBe('accepted');
    // a 1 MiB private zero blob inflates beyond a 256 KiB cap
    const bomb = deflatedFile(
      encodeDataset(crElements([{ tag: '00291010', vr: 'OB', value: new Uint8Array(1 << 20) }]), '1.2.840.10008.1.2.1'),
    );
    expect(bomb.length).toBeLessThan(8192);
    expect(codeOf(await inspect(bomb, { maxInflatedBytes: 256 * 1024 }))).toBe('FILE.TOO_LARGE');
    // garbage after the meta: not inflatable
    const garbage = concat(deflated.subarray(0, deflated.length - 40), Uint8Array.from(new Array(40).fill(0xff)));
    expect(codeOf(await inspect(garbage))).not.toBe('accepted');
  });

  it('headers larger than the first prefix are read by doubling, bounded by maxHeaderBytes', async () => {
    const big = crFile([{ tag: '00291010', vr: 'OB', value: new Uint8Array(700 * 1024) }]);
    const { source, stats } = countingSource(big);
    expect(codeOf(await inspectInProcess(source))).toBe('accepted');
    expect(stats.reads).toBeGreaterThan(1);
    expect(codeOf(await inspect(big, { maxHeaderBytes: 512 * 1024 }))).toBe('DICOM.HEADER_TOO_LARGE');
  });

  it('waveform files larger than maxWaveformBytes are refused', async () => {
    const ecg = readSample('ecg-12lead-mortara-explicit-le.dcm');
    expect(codeOf(await inspect(ecg, { maxWaveformBytes: 100 * 1024, ecg: false }))).toBe('FILE.TOO_LARGE');
  });

  it('files over maxFileBytes are refused before reading', async () => {
    const { source, stats } = countingSource(crFile());
    expect(codeOf(await inspectInProcess(source, { maxFileBytes: 100 }))).toBe('FILE.TOO_LARGE');
    expect(stats.reads).toBe(0);
  });

  it('a ByteSource that fails is reported, not thrown', async () => {
    const r = await inspectInProcess({ size: 1000, readRange: () => Promise.reject(new Error('S3 down')) });
    expect(codeOf(r)).toBe('FILE.READ_FAILED');
  });

  it('analyzeBuffer never throws, whatever it is given', async () => {
    for (const b of [new Uint8Array(0), new Uint8Array(1), new Uint8Array(132), Uint8Array.from([0x08, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])]) {
      const r = await analyzeBuffer(b, Math.max(1, b.length));
      expect(['refused', 'need-more', 'ok']).toContain(r.kind);
    }
  });
});

describe('worker pool isolation', () => {
  const marker = (text: string) => concat(new TextEncoder().encode(text), new Uint8Array(4096));

  it('a hang is stopped by the timeout (FILE.PARSE_TIMEOUT); the worker is replaced and the pool keeps working', async () => {
    const insp = createDicomInspector({ workers: 1, timeoutMs: 300, testHooks: true });
    try {
      const t = Date.now();
      const r = await insp.inspect(bytesSource(marker('TELEREAD-TEST-HANG')));
      expect(codeOf(r)).toBe('FILE.PARSE_TIMEOUT');
      expect(Date.now() - t).toBeLessThan(5000);
      // concurrent files queue behind the replacement worker and all succeed
      const rs = await Promise.all([1, 2, 3].map(() => insp.inspect(bytesSource(crFile()))));
      expect(rs.map(codeOf)).toEqual(['accepted', 'accepted', 'accepted']);
    } finally {
      await insp.close();
    }
  });

  it('a worker that exhausts its heap is replaced (FILE.PARSE_CRASHED); others in flight are unaffected', async () => {
    const insp = createDicomInspector({ workers: 2, maxOldGenerationSizeMb: 64, timeoutMs: 30_000, testHooks: true });
    try {
      const [bad, good] = await Promise.all([
        insp.inspect(bytesSource(marker('TELEREAD-TEST-OOM'))),
        insp.inspect(bytesSource(crFile())),
      ]);
      expect(codeOf(bad)).toBe('FILE.PARSE_CRASHED');
      expect(codeOf(good)).toBe('accepted');
      expect(codeOf(await insp.inspect(bytesSource(crFile())))).toBe('accepted');
    } finally {
      await insp.close();
    }
  });

  it('the 100,000-nested sample comes back as DICOM.TOO_DEEP and the worker survives', async () => {
    const insp = createDicomInspector({ workers: 1 });
    try {
      expect(codeOf(await insp.inspect(bytesSource(crFile())))).toBe('accepted');
      expect(codeOf(await insp.inspect(bytesSource(readSample('bad-deeply-nested-sequences.dcm'))))).toBe('DICOM.TOO_DEEP');
      expect(codeOf(await insp.inspect(bytesSource(crFile())))).toBe('accepted');
    } finally {
      await insp.close();
    }
  });

  it('test hooks are off by default: the marker files are just not DICOM', async () => {
    const insp = createDicomInspector({ workers: 1, timeoutMs: 2000 });
    try {
      expect(codeOf(await insp.inspect(bytesSource(marker('TELEREAD-TEST-HANG'))))).toBe('FILE.NOT_DICOM');
    } finally {
      await insp.close();
    }
  });

  it('a real file that blows the worker heap (1M elements) is refused with FILE.PARSE_CRASHED, the server survives', async () => {
    // 1M distinct empty elements in a 8 MiB header: dicom-parser builds one JS object per element,
    // far beyond a 48 MiB worker heap. The main thread holds the bytes only.
    const n = 1 << 20;
    const body = new Uint8Array(n * 8);
    const dv = new DataView(body.buffer);
    for (let i = 0; i < n; i++) {
      const tag = 0x00090000 + i * 2;
      dv.setUint16(i * 8, tag >>> 16, true);
      dv.setUint16(i * 8 + 2, tag & 0xffff, true);
      body[i * 8 + 4] = 0x4c; // 'LO'
      body[i * 8 + 5] = 0x4f;
    }
    const head = writePart10({ elements: crElements([], ['7fe00010']).filter((e) => e.tag < '00090000') });
    const file = concat(head, body);
    const insp = createDicomInspector({ workers: 1, maxOldGenerationSizeMb: 48, maxHeaderBytes: 16 << 20, timeoutMs: 30_000 });
    try {
      const r = await insp.inspect(bytesSource(file));
      expect(r.ok).toBe(false);
      expect(codeOf(r)).toBe('FILE.PARSE_CRASHED');
      expect(codeOf(await insp.inspect(bytesSource(crFile())))).toBe('accepted');
    } finally {
      await insp.close();
    }
  });

  it('close() refuses further work politely', async () => {
    const insp = createDicomInspector({ workers: 1 });
    await insp.close();
    expect(codeOf(await insp.inspect(bytesSource(crFile())))).toBe('FILE.PARSE_CRASHED');
  });
});

function deflatedFile(body: Uint8Array): Uint8Array {
  const part10 = writePart10({ elements: crElements(), transferSyntaxUID: '1.2.840.10008.1.2.1' });
  // Reuse the writer's meta, with the transfer syntax swapped for the deflated one.
  return concat(metaWithTs(part10, '1.2.840.10008.1.2.1.99'), deflateRawSync(body));
}

function crFileWithTs(ts: string): Uint8Array {
  const f = writePart10({ elements: crElements(), transferSyntaxUID: '1.2.840.10008.1.2.1' });
  const bodyStart = metaEnd(f);
  return concat(metaWithTs(f, ts), f.subarray(bodyStart));
}

/** End offset of the file meta group written by the writer. */
function metaEnd(f: Uint8Array): number {
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  return 132 + 12 + dv.getUint32(140, true);
}

/** Rebuild the file meta (preamble + DICM + group 0002) with another Transfer Syntax UID. */
function metaWithTs(f: Uint8Array, ts: string): Uint8Array {
  const end = metaEnd(f);
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const els: Uint8Array[] = [];
  let p = 144;
  while (p < end) {
    const elem = dv.getUint16(p + 2, true);
    const vr = String.fromCharCode(f[p + 4]!, f[p + 5]!);
    const long = ['OB', 'OW', 'UN', 'UT', 'SQ'].includes(vr);
    const len = long ? dv.getUint32(p + 8, true) : dv.getUint16(p + 6, true);
    const hdr = long ? 12 : 8;
    if (elem === 0x0010) {
      const v = new TextEncoder().encode(ts.length % 2 ? `${ts}\0` : ts);
      const e = new Uint8Array(8 + v.length);
      e.set([0x02, 0x00, 0x10, 0x00, 0x55, 0x49, v.length & 0xff, v.length >> 8]);
      e.set(v, 8);
      els.push(e);
    } else {
      els.push(f.subarray(p, p + hdr + len));
    }
    p += hdr + len;
  }
  const group = concat(...els);
  const gl = new Uint8Array(12);
  gl.set([0x02, 0x00, 0x00, 0x00, 0x55, 0x4c, 0x04, 0x00]);
  new DataView(gl.buffer).setUint32(8, group.length, true);
  return concat(f.subarray(0, 132), gl, group);
}

describe('encapsulated pixel data walk', () => {
  const item = (len: number, fill = 0xaa) => concat(Uint8Array.from([0xfe, 0xff, 0x00, 0xe0, len & 0xff, (len >> 8) & 0xff, 0, 0]), new Uint8Array(len).fill(fill));
  const delim = Uint8Array.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  it('checks fragments, the delimiter and the frame count', async () => {
    const { walkEncapsulated, bufferReader } = await import('../../../shared/dicom/pixel-check.ts');
    const walk = (b: Uint8Array, frames = 1) => walkEncapsulated(bufferReader(b), b.length, 0, frames);
    expect(await walk(concat(item(0), item(10), delim))).toEqual({ ok: true, fragments: 1 });
    // the delimiter's bytes inside a fragment are not mistaken for the end
    const fragmentHoldingDelimiterBytes = concat(Uint8Array.from([0xfe, 0xff, 0x00, 0xe0, 16, 0, 0, 0]), delim, new Uint8Array(8));
    expect(await walk(concat(item(0), fragmentHoldingDelimiterBytes, delim))).toEqual({ ok: true, fragments: 1 });
    expect((await walk(concat(item(0), item(10)))).ok).toBe(false);
    expect(await walk(concat(item(0), item(10), delim).subarray(0, 20))).toMatchObject({ code: 'DICOM.PIXEL_DATA_TRUNCATED' });
    expect(await walk(concat(item(0), delim))).toMatchObject({ code: 'DICOM.PIXEL_DATA_MISSING' });
    expect(await walk(concat(item(0), item(4), item(4), delim), 3)).toMatchObject({ code: 'DICOM.PIXEL_DATA_LENGTH_MISMATCH' });
    expect(await walk(concat(item(0), Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), delim))).toMatchObject({ code: 'DICOM.MALFORMED' });
  });
});

describe('waveform objects', () => {
  const ecgFile = (dataBytes: number, over: Record<string, unknown> = {}) =>
    writePart10({
      elements: [
        { tag: '00080016', vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.9.1.1' },
        { tag: '00080018', vr: 'UI', value: '1.2.3.9.1' },
        { tag: '00080060', vr: 'CS', value: 'ECG' },
        { tag: '00100010', vr: 'PN', value: 'Zhang^San' },
        { tag: '0020000d', vr: 'UI', value: '1.2.3.9.2' },
        { tag: '0020000e', vr: 'UI', value: '1.2.3.9.3' },
        {
          tag: '54000100',
          vr: 'SQ',
          value: [
            [
              { tag: '003a0005', vr: 'US', value: 1 },
              { tag: '003a0010', vr: 'UL', value: 10 },
              { tag: '003a001a', vr: 'DS', value: (over.freq as string) ?? '500' },
              { tag: '003a0020', vr: 'CS', value: 'RHYTHM' },
              { tag: '54001004', vr: 'US', value: 16 },
              { tag: '54001006', vr: 'CS', value: 'SS' },
              { tag: '54001010', vr: 'OW', value: new Uint8Array(dataBytes) },
            ],
          ],
        },
      ],
    });
  it('a coherent waveform group is accepted with its layout', async () => {
    const r = await inspect(ecgFile(20), { ecg: false });
    expect(r.ok && r.metadata.waveform).toEqual({
      groups: [{ label: 'RHYTHM', channels: 1, samples: 10, samplingFrequency: 500, bitsAllocated: 16, sampleInterpretation: 'SS', leads: [] }],
    });
  });
  it('waveform data shorter than channels × samples is refused', async () => {
    const r = await inspect(ecgFile(10), { ecg: false });
    expect(codeOf(r)).toBe('DICOM.WAVEFORM_INVALID');
    noPhi(r);
  });
  it('an invalid sampling frequency is refused', async () => {
    expect(codeOf(await inspect(ecgFile(20, { freq: '5OO' }), { ecg: false }))).toBe('DICOM.INVALID_VALUE');
    expect(codeOf(await inspect(ecgFile(20, { freq: '0' }), { ecg: false }))).toBe('DICOM.WAVEFORM_INVALID');
  });
  it('a waveform SOP class without a waveform sequence is refused', async () => {
    const f = writePart10({
      elements: [
        { tag: '00080016', vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.9.1.1' },
        { tag: '00080018', vr: 'UI', value: '1.2.3.9.1' },
        { tag: '00080060', vr: 'CS', value: 'ECG' },
        { tag: '0020000d', vr: 'UI', value: '1.2.3.9.2' },
        { tag: '0020000e', vr: 'UI', value: '1.2.3.9.3' },
      ],
    });
    expect(codeOf(await inspect(f))).toBe('DICOM.WAVEFORM_INVALID');
  });
  it('non-ECG waveforms (audio) are refused by SOP class', async () => {
    const f = writePart10({
      elements: [
        { tag: '00080016', vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.9.4.1' },
        { tag: '00080018', vr: 'UI', value: '1.2.3.9.1' },
      ],
    });
    expect(codeOf(await inspect(f))).toBe('DICOM.UNSUPPORTED_SOP_CLASS');
  });
});

describe('parse workers on the compiled core (what `npm start` runs)', () => {
  it('give the same outcome as the TypeScript core in-process, stack overflow included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'teleread-core-'));
    const url = await buildParseWorkerCore(join(dir, 'core.mjs'));
    expect(url).toMatch(/^file:.*core\.mjs$/);
    const insp = createDicomInspector({ workers: 2, workerCoreUrl: url! });
    try {
      const files = [
        'ecg-12lead-mortara-explicit-le.dcm',
        'aecg-hl7-example-mortara.xml',
        'scpecg-12lead-example-ecgtoolkit.scp',
        'us-multiframe-30f-jpeg-baseline-ybr422.dcm',
        'xray-dx-16bit-jpeg2000-lossless.dcm',
        'bad-deeply-nested-sequences.dcm',
        'bad-ts-mismatch-implicit-body-declared-jpeg.dcm',
        'other-ct-small.dcm',
      ];
      const pooled = await Promise.all(files.map((f) => insp.inspect(bytesSource(readSample(f)))));
      for (const [i, f] of files.entries()) {
        const direct = await inspectInProcess(bytesSource(readSample(f)));
        expect({ f, out: pooled[i] }).toEqual({ f, out: direct });
      }
      expect(codeOf(pooled[5]!)).toBe('DICOM.TOO_DEEP');
    } finally {
      await insp.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parse worker warm-up', () => {
  it('runs the warm-up file only while idle; real files are answered first and correctly', async () => {
    let runs = 0;
    const ecg = readSample('ecg-12lead-mortara-explicit-le.dcm');
    const insp = createDicomInspector({ workers: 1, warmup: { bytes: ecg, runs: 30, onRun: () => runs++ } });
    try {
      // Asked at once: the real file is answered before the worker has done its warm-up.
      const first = await insp.inspect(bytesSource(readSample('xray-cr-16x16-16bit-uncompressed-pydicom.dcm')));
      expect(codeOf(first)).toBe('accepted');
      expect(runs).toBeLessThan(30);
      for (let i = 0; i < 600 && runs < 30; i++) await new Promise((r) => setTimeout(r, 50));
      expect(runs).toBe(30);
      const after = await insp.inspect(bytesSource(ecg));
      expect(after).toEqual(await inspectInProcess(bytesSource(ecg)));
      await new Promise((r) => setTimeout(r, 200));
      expect(runs).toBe(30);
    } finally {
      await insp.close();
    }
  });
});
