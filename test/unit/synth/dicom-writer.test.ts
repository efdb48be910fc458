import dicomParser from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import {
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLEMENTATION_CLASS_UID,
  IMPLICIT_VR_LITTLE_ENDIAN,
  encodeText,
  formatDS,
  part10StreamSize,
  writePart10,
  writePart10Stream,
  type Item,
} from '../../../shared/synth/dicom-writer.ts';
import { collect, crossCheck } from './cross-check.ts';
import { find, valueBytes } from './part10-walk.ts';

const SOP: Item[] = [
  { tag: '00080016', vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' },
  { tag: '00080018', vr: 'UI', value: '2.25.12345678' }, // odd length → NUL padded
];

function le16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function le32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}


describe('writePart10', () => {
  const elements: Item[] = [
    // deliberately unsorted
    { tag: '00100020', vr: 'LO', value: 'SYN-1' }, // odd → space
    { tag: '00100010', vr: 'PN', value: 'Doe^Jane' },
    ...SOP,
    { tag: '00280010', vr: 'US', value: 4 },
    { tag: '00281050', vr: 'DS', value: [40, 1.5] },
    { tag: '00200013', vr: 'IS', value: 7 },
    { tag: '00091010', vr: 'OB', value: Uint8Array.of(1, 2, 3) }, // odd → 0x00
    { tag: '00080008', vr: 'CS', value: 'ORIGINAL\\PRIMARY' },
    { tag: '00181063', vr: 'DS', value: 33.3 },
    { tag: '00280009', vr: 'AT', value: '00181063' },
    { tag: '0018602C', vr: 'FD', value: 0.03 },
    { tag: '00186016', vr: 'UL', value: 0x12345678 },
    { tag: '00281041', vr: 'SS', value: -1 },
    { tag: '00204000', vr: 'LT', value: 'synthetic' },
    {
      tag: '00082218',
      vr: 'SQ',
      value: [
        [
          { tag: '00080104', vr: 'LO', value: 'Chest' },
          { tag: '00080100', vr: 'SH', value: '43799004' },
        ],
        [],
      ],
    },
    { tag: '7FE00010', vr: 'OW', value: Uint8Array.of(1, 0, 2, 0, 3, 0, 4, 0) },
  ];

  it('writes preamble, DICM, group 0002 with a correct group length and the meta elements', () => {
    const bytes = writePart10({ elements });
    expect([...bytes.subarray(0, 128)].every((b) => b === 0)).toBe(true);
    expect(String.fromCharCode(...bytes.subarray(128, 132))).toBe('DICM');
    const { walked, dump } = crossCheck(bytes, 'writer-basic.dcm');
    const tags = walked.meta.map((m) => m.tag);
    expect(tags).toEqual(['00020000', '00020001', '00020002', '00020003', '00020010', '00020012', '00020013']);
    const ds = dicomParser.parseDicom(bytes);
    expect(ds.string('x00020002')).toBe('1.2.840.10008.5.1.4.1.1.7');
    expect(ds.string('x00020003')).toBe('2.25.12345678');
    expect(ds.string('x00020010')).toBe(EXPLICIT_VR_LITTLE_ENDIAN);
    expect(ds.string('x00020012')).toBe(IMPLEMENTATION_CLASS_UID);
    expect(IMPLEMENTATION_CLASS_UID).toMatch(/^2\.25\.[1-9]\d*$/);
    expect(IMPLEMENTATION_CLASS_UID.length).toBeLessThanOrEqual(64);
    const version = ds.elements['x00020001']!;
    expect([...bytes.subarray(version.dataOffset, version.dataOffset + 2)]).toEqual([0, 1]);
    // group length = bytes from after (0002,0000) to the first data set element
    const groupLength = ds.uint32('x00020000')!;
    expect(le16(bytes, 144 + groupLength)).toBe(0x0008);
    if (dump) {
      expect(dump.values.get('0002,0002')).toBe('=SecondaryCaptureImageStorage');
      expect(dump.values.get('0028,0010')).toBe('4');
    }
  });

  it('sorts the data set, pads to even length with the right byte, uses 2/4-byte lengths by VR', () => {
    const bytes = writePart10({ elements });
    const w = crossCheck(bytes, 'writer-pad.dcm').walked;
    const order = w.dataset.map((e) => e.tag);
    expect(order).toEqual([...order].sort());
    const uid = find(w.dataset, '00080018')!;
    expect(uid.length).toBe(14);
    expect(valueBytes(w, uid)[13]).toBe(0x00);
    const lo = find(w.dataset, '00100020')!;
    expect(String.fromCharCode(...valueBytes(w, lo))).toBe('SYN-1 ');
    const ob = find(w.dataset, '00091010')!;
    expect([...valueBytes(w, ob)]).toEqual([1, 2, 3, 0]);
    // explicit VR header forms: short VRs have the length at +6 (2 bytes), long ones at +8 (4 bytes)
    expect(le16(bytes, lo.offset - 2)).toBe(6);
    expect(bytes[ob.offset - 6]).toBe(0); // reserved
    expect(le32(bytes, ob.offset - 4)).toBe(4);
    const seq = find(w.dataset, '00082218')!;
    expect(seq.items).toHaveLength(2);
    expect(seq.items![0]!.map((e) => e.tag)).toEqual(['00080100', '00080104']);
    expect(seq.items![1]).toEqual([]);

    const ds = dicomParser.parseDicom(bytes);
    expect(ds.string('x00100010')).toBe('Doe^Jane');
    expect(ds.string('x00100020')).toBe('SYN-1');
    expect(ds.uint16('x00280010')).toBe(4);
    expect(ds.floatString('x00281050', 0)).toBe(40);
    expect(ds.floatString('x00281050', 1)).toBe(1.5);
    expect(ds.intString('x00200013')).toBe(7);
    expect(ds.string('x00080008', 1)).toBe('PRIMARY');
    expect(ds.attributeTag('x00280009')).toBe('x00181063');
    expect(ds.double('x0018602c')).toBe(0.03);
    expect(ds.uint32('x00186016')).toBe(0x12345678);
    expect(ds.int16('x00281041')).toBe(-1);
    const item = ds.elements['x00082218']!.items![0]!.dataSet!;
    expect(item.string('x00080100')).toBe('43799004');
    expect(item.string('x00080104')).toBe('Chest');
    const px = ds.elements['x7fe00010']!;
    expect(px.length).toBe(8);
    expect(px.vr).toBe('OW');
  });

  it('writes Implicit VR Little Endian data sets (meta stays explicit)', () => {
    const bytes = writePart10({ elements, transferSyntaxUID: IMPLICIT_VR_LITTLE_ENDIAN });
    const { walked, dump } = crossCheck(bytes, 'writer-implicit.dcm', ['00082218']);
    expect(walked.transferSyntaxUID).toBe(IMPLICIT_VR_LITTLE_ENDIAN);
    const ds = dicomParser.parseDicom(bytes);
    expect(ds.string('x00020010')).toBe(IMPLICIT_VR_LITTLE_ENDIAN);
    expect(ds.string('x00100010')).toBe('Doe^Jane');
    expect(ds.uint16('x00280010')).toBe(4);
    expect(ds.elements['x00082218']!.items![0]!.dataSet!.string('x00080104')).toBe('Chest');
    // implicit header: tag then a 4-byte length, no VR
    const lo = find(walked.dataset, '00100020')!;
    expect(le32(bytes, lo.offset - 4)).toBe(6);
    if (dump) expect(dump.values.get('0010,0010')).toBe('Doe^Jane');
  });

  it('uses a given preamble and formats DS within 16 characters', () => {
    const preamble = new Uint8Array(128).fill(0x41);
    const bytes = writePart10({ elements: SOP, preamble });
    expect(bytes[0]).toBe(0x41);
    expect(formatDS(0.1 + 0.2).length).toBeLessThanOrEqual(16);
    expect(formatDS(1 / 3).length).toBe(16);
    expect(Number(formatDS(0.1 + 0.2))).toBeCloseTo(0.3, 12);
    expect(formatDS(100)).toBe('100');
    expect(formatDS(33.3)).toBe('33.3');
    expect(formatDS(-123456789.12345679).length).toBeLessThanOrEqual(16);
  });

  it('rejects what would make a wrong file', () => {
    expect(() => writePart10({ elements: [SOP[0]!] })).toThrow(/SOPInstanceUID/);
    expect(() => writePart10({ elements: [...SOP, { tag: '00100010', vr: 'PN', value: '王芳' }] })).toThrow(/encodeText/);
    expect(() => writePart10({ elements: [...SOP, { tag: '00100010', vr: 'PN', value: 'a' }, { tag: '00100010', vr: 'PN', value: 'b' }] })).toThrow(/twice/);
    expect(() => writePart10({ elements: [...SOP, { tag: '00020010', vr: 'UI', value: '1.2' }] })).toThrow(/file meta/);
    expect(() => writePart10({ elements: [...SOP, { tag: '00204000', vr: 'LT', value: 'x'.repeat(70000) }] })).toThrow(/2-byte length/);
    expect(() => writePart10({ elements: SOP, transferSyntaxUID: '1.2.840.10008.1.2.4.50' })).toThrow(/not supported/);
    expect(() => writePart10({ elements: [...SOP, { tag: '0028001', vr: 'US', value: 1 }] })).toThrow(/bad tag/);
    expect(() => writePart10({ elements: [...SOP, { tag: '00280010', vr: 'US', value: 70000 }] })).toThrow(/out of range/);
    expect(() => writePart10({ elements: [...SOP, { tag: '00200013', vr: 'IS', value: 1.5 }] })).toThrow(/IS/);
    expect(() => writePart10({ elements: SOP, preamble: new Uint8Array(10) })).toThrow(/128/);
  });
});

describe('writePart10Stream', () => {
  const header: Item[] = [
    ...SOP,
    { tag: '00280100', vr: 'US', value: 8 },
    { tag: '00280010', vr: 'US', value: 3 },
    { tag: 'FFFAFFFA', vr: 'SQ', value: [] }, // after pixel data
  ];

  it('gives the same bytes as the in-memory writer, frames streamed as given', async () => {
    const frames = [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6), Uint8Array.of(7, 8)];
    for (const ts of [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN]) {
      const streamed = await collect(writePart10Stream({ elements: header, transferSyntaxUID: ts }, frames, 8));
      const whole = writePart10({
        transferSyntaxUID: ts,
        elements: [...header, { tag: '7FE00010', vr: 'OB', value: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }],
      });
      expect(streamed).toEqual(whole);
      expect(part10StreamSize({ elements: header, transferSyntaxUID: ts }, 8)).toBe(whole.length);
      crossCheck(streamed, `stream-${ts}.dcm`, ['fffafffa']);
    }
  });

  it('pads an odd pixel length, accepts async frames and checks the declared length', async () => {
    async function* frames(): AsyncGenerator<Uint8Array> {
      yield Uint8Array.of(9, 9, 9);
      yield Uint8Array.of(9, 9);
    }
    const bytes = await collect(writePart10Stream({ elements: SOP, pixelDataVR: 'OB' }, frames(), 5));
    const ds = dicomParser.parseDicom(bytes);
    expect(ds.elements['x7fe00010']!.length).toBe(6);
    expect(bytes[bytes.length - 1]).toBe(0);
    expect(part10StreamSize({ elements: SOP }, 5)).toBe(bytes.length);
    await expect(collect(writePart10Stream({ elements: SOP }, [Uint8Array.of(1, 2)], 4))).rejects.toThrow(/declared/);
    await expect(collect(writePart10Stream({ elements: SOP }, [new Uint8Array(6)], 4))).rejects.toThrow(/exceed/);
    await expect(
      collect(writePart10Stream({ elements: [...SOP, { tag: '7FE00010', vr: 'OB', value: new Uint8Array(2) }] }, [], 0)),
    ).rejects.toThrow(/pixelFrames/);
  });
});

describe('encodeText', () => {
  it('encodes 王芳 in GB18030 and UTF-8', () => {
    expect([...encodeText('王芳', 'GB18030')]).toEqual([0xcd, 0xf5, 0xb7, 0xbc]);
    expect([...encodeText('王芳', 'ISO_IR 192')]).toEqual([0xe7, 0x8e, 0x8b, 0xe8, 0x8a, 0xb3]);
  });

  it('round-trips GB18030 through the WHATWG decoder, two- and four-byte forms included', () => {
    const text = 'Wang^Fang=王^芳 张伟 李秀英 €·ü 䶮 𠀀 ';
    const bytes = encodeText(text, 'GB18030');
    expect(new TextDecoder('gb18030').decode(bytes)).toBe(text);
    expect([...encodeText('€', 'GB18030')]).toEqual([0xa2, 0xe3]);
    expect([...encodeText('\u{20000}', 'GB18030')]).toEqual([0x95, 0x32, 0x82, 0x36]);
    expect([...encodeText('\u0080', 'GB18030')]).toEqual([0x81, 0x30, 0x81, 0x30]);
    expect([...encodeText('ABC', 'GB18030')]).toEqual([0x41, 0x42, 0x43]);
    expect(() => encodeText('\ud800', 'GB18030')).toThrow(/surrogate/);
  });
});
