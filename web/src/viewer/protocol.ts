export interface WL {
  window: number;
  level: number;
}

export type ToWorker =
  | { type: 'open'; buffer: ArrayBuffer }
  | { type: 'render'; frame: number; wl: WL | null; seq: number };

export type FromWorker =
  | {
      type: 'meta';
      width: number;
      height: number;
      frames: number;
      frameTimeMs: number;
      photometric: string;
      color: boolean;
      transferSyntax: string;
      /** mm per pixel [row, column] from PixelSpacing (else ImagerPixelSpacing), null when the file has neither. */
      pixelSpacing: [number, number] | null;
    }
  | { type: 'frame'; frame: number; width: number; height: number; pixels: ArrayBuffer; wl: WL | null; seq: number; progressive: boolean }
  | { type: 'progress'; decoded: number; frames: number; firstFrameMs: number | null; allFramesMs: number | null }
  | { type: 'error'; message: string };
