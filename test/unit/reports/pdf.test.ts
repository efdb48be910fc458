/**
 * Acceptance 1 of issue 7: the PDF's Chinese text extracts exactly (pdftotext), the CJK font is
 * embedded and subset (pdffonts), it rasterizes with an EMPTY fontconfig (pdftoppm: not blank), and a
 * rare character renders or is reported.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fontkit from 'fontkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_TEMPLATES, templateForModality, type ReportContent, type TemplateId } from '../../../shared/contracts/report.ts';
import { CJK_FACE, extractTtcFace, findNotoCjkCollection } from '../../../shared/reports/font.ts';
import { PdfReportRenderer } from '../../../shared/reports/pdf.ts';
import { sampleContent, testFont } from './support.ts';

for (const tool of ['pdftotext', 'pdffonts', 'pdftoppm']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    throw new Error(`The PDF tests need "${tool}" on PATH (Debian: apt-get install poppler-utils fonts-noto-cjk).`);
  }
}

const CTX = { verificationCode: 'case-T0000001/v1/AbCdEfGh_-12', kid: 'kid-of-the-signer' };
const squash = (s: string) => s.replace(/\s+/g, '');

describe('report PDF (pdfkit + embedded Noto Sans CJK SC)', () => {
  let dir: string;
  let emptyFontconfig: string;
  const renderer = new PdfReportRenderer({ font: () => testFont() });
  const run = (cmd: string, args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const save = async (name: string, content: ReportContent) => {
    const out = await renderer.render(content, CTX);
    const file = join(dir, `${name}.pdf`);
    writeFileSync(file, out.pdf);
    return { file, ...out };
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'teleread-pdf-'));
    emptyFontconfig = join(dir, 'fonts.conf');
    writeFileSync(emptyFontconfig, '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig></fontconfig>\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const template of ['ecg', 'xray', 'ultrasound'] as TemplateId[]) {
    it(`${template}: pdftotext extracts the Chinese text exactly; the only font is the embedded, subset CJK face`, async () => {
      const content = sampleContent(template, { critical: template === 'ecg' });
      const { file, missingGlyphs } = await save(template, content);
      expect(missingGlyphs).toEqual([]);
      const text = run('pdftotext', ['-enc', 'UTF-8', file, '-']).stdout;
      const flat = squash(text);
      const tpl = REPORT_TEMPLATES[template];
      for (const s of [
        content.findings,
        content.impression,
        content.consortium,
        content.clinic.name,
        tpl.title.zh,
        tpl.findingsLabel.zh,
        tpl.impressionLabel.zh,
        '吉𠮷',
        content.signer.name,
        '执业医师编号',
        content.signer.licenceNumber,
        CTX.verificationCode,
      ]) {
        expect(flat, s).toContain(squash(s));
      }
      if (template === 'ecg') {
        expect(flat).toContain('危急值');
        expect(flat).toContain('窦性心律');
        expect(flat).toContain(squash('系统自动测量（仅供参考）'));
      }
      if (template === 'ultrasound') for (const organ of ['肝脏', '胆囊', '胰腺', '脾脏', '双肾']) expect(flat).toContain(organ);

      const fonts = run('pdffonts', [file]).stdout.trim().split('\n').slice(2);
      expect(fonts.length).toBe(1);
      const [name, ...cols] = fonts[0]!.trim().split(/\s+/);
      expect(name).toMatch(new RegExp(`^[A-Z]{6}\\+${CJK_FACE}$`));
      // type (CID Type 0C), encoding, then emb sub uni
      const [emb, sub, uni] = cols.slice(-5, -2);
      expect({ emb, sub, uni }).toEqual({ emb: 'yes', sub: 'yes', uni: 'yes' });
      // Subset: the embedded font is a small fraction of the 16 MB face.
      expect(readFileSync(file).length).toBeLessThan(400_000);
    });
  }

  it('rasterizes with an empty fontconfig (no system fonts at all): glyphs are drawn, the page is not blank', async () => {
    const { file } = await save('raster', sampleContent('xray'));
    // A page of CJK text only (no rules, no banner) proves the glyphs themselves come from the PDF.
    const cjkOnly = await save('cjk-only', sampleContent('generic', { findings: '双肺纹理清晰'.repeat(40), impression: '心肺膈未见明显异常' }));
    for (const f of [file, cjkOnly.file]) {
      const out = join(dir, 'page');
      const r = spawnSync('pdftoppm', ['-r', '50', '-gray', '-f', '1', '-l', '1', '-singlefile', f, out], {
        encoding: 'utf8',
        env: { ...process.env, FONTCONFIG_FILE: emptyFontconfig, FONTCONFIG_PATH: dir, HOME: dir },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/font/i);
      const pgm = readFileSync(`${out}.pgm`);
      // P5 header: magic, width, height, maxval, then one byte per pixel.
      const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(pgm.subarray(0, 40).toString('latin1'))!;
      const [w, h] = [Number(header[1]), Number(header[2])];
      const pixels = pgm.subarray(header[0].length);
      expect(pixels.length).toBe(w * h);
      let dark = 0;
      for (const p of pixels) if (p < 128) dark++;
      expect(dark / pixels.length).toBeGreaterThan(0.005);
    }
  });

  it('the rare character 𠮷 (U+20BB7) is in the face and renders; characters the face lacks are reported', async () => {
    const font = testFont();
    expect(font.hasGlyphForCodePoint(0x20bb7)).toBe(true);
    const ok = await save('rare', sampleContent('ecg', { patient: { id: 'P-9', name: '𠮷野家' } }));
    expect(ok.missingGlyphs).toEqual([]);
    expect(squash(spawnSync('pdftotext', [ok.file, '-'], { encoding: 'utf8' }).stdout)).toContain('𠮷野家');

    // A Tangut ideograph is in no CJK face: the PDF still renders and the gap is reported.
    const missing = await save('missing', sampleContent('ecg', { patient: { id: 'P-9', name: '王𗀀' } }));
    expect(missing.missingGlyphs).toEqual(['𗀀']);
    expect(missing.pdf.length).toBeGreaterThan(1000);
    // …and the paper names it.
    expect(spawnSync('pdftotext', [missing.file, '-'], { encoding: 'utf8' }).stdout).toContain('U+17000');
  });

  it('renders deterministically: the same signed content gives the same bytes', async () => {
    const a = await renderer.render(sampleContent('ultrasound'), CTX);
    const b = await renderer.render(sampleContent('ultrasound'), CTX);
    expect(Buffer.from(a.pdf).equals(Buffer.from(b.pdf))).toBe(true);
  });

  it('long reports flow onto more pages, each with the verification code', async () => {
    const { file } = await save('long', sampleContent('xray', { findings: '右下肺野可见斑片状模糊影，边缘不清。'.repeat(200) }));
    const pages = run('pdftotext', [file, '-']).stdout.split('\f').filter((p) => p.trim());
    expect(pages.length).toBeGreaterThan(1);
    for (const p of pages) expect(squash(p)).toContain(CTX.verificationCode);
  });

  it('extractTtcFace copies one face out of the collection into a standalone font', () => {
    const ttc = findNotoCjkCollection();
    expect(ttc).not.toBeNull();
    const bytes = new Uint8Array(readFileSync(ttc!));
    const face = extractTtcFace(bytes, CJK_FACE);
    const f = fontkit.create(face);
    expect('postscriptName' in f && f.postscriptName).toBe(CJK_FACE);
    expect((f as fontkit.Font).hasGlyphForCodePoint('电'.codePointAt(0)!)).toBe(true);
    // Whole-font checksum is 0xB1B0AFBA once checkSumAdjustment is set.
    const view = new DataView(face.buffer, face.byteOffset, face.byteLength);
    let sum = 0;
    for (let i = 0; i < face.length; i += 4) sum = (sum + view.getUint32(i)) >>> 0;
    expect(sum).toBe(0xb1b0afba);
    expect(() => extractTtcFace(bytes, 'NoSuchFace')).toThrow(/not in the collection/);
    expect(() => extractTtcFace(face, CJK_FACE)).toThrow(/not a TrueType\/OpenType collection/);
  });

  it('templates: each modality maps to its template, with Chinese terms for every field', () => {
    expect(templateForModality('ECG').id).toBe('ecg');
    expect(templateForModality('CR').id).toBe('xray');
    expect(templateForModality('DX').id).toBe('xray');
    expect(templateForModality('US').id).toBe('ultrasound');
    expect(templateForModality('MR').id).toBe('generic');
    for (const t of Object.values(REPORT_TEMPLATES)) {
      for (const f of t.fields) {
        expect(f.label.zh).toMatch(/[\u4e00-\u9fff]/);
        for (const o of f.options ?? []) expect(o.term.zh).toMatch(/[\u4e00-\u9fff]/);
      }
    }
  });
});
