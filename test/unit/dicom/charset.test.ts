import { describe, expect, it } from 'vitest';
import { decodeText, decodeValues, resolveCharset } from '../../../shared/dicom/charset.ts';
import { bytesSource, inspectInProcess } from '../../../shared/dicom/inspector.ts';
import { crFile } from './support.ts';

// 王芳 written by hand, so the test does not depend on any encoder of ours.
const WANG_FANG_GB18030 = Uint8Array.from([0xcd, 0xf5, 0xb7, 0xbc]);
const WANG_FANG_UTF8 = Uint8Array.from([0xe7, 0x8e, 0x8b, 0xe8, 0x8a, 0xb3]);
const ascii = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));
const cat = (...p: Uint8Array[]) => Uint8Array.from(p.flatMap((x) => [...x]));

async function patientName(charset: string | null, name: Uint8Array, ts?: string): Promise<string | undefined> {
  const over = [{ tag: '00100010', vr: 'PN', value: name.length % 2 ? cat(name, ascii(' ')) : name }];
  if (charset !== null) over.push({ tag: '00080005', vr: 'CS', value: ascii(charset.length % 2 ? `${charset} ` : charset) });
  const r = await inspectInProcess(bytesSource(crFile(over, [], ts)));
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.metadata.patient.name;
}

describe('SpecificCharacterSet decoding', () => {
  it('GB18030 file: 王芳 comes out as 王芳', async () => {
    expect(await patientName('GB18030', WANG_FANG_GB18030)).toBe('王芳');
  });
  it('UTF-8 (ISO_IR 192) file: 王芳 comes out as 王芳', async () => {
    expect(await patientName('ISO_IR 192', WANG_FANG_UTF8)).toBe('王芳');
  });
  it('Implicit VR file with GB18030 decodes the same', async () => {
    expect(await patientName('GB18030', WANG_FANG_GB18030, '1.2.840.10008.1.2')).toBe('王芳');
  });
  it.each(['GBK', 'GB2312', 'ISO 2022 IR 58', 'ISO_IR 58'])('non-standard %s maps to the GB18030 decoder', async (cs) => {
    expect(await patientName(cs, WANG_FANG_GB18030)).toBe('王芳');
  });
  it('ISO 2022 IR 6 \\ ISO 2022 IR 58 with escape sequences', async () => {
    const esc = Uint8Array.from([0x1b, 0x24, 0x29, 0x41]);
    expect(await patientName('ISO 2022 IR 6\\ISO 2022 IR 58', cat(esc, WANG_FANG_GB18030))).toBe('王芳');
  });
  it('undeclared charset: non-ASCII bytes are tried as UTF-8, then GB18030', async () => {
    expect(await patientName(null, WANG_FANG_UTF8)).toBe('王芳');
    expect(await patientName(null, WANG_FANG_GB18030)).toBe('王芳');
  });
  it('PN components (^ and =) are kept', async () => {
    const v = cat(ascii('Wang^Fang='), WANG_FANG_GB18030);
    expect(await patientName('GB18030', v)).toBe('Wang^Fang=王芳');
  });
  it('latin1 (ISO_IR 100)', () => {
    expect(decodeText(Uint8Array.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72]), resolveCharset('ISO_IR 100'))).toBe('Müller');
  });
  it('multi-valued values split after decoding (a GBK trail byte may be 0x5C)', () => {
    // 乗 is not GBK-relevant; 0x815C is a GBK two-byte code whose trail byte is '\'.
    const bytes = Uint8Array.from([0x81, 0x5c, 0x5c, 0x41]);
    const vals = decodeValues(bytes, 'LO', resolveCharset('GBK'));
    expect(vals).toHaveLength(2);
    expect(vals[1]).toBe('A');
  });
  it('default repertoire and unknown terms fall back to ASCII', () => {
    expect(resolveCharset(undefined).encoding).toBe('ascii');
    expect(resolveCharset('ISO_IR 6').encoding).toBe('ascii');
    expect(resolveCharset('WHATEVER').encoding).toBe('ascii');
    expect(resolveCharset('\\ISO 2022 IR 58').encoding).toBe('gb18030');
  });
  it('trailing padding is trimmed, text VRs keep leading spaces', () => {
    expect(decodeValues(ascii('AB \0'), 'LO', resolveCharset(''))).toEqual(['AB']);
    expect(decodeValues(ascii('  x\\y '), 'LT', resolveCharset(''))).toEqual(['  x\\y']);
  });
});
