import type { ReportContent } from '../contracts/report.ts';

/** What the renderer is told besides the signed content. */
export interface RenderContext {
  /** Printed on every page: case id, version and the content signature's prefix. */
  verificationCode: string;
  /** Key id of the content signature, printed in the signer block. */
  kid: string;
}

export interface RenderedReport {
  pdf: Uint8Array;
  /** Characters the embedded font has no glyph for (printed as a placeholder); empty when all render. */
  missingGlyphs: string[];
}

/** Renders the PDF of a signed report's content (pdfkit + embedded, subset Noto Sans CJK SC). */
export interface ReportRenderer {
  render(content: ReportContent, ctx: RenderContext): Promise<RenderedReport>;
}
