/**
 * The PDF of a signed report, rendered with pdfkit in one embedded, subset face (Noto Sans CJK SC,
 * which also covers Latin), so it reads the same on a machine without any CJK font. Bilingual labels;
 * the primary language is the report's. Rendering is deterministic for a given content and context
 * (CreationDate = signedAt; pdfkit derives the file ID from the info dictionary).
 */
import PDFDocument from 'pdfkit';
import type { Font } from 'fontkit';
import {
  REPORT_LABELS as L,
  bilingual,
  templateForModality,
  REPORT_TEMPLATES,
  type Lang,
  type ReportContent,
  type ReportTemplate,
  type Term,
} from '../contracts/report.ts';
import type { RenderContext, RenderedReport, ReportRenderer } from '../ports/report-renderer.ts';

const MARGIN = 48;
const INK = '#111111';
const MUTED = '#555555';
const RED = '#b00020';
const RULE = '#999999';

/** Characters never looked up in the font (layout only). */
const LAYOUT_ONLY = /[\s\u200b-\u200d\ufeff]/u;

/** Code points of `text` the font cannot draw, each once, in order of appearance. */
export function missingGlyphs(font: Pick<Font, 'hasGlyphForCodePoint'>, texts: Iterable<string>): string[] {
  const missing = new Set<string>();
  for (const text of texts) {
    for (const ch of text) {
      if (LAYOUT_ONLY.test(ch) || missing.has(ch)) continue;
      if (!font.hasGlyphForCodePoint(ch.codePointAt(0)!)) missing.add(ch);
    }
  }
  return [...missing];
}

/** Every string of the content that the page prints. */
function contentStrings(c: ReportContent): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(c);
  return out;
}

/** Beijing time for the page (the signed document keeps UTC). */
function beijingTime(iso: string): string {
  const d = new Date(Date.parse(iso) + 8 * 3600_000);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} (UTC+8) · ${iso}`;
}

const termOf = (term: Term, lang: Lang) => (lang === 'en' ? term.en : term.zh);

function fieldText(tpl: ReportTemplate, key: string, value: unknown, lang: Lang): { label: string; text: string } {
  const f = tpl.fields.find((x) => x.key === key);
  const raw = value === null || value === undefined ? '—' : typeof value === 'boolean' ? (value ? '是 yes' : '否 no') : String(value);
  if (!f) return { label: key, text: raw };
  const option = f.options?.find((o) => o.value === value);
  const text = option ? `${termOf(option.term, lang)} (${termOf(option.term, lang === 'en' ? 'zh-CN' : 'en')})` : f.unit && typeof value === 'number' ? `${raw} ${f.unit}` : raw;
  return { label: bilingual(f.label, lang), text };
}

export interface PdfRendererOptions {
  /** The CJK face (see font.ts `loadCjkFont`), opened once and shared by every render; a function opens it on first use. */
  font: Font | (() => Font);
}

export class PdfReportRenderer implements ReportRenderer {
  #font: Font | null = null;
  readonly #open: () => Font;

  constructor(opts: PdfRendererOptions) {
    const f = opts.font;
    this.#open = typeof f === 'function' ? f : () => f;
  }

  /** The face, opened (and extracted from the collection, if needed) on first use. */
  get font(): Font {
    this.#font ??= this.#open();
    return this.#font;
  }

  async render(content: ReportContent, ctx: RenderContext): Promise<RenderedReport> {
    const lang: Lang = content.language === 'en' ? 'en' : 'zh-CN';
    const tpl = REPORT_TEMPLATES[content.template] ?? templateForModality(content.Modality);
    const b = (term: Term) => bilingual(term, lang);
    const texts: string[] = [];
    const signedAt = new Date(content.signedAt);

    const doc = new PDFDocument({
      size: 'A4',
      margins: { top: MARGIN, bottom: MARGIN + 24, left: MARGIN, right: MARGIN },
      bufferPages: true,
      pdfVersion: '1.7',
      lang: lang === 'en' ? 'en' : 'zh-CN',
      displayTitle: true,
      info: {
        Title: `${tpl.title.zh} ${tpl.title.en} ${content.caseId} v${content.version}`,
        Author: content.signer.name,
        Subject: ctx.verificationCode,
        Creator: 'TeleRead',
        Producer: 'TeleRead (pdfkit)',
        CreationDate: signedAt,
        ModDate: signedAt,
      },
    });
    const chunks: Uint8Array[] = [];
    doc.on('data', (c: Uint8Array) => chunks.push(c));
    const ended = new Promise<void>((resolve, reject) => {
      doc.on('end', resolve);
      doc.on('error', reject);
    });

    // pdfkit accepts an opened fontkit font wherever it accepts a font file.
    doc.registerFont('cjk', this.font as unknown as Uint8Array);
    doc.font('cjk');
    const width = doc.page.width - 2 * MARGIN;
    const put = (text: string, size: number, opts: PDFKit.Mixins.TextOptions & { color?: string } = {}) => {
      texts.push(text);
      const { color, ...rest } = opts;
      doc.fontSize(size).fillColor(color ?? INK).text(text, { width, ...rest });
    };
    const rule = () => {
      doc.moveDown(0.3);
      doc.moveTo(MARGIN, doc.y).lineTo(MARGIN + width, doc.y).lineWidth(0.5).strokeColor(RULE).stroke();
      doc.moveDown(0.4);
    };
    const heading = (term: Term) => {
      doc.moveDown(0.4);
      put(b(term), 11.5, { color: MUTED });
    };
    const pair = (term: Term | string, value: string) => {
      const label = typeof term === 'string' ? term : b(term);
      texts.push(label, value);
      doc.fontSize(10).fillColor(MUTED).text(`${label}：`, { width, continued: true }).fillColor(INK).text(value);
    };

    // Header: consortium and clinic, title.
    put(`${content.consortium}`, 10, { color: MUTED, align: 'center' });
    put(`${b(L.document)}`, 10, { color: MUTED, align: 'center' });
    put(`${tpl.title.zh}  ${tpl.title.en}`, 18, { align: 'center' });
    put(`${b(L.clinic)}：${content.clinic.name}`, 10, { align: 'center' });
    rule();

    if (content.critical) {
      const y = doc.y;
      doc.rect(MARGIN, y, width, 38).fillColor(RED).fill();
      doc.y = y + 5;
      put(`${L.critical.zh}  ${L.critical.en}`, 14, { color: '#ffffff', align: 'center' });
      put(`${L.criticalNote.zh} · ${L.criticalNote.en}`, 8.5, { color: '#ffffff', align: 'center' });
      doc.y = y + 44;
    }
    if (content.amendment) {
      const kind = content.amendment.kind === 'correction' ? L.correction : L.addendum;
      put(`${b(kind)} — ${b(L.supersedes)} v${content.supersedes ?? '?'}`, 12, { color: RED });
      pair(L.amendmentReason, content.amendment.reason);
      rule();
    }

    heading(L.patient);
    const sex = content.patient.sex === 'M' ? L.sexM : content.patient.sex === 'F' ? L.sexF : content.patient.sex ? L.sexO : null;
    pair(L.patientName, content.patient.name.replace(/\^+/g, ' ').trim());
    pair(L.patientId, content.patient.id);
    if (sex) pair(L.sex, b(sex));
    if (content.patient.birthDate) pair(L.birthDate, content.patient.birthDate);

    heading(L.study);
    pair(L.caseId, content.caseId);
    pair(L.modality, `${content.Modality || '—'} · ${b(tpl.title)}`);
    pair(L.studyUid, content.StudyInstanceUID || '—');
    pair(L.instances, String(content.instances.length));
    rule();

    const fieldKeys = Object.keys(content.fields);
    if (fieldKeys.length) {
      heading(L.structured);
      const ordered = [...tpl.fields.map((f) => f.key).filter((k) => k in content.fields), ...fieldKeys.filter((k) => !tpl.fields.some((f) => f.key === k)).sort()];
      let group: string | undefined;
      for (const key of ordered) {
        const g = tpl.fields.find((f) => f.key === key)?.group;
        if (g && b(g) !== group) {
          group = b(g);
          put(group, 10, { color: MUTED });
        }
        const { label, text } = fieldText(tpl, key, content.fields[key], lang);
        pair(label, text);
      }
    }
    if (content.advisoryMeasurements && Object.keys(content.advisoryMeasurements).length) {
      heading(L.advisory);
      const m = Object.entries(content.advisoryMeasurements)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(' · ');
      put(m || '—', 9.5, { color: MUTED });
      if (content.automaticFlags?.length) put(`${b(L.advisoryFlags)}：${content.automaticFlags.join(', ')}`, 9.5, { color: MUTED });
    }

    heading(tpl.findingsLabel);
    put(content.findings.trim() || '—', 11, { lineGap: 2 });
    heading(tpl.impressionLabel);
    put(content.impression.trim(), 12.5, { lineGap: 2, color: content.critical ? RED : INK });
    rule();

    heading(L.signature);
    pair(L.signer, content.signer.name);
    pair(L.licence, content.signer.licenceNumber || '—');
    pair(L.institution, content.signer.institution);
    pair(L.signedAt, beijingTime(content.signedAt));
    pair(L.version, `v${content.version}${content.supersedes !== null ? ` (${b(L.supersedes)} v${content.supersedes})` : ''}`);
    pair(L.verification, ctx.verificationCode);
    pair('kid', ctx.kid);
    // Characters of the signed content the face cannot draw are named, so the paper never silently drops one.
    const undrawable = missingGlyphs(this.font, contentStrings(content));
    if (undrawable.length) {
      const list = undrawable.map((ch) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(' ');
      put(`${b(L.missingGlyphs)}：${list}`, 8.5, { color: RED });
    }
    doc.moveDown(0.3);
    put(`${L.verificationNote.zh}\n${L.verificationNote.en}`, 8, { color: MUTED });

    // Footer on every page: verification code and page number.
    const range = doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      doc.switchToPage(i);
      const footer = `${b(L.verification)}：${ctx.verificationCode}    ${i + 1} / ${range.count}`;
      texts.push(footer);
      const bottom = doc.page.margins.bottom;
      doc.page.margins.bottom = 0;
      doc.fontSize(8).fillColor(MUTED).text(footer, MARGIN, doc.page.height - MARGIN, { width, align: 'center', lineBreak: false });
      doc.page.margins.bottom = bottom;
    }
    doc.flushPages();
    doc.end();
    await ended;
    const pdf = new Uint8Array(Buffer.concat(chunks));
    return { pdf, missingGlyphs: missingGlyphs(this.font, texts) };
  }
}
