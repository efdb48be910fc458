/// <reference lib="webworker" />
import { DicomImage, NativePixelDecoder, WindowLevel } from 'dcmjs-imaging';
import wasmUrl from 'dcmjs-imaging/build/dcmjs-native-codecs.wasm?url';
import type { FromWorker, ToWorker, WL } from './protocol.ts';

// Decoding runs here so the page stays responsive; the codecs (JPEG, JPEG-LS, JPEG 2000, RLE, …) are
// one bundled WASM module, served from this origin.
declare const self: DedicatedWorkerGlobalScope;

let ready: Promise<void> | null = null;
let image: DicomImage | null = null;
let frames = 0;
let openedAt = 0;

const post = (m: FromWorker, transfer: Transferable[] = []) => self.postMessage(m, transfer);

function num(v: unknown): number | null {
  const x = Array.isArray(v) ? v[0] : v;
  const n = typeof x === 'number' ? x : parseFloat(String(x ?? ''));
  return Number.isFinite(n) ? n : null;
}

/** Encapsulated multi-frame data without a Basic Offset Table can carry several fragments per frame: join them per JPEG SOI. */
function joinFragments(img: DicomImage): DicomImage {
  const el = img.getElements() as Record<string, unknown>;
  const pd = el.PixelData;
  const n = num(el.NumberOfFrames) ?? 1;
  if (!Array.isArray(pd) || pd.length <= n || n < 1) return img;
  const groups: Uint8Array[][] = [];
  for (const f of pd as ArrayBuffer[]) {
    const u = new Uint8Array(f);
    if (!groups.length || (u[0] === 0xff && u[1] === 0xd8 && groups.length < n)) groups.push([u]);
    else groups[groups.length - 1]!.push(u);
  }
  if (groups.length !== n) return img;
  el.PixelData = groups.map((parts) => {
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let k = 0;
    for (const p of parts) {
      out.set(p, k);
      k += p.length;
    }
    return out.buffer;
  });
  return new DicomImage(el, img.getTransferSyntaxUid());
}

function renderFrame(frame: number, wl: WL | null, seq: number, progressive: boolean): void {
  if (!image) return;
  const r = image.render({ frame, ...(wl ? { windowLevel: new WindowLevel(wl.window, wl.level) } : {}), renderOverlays: false });
  const used = r.windowLevel ? { window: r.windowLevel.getWindow(), level: r.windowLevel.getLevel() } : null;
  post({ type: 'frame', frame, width: r.width, height: r.height, pixels: r.pixels, wl: used, seq, progressive }, [r.pixels]);
}

let queue: ToWorker[] = [];
let decoding = false;

async function open(buffer: ArrayBuffer) {
  openedAt = performance.now();
  ready ??= NativePixelDecoder.initializeAsync({ webAssemblyModulePathOrUrl: wasmUrl });
  await ready;
  let img = new DicomImage(buffer);
  img = joinFragments(img);
  image = img;
  frames = Math.max(1, img.getNumberOfFrames());
  const el = img.getElements() as Record<string, unknown>;
  const photometric = String(el.PhotometricInterpretation ?? '');
  const color = !/^MONOCHROME/.test(photometric);
  let ft = num(el.FrameTime);
  if (!ft && Array.isArray(el.FrameTimeVector)) ft = num((el.FrameTimeVector as unknown[])[1]);
  if (!ft && num(el.CineRate)) ft = 1000 / num(el.CineRate)!;
  if (!ft && num(el.RecommendedDisplayFrameRate)) ft = 1000 / num(el.RecommendedDisplayFrameRate)!;
  const spacing = (v: unknown): [number, number] | null => {
    const a = Array.isArray(v) ? v : typeof v === 'string' ? v.split('\\') : null;
    const r = num(a?.[0]);
    const c = num(a?.[1] ?? a?.[0]);
    return r && c ? [r, c] : null;
  };
  const pixelSpacing = spacing(el.PixelSpacing) ?? spacing(el.ImagerPixelSpacing);
  post({ type: 'meta', width: img.getWidth(), height: img.getHeight(), frames, frameTimeMs: ft ?? 1000 / 25, photometric, color, transferSyntax: img.getTransferSyntaxUid(), pixelSpacing });
  // The first frame at once; the others follow one by one, each posted as soon as it is decoded.
  renderFrame(0, null, 0, true);
  const first = performance.now() - openedAt;
  post({ type: 'progress', decoded: 1, frames, firstFrameMs: first, allFramesMs: frames === 1 ? first : null });
  for (let f = 1; f < frames; f++) {
    await new Promise((r) => setTimeout(r, 0)); // let render requests in between
    await drain();
    renderFrame(f, null, 0, true);
    post({ type: 'progress', decoded: f + 1, frames, firstFrameMs: first, allFramesMs: f + 1 === frames ? performance.now() - openedAt : null });
  }
}

async function drain() {
  // Only the latest render request matters (window/level drags send many).
  const last = queue.at(-1);
  queue = [];
  if (last?.type === 'render') renderFrame(last.frame, last.wl, last.seq, false);
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  try {
    if (m.type === 'open') {
      decoding = true;
      await open(m.buffer);
      decoding = false;
      await drain();
    } else {
      queue.push(m);
      if (!decoding) await drain();
    }
  } catch (err) {
    decoding = false;
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
