/** The part of fontkit (pdfkit's font engine, which ships no typings) that pdf.ts uses. */
declare module 'fontkit' {
  /** A parsed font, handed to pdfkit as is (`registerFont`). */
  export interface Font {
    readonly postscriptName: string;
  }
  export function create(buffer: Uint8Array): Font;
}
