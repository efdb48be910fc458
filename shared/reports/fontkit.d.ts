/** The small part of fontkit (pdfkit's font engine) that TeleRead uses; fontkit ships no typings. */
declare module 'fontkit' {
  export interface Font {
    postscriptName: string;
    unitsPerEm: number;
    hasGlyphForCodePoint(codePoint: number): boolean;
    layout(text: string): unknown;
  }
  export interface FontCollection {
    type: 'TTC' | 'DFont';
    fonts: Font[];
    getFont(postscriptName: string): Font | null;
  }
  export function create(buffer: Uint8Array, postscriptName?: string): Font | FontCollection;
}
