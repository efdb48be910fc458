/**
 * HL7 aECG and SCP-ECG accepted as ECG studies: format sniffing, identifiers (source OID or a 2.25
 * hash of the bytes), demographics (including GB18030/GBK text), refusals without PHI, and the viewer decode.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crcCcitt } from '../../../shared/dicom/ecg/scp.ts';
import { analyzeEcgFile, ECG_FILE_FORMATS, hashUid, isValidOid, sniffEcgFile } from '../../../shared/dicom/ecg-file.ts';
import { bytesSource, inspectInProcess } from '../../../shared/dicom/inspector.ts';
import { analyzeBuffer, readWaveformBuffer } from '../../../shared/dicom/worker-core.ts';
import { readSample } from './support.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

/** A small aECG: one rhythm lead of 600 samples @ 500 Hz; `head` goes right after the root's start tag. */
function aecg(head: string, opts: { increment?: string; decl?: string } = {}): string {
  const digits = Array.from({ length: 600 }, (_, i) => Math.round(400 * Math.exp(-(((i % 400) - 200) ** 2) / 50))).join(' ');
  return `${opts.decl ?? '<?xml version="1.0" encoding="UTF-8"?>'}
<AnnotatedECG xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
${head}
<component><series><code code="RHYTHM"/><component><sequenceSet>
<component><sequence><code code="TIME_RELATIVE"/><value xsi:type="GLIST_PQ"><head value="0" unit="s"/><increment value="${opts.increment ?? '0.002'}" unit="s"/></value></sequence></component>
<component><sequence><code code="MDC_ECG_LEAD_II"/><value xsi:type="SLIST_PQ"><origin value="0" unit="uV"/><scale value="2.5" unit="uV"/><digits>${digits}</digits></value></sequence></component>
</sequenceSet></component></series></component></AnnotatedECG>
`;
}

const subject = (name: string) => `<componentOf><timepointEvent><componentOf><subjectAssignment><subject><trialSubject>
<id root="1.2.156.112604.1" extension="ZY-0042"/>
<subjectDemographicPerson><name>${name}</name><administrativeGenderCode code="F"/><birthTime value="19800214"/></subjectDemographicPerson>
</trialSubject></subject></subjectAssignment></componentOf></timepointEvent></componentOf>`;

describe('identifiers', () => {
  it('isValidOid: numeric arcs without leading zeros, at most 64 characters', () => {
    for (const ok of ['1.2.840.10008.5.1.4.1.1.9.1.1', '2.25.0', '2.25.329800735698586629295641978511506172918', '0.1']) expect(isValidOid(ok), ok).toBe(true);
    for (const bad of ['61d1a24f-b47e-41aa-ae95-f8ac302f4eeb', '1', '1.02.3', '3.1', '1.2.', '1..2', '', ' 1.2', `1.${'2'.repeat(63)}`]) {
      expect(isValidOid(bad), bad).toBe(false);
    }
  });

  it('hashUid is 2.25 + the decimal of the first 128 bits of SHA-256', () => {
    const bytes = utf8('any file');
    const hex = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
    expect(hashUid(bytes)).toBe(`2.25.${BigInt(`0x${hex}`).toString()}`);
    expect(hashUid(bytes).length).toBeLessThanOrEqual(64);
  });

  it('aECG: an OID root without extension is the SOP Instance UID; a series OID is the Series UID', () => {
    const m = analyzeEcgFile('hl7-aecg', utf8(aecg('<id root="1.2.156.112604.7.20240101.1"/>').replace('<series>', '<series><id root="1.2.156.112604.7.20240101.2"/>'))).metadata;
    expect(m.instance).toEqual({ SOPInstanceUID: '1.2.156.112604.7.20240101.1', SOPClassUID: 'urn:hl7-org:v3:aECG' });
    expect(m.series.SeriesInstanceUID).toBe('1.2.156.112604.7.20240101.2');
    expect(m.study.StudyInstanceUID).toMatch(/^2\.25\.\d+$/);
    expect(m.TransferSyntaxUID).toBe(ECG_FILE_FORMATS['hl7-aecg'].transferSyntaxUID);
    expect(m.Modality).toBe('ECG');
    // Another export of the same ECG (other bytes, same id) is the same instance.
    const again = analyzeEcgFile('hl7-aecg', utf8(aecg('<id root="1.2.156.112604.7.20240101.1"/>') + '\n')).metadata;
    expect(again.instance.SOPInstanceUID).toBe(m.instance.SOPInstanceUID);
    expect(again.study.StudyInstanceUID).toBe(m.study.StudyInstanceUID);
  });

  it('aECG: a UUID root, or a root with an extension, falls back to the hash of the bytes', () => {
    for (const id of ['<id root="61d1a24f-b47e-41aa-ae95-f8ac302f4eeb"/>', '<id root="1.2.156.112604.7" extension="000123"/>', '']) {
      const bytes = utf8(aecg(id));
      const m = analyzeEcgFile('hl7-aecg', bytes).metadata;
      expect(m.instance.SOPInstanceUID, id).toBe(hashUid(bytes));
      expect(new Set([m.instance.SOPInstanceUID, m.series.SeriesInstanceUID, m.study.StudyInstanceUID]).size).toBe(3);
    }
  });
});

describe('demographics', () => {
  it('aECG subject → patient block; GB2312-declared files are decoded as GB18030', () => {
    const gbk = new Uint8Array([0xd5, 0xc5, 0xc8, 0xfd]); // 张三 in GB2312
    const text = aecg(subject('@@NAME@@'), { decl: '<?xml version="1.0" encoding="GB2312"?>' });
    const [a, b] = text.split('@@NAME@@');
    const bytes = new Uint8Array([...utf8(a!), ...gbk, ...utf8(b!)]);
    const m = analyzeEcgFile('hl7-aecg', bytes).metadata;
    expect(m.patient).toEqual({ id: 'ZY-0042', name: '张三', sex: 'F', birthDate: '19800214' });
  });

  it('aECG: a structured name becomes family^given', () => {
    const m = analyzeEcgFile('hl7-aecg', utf8(aecg(subject('<family>Zhang</family><given>San</given>')))).metadata;
    expect(m.patient.name).toBe('Zhang^San');
  });

  it('aECG in UTF-16 with a BOM is recognised and read', () => {
    const s = aecg(subject('李四'), { decl: '<?xml version="1.0" encoding="UTF-16"?>' });
    const bytes = new Uint8Array(2 + s.length * 2);
    bytes.set([0xff, 0xfe]);
    for (let i = 0; i < s.length; i++) {
      bytes[2 + 2 * i] = s.charCodeAt(i) & 0xff;
      bytes[3 + 2 * i] = s.charCodeAt(i) >> 8;
    }
    expect(sniffEcgFile(bytes)).toBe('hl7-aecg');
    expect(analyzeEcgFile('hl7-aecg', bytes).metadata.patient.name).toBe('李四');
  });

  describe('SCP-ECG section 1', () => {
    /** The ECG Toolkit sample with its last name (tag 0, "Clark\0") replaced by `name` (6 bytes), CRCs re-sealed. */
    function withName(name: number[], lsc?: number): Uint8Array {
      const b = readSample('scpecg-12lead-example-ecgtoolkit.scp').slice();
      const v = new DataView(b.buffer);
      const s1 = 143 - 1; // section 1 starts at byte index 143 (1-based)
      const tag0 = s1 + 16;
      expect(b[tag0]).toBe(0);
      b.set(name, tag0 + 3);
      if (lsc !== undefined) {
        // tag 14 (acquiring device) follows tags 0, 2, 5, 8, 9; its byte 16 is the language support code
        let p = tag0;
        while (b[p] !== 14) p += 3 + (b[p + 1]! | (b[p + 2]! << 8));
        b[p + 3 + 16] = lsc;
      }
      const len = v.getUint32(s1 + 4, true);
      v.setUint16(s1, crcCcitt(b.subarray(s1 + 2, s1 + len)), true);
      v.setUint16(0, crcCcitt(b.subarray(2, v.getUint32(2, true))), true);
      return b;
    }

    it('names in GBK are decoded whether or not the language support code says so', () => {
      const zhangsan = [0xd5, 0xc5, 0xc8, 0xfd, 0, 0];
      expect(analyzeEcgFile('scp-ecg', withName(zhangsan)).metadata.patient.name).toBe('张三');
      expect(analyzeEcgFile('scp-ecg', withName(zhangsan, 0x27)).metadata.patient.name).toBe('张三');
      expect(analyzeEcgFile('scp-ecg', withName([0x57, 0x61, 0x6e, 0x67, 0, 0])).metadata.patient).toMatchObject({ name: 'Wang', id: 'SBJ-123', sex: 'M' });
    });

    it('SCP-ECG has no UID in section 1: the hash of the bytes, whatever the header says', () => {
      const bytes = readSample('scpecg-12lead-example-ecgtoolkit.scp');
      const m = analyzeEcgFile('scp-ecg', bytes).metadata;
      expect(m.instance).toEqual({ SOPInstanceUID: hashUid(bytes), SOPClassUID: 'EN1064:SCP-ECG' });
      expect(m.TransferSyntaxUID).toBe('SCP-ECG');
      expect(analyzeEcgFile('scp-ecg', withName([0x57, 0x61, 0x6e, 0x67, 0, 0])).metadata.instance.SOPInstanceUID).not.toBe(m.instance.SOPInstanceUID);
    });
  });
});

describe('sniffing and refusals', () => {
  it('recognises the formats; DICOM and other XML are not taken', () => {
    expect(sniffEcgFile(utf8(aecg('')))).toBe('hl7-aecg');
    expect(sniffEcgFile(utf8('\ufeff  <!-- c --><AnnotatedECG/>'))).toBe('hl7-aecg');
    expect(sniffEcgFile(utf8('<html><body>AnnotatedECG</body></html>'))).toBe('hl7-aecg'); // refused by the decoder, below
    expect(sniffEcgFile(utf8('<?xml version="1.0"?><note/>'))).toBeNull();
    const dicomLike = new Uint8Array(200);
    dicomLike.set(utf8('SCPECG'), 16);
    dicomLike.set(utf8('DICM'), 128);
    expect(sniffEcgFile(dicomLike)).toBeNull();
    dicomLike.set([0, 0, 0, 0], 128);
    expect(sniffEcgFile(dicomLike)).toBe('scp-ecg');
  });

  it('XML that names AnnotatedECG but is not one is refused as ECG.AECG_MALFORMED; a damaged SCP as ECG.SCP_MALFORMED', async () => {
    const html = await analyzeBuffer(utf8('<html><body>AnnotatedECG</body></html>'), 38);
    expect(html).toMatchObject({ kind: 'refused', code: 'ECG.AECG_MALFORMED' });
    const fake = new Uint8Array(300);
    fake.set(utf8('SCPECG'), 16);
    const scp = await analyzeBuffer(fake, fake.length);
    expect(scp).toMatchObject({ kind: 'refused', code: 'ECG.SCP_MALFORMED' });
    expect((scp as { message: string }).message).toMatch(/upload/);
  });

  it('an impossible sampling rate is refused', () => {
    expect(() => analyzeEcgFile('hl7-aecg', utf8(aecg('', { increment: '0.0000000001' })))).toThrow(/impossible sampling rate/);
  });

  it('refusal messages never quote the file (no PHI)', async () => {
    const broken = utf8(aecg(subject('Zhang^San-PHI-778899')).replace('</subjectDemographicPerson>', '</subjectDemographicPersn>'));
    const r = await inspectInProcess(bytesSource(broken));
    expect(r.ok ? 'accepted' : r.code).toBe('ECG.AECG_MALFORMED');
    expect(!r.ok && r.message).not.toMatch(/Zhang|778899|subjectDemographic/);
  });
});

describe('the viewer decode (readWaveformBuffer)', () => {
  it('serves aECG and SCP-ECG files, and refuses the empty aECG with its code', () => {
    const a = readWaveformBuffer(readSample('aecg-hl7-example-mortara.xml'));
    expect(a.kind === 'waveform' && [a.source, a.groups[0]!.leads.length, a.groups[0]!.samplingFrequency]).toEqual(['hl7-aecg', 12, 500]);
    expect(a.kind === 'waveform' && a.measurements?.heartRate).toBeGreaterThan(60);
    const s = readWaveformBuffer(readSample('scpecg-contec-ecg90a.scp'));
    expect(s.kind === 'waveform' && [s.source, s.groups[0]!.leads.length, s.groups[0]!.leads[0]!.mv.length]).toEqual(['scp-ecg', 12, 32767]);
    expect(readWaveformBuffer(readSample('aecg-empty-annotatedecg.xml'))).toMatchObject({ kind: 'refused', code: 'ECG.AECG_EMPTY' });
    // DICOM is unchanged.
    const d = readWaveformBuffer(readSample('ecg-12lead-mortara-explicit-le.dcm'));
    expect(d.kind === 'waveform' && d.source).toBe('dicom');
  });
});
