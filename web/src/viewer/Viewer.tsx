import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { fetchBytes } from '../api.ts';
import type { FromWorker, ToWorker, WL } from './protocol.ts';

type Meta = Omit<Extract<FromWorker, { type: 'meta' }>, 'type'>;

/** Length of a ruler: mm with the file's pixel spacing ([row, column] mm), else pixels. */
function rulerText(r: { a: [number, number]; b: [number, number] }, spacing: [number, number] | null): string {
  const dx = r.b[0] - r.a[0];
  const dy = r.b[1] - r.a[1];
  if (!spacing) return `${Math.hypot(dx, dy).toFixed(0)} px`;
  return `${Math.hypot(dx * spacing[1], dy * spacing[0]).toFixed(1)} mm`;
}

/** seq of worker renders asked for by the cine (not window/level). */
const CINE = -1;

/** Drop the kept frames farthest ahead of the current one until `limit` remain (the cine plays forward). */
function evict(frames: (HTMLCanvasElement | null)[], limit: number, current: number, total: number): void {
  const kept = frames.map((c, i) => (c ? i : -1)).filter((i) => i >= 0);
  if (kept.length <= limit) return;
  const n = Math.max(total, frames.length);
  kept.sort((a, b) => ((b - current + n) % n) - ((a - current + n) % n));
  for (const i of kept.slice(0, kept.length - limit)) frames[i] = null;
}

/**
 * DICOM image viewer: window/level by drag (true W/L for grayscale, re-rendered by the decoding worker;
 * brightness/contrast for colour), presets, zoom, pan, invert, cine at the file's FrameTime.
 * MONOCHROME1 is displayed inverted by the rendering pipeline, as the standard requires.
 */
export function Viewer({ src, bytes }: { src?: string; bytes?: ArrayBuffer }) {
  const { t } = useTranslation();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  const workerRef = useRef<Worker | null>(null);
  const framesRef = useRef<(HTMLCanvasElement | null)[]>([]);
  // Decoded frames kept for the cine, within a memory budget (a 500-frame loop does not fit in RAM as RGBA);
  // frames outside it are rendered again by the worker when the cine reaches them.
  const cacheLimit = useRef(Infinity);
  const frameRef = useRef(0);
  const lastShown = useRef<HTMLCanvasElement | null>(null);
  const pendingFrame = useRef<number | null>(null);
  const totalFrames = useRef(1);
  const [meta, setMeta] = useState<Meta | null>(null);
  const [decoded, setDecoded] = useState(0);
  const [firstMs, setFirstMs] = useState<number | null>(null);
  const [allMs, setAllMs] = useState<number | null>(null);
  const firstDrawnDecoded = useRef<number | null>(null);
  const decodedRef = useRef(0);
  const [frame, setFrame] = useState(0);
  const [wl, setWl] = useState<WL | null>(null);
  const defaultWl = useRef<WL | null>(null);
  const [colorAdj, setColorAdj] = useState({ b: 1, c: 1 });
  const [zoom, setZoom] = useState(1);
  const [pan, setPan] = useState({ x: 0, y: 0 });
  const [invert, setInvert] = useState(false);
  const [tool, setTool] = useState<'wl' | 'pan' | 'measure'>('wl');
  // A distance in image pixel coordinates (drawn on the image, in mm when the file gives the pixel spacing).
  const [ruler, setRuler] = useState<{ a: [number, number]; b: [number, number] } | null>(null);
  const xform = useRef({ s: 1, tx: 0, ty: 0, dpr: 1 });
  const [presetName, setPresetName] = useState('default');
  const [playing, setPlaying] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [download, setDownload] = useState<{ loaded: number; total: number | null } | null>(null);
  const [version, setVersion] = useState(0); // bumps when a frame's pixels change
  const seq = useRef(0);

  // Load and decode.
  useEffect(() => {
    setMeta(null);
    setDecoded(0);
    setFrame(0);
    setError(null);
    setPlaying(false);
    setWl(null);
    defaultWl.current = null;
    framesRef.current = [];
    frameRef.current = 0;
    lastShown.current = null;
    pendingFrame.current = null;
    firstDrawnDecoded.current = null;
    decodedRef.current = 0;
    const w = new Worker(new URL('./decode.worker.ts', import.meta.url), { type: 'module' });
    workerRef.current = w;
    w.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === 'meta') {
        const budgetMb = Number(localStorage.getItem('teleread.viewerCacheMB')) || 512;
        totalFrames.current = m.frames;
        cacheLimit.current = Math.max(4, Math.floor((budgetMb * 1048576) / Math.max(1, m.width * m.height * 4)));
        setMeta(m);
      }
      else if (m.type === 'progress') {
        setDecoded(m.decoded);
        decodedRef.current = m.decoded;
        if (m.firstFrameMs !== null) setFirstMs(m.firstFrameMs);
        if (m.allFramesMs !== null) setAllMs(m.allFramesMs);
      } else if (m.type === 'error') setError(m.message);
      else if (m.type === 'frame') {
        if (!m.progressive && m.seq !== seq.current && m.seq !== CINE) return; // a stale window/level render
        if (m.seq === CINE && pendingFrame.current === m.frame) pendingFrame.current = null;
        const c = framesRef.current[m.frame] ?? document.createElement('canvas');
        c.width = m.width;
        c.height = m.height;
        c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(m.pixels), m.width, m.height), 0, 0);
        framesRef.current[m.frame] = c;
        evict(framesRef.current, cacheLimit.current, frameRef.current, totalFrames.current);
        if (m.frame === 0 && firstDrawnDecoded.current === null) {
          // Draw the first frame at once, before React renders: the rest may still be decoding.
          firstDrawnDecoded.current = decodedRef.current;
          drawRef.current();
        }
        if (m.progressive && m.frame === 0 && m.wl) {
          defaultWl.current = m.wl;
          setWl((x) => x ?? m.wl);
        }
        setVersion((v) => v + 1);
      }
    };
    let cancelled = false;
    setDownload(null);
    let last = 0;
    (bytes
      ? Promise.resolve(bytes.slice(0))
      : fetchBytes(src!, (loaded, total) => {
          const now = performance.now();
          if (now - last > 100 || loaded === total) {
            last = now;
            setDownload({ loaded, total });
          }
        }))
      .then((buf) => {
        if (!cancelled) w.postMessage({ type: 'open', buffer: buf } satisfies ToWorker, [buf]);
      })
      .catch((e: Error) => setError(e.message));
    return () => {
      cancelled = true;
      w.terminate();
      workerRef.current = null;
    };
  }, [src, bytes]);

  // Window/level of grayscale images: re-render in the worker (only the latest request is kept).
  const requestWl = useCallback(
    (next: WL) => {
      setWl(next);
      seq.current++;
      workerRef.current?.postMessage({ type: 'render', frame, wl: next, seq: seq.current } satisfies ToWorker);
    },
    [frame],
  );

  // Draw.
  const draw = useCallback(() => {
    const cv = canvasRef.current;
    const box = boxRef.current;
    const img = framesRef.current[frame] ?? lastShown.current;
    if (!cv || !box) return;
    const dpr = window.devicePixelRatio || 1;
    const cw = box.clientWidth;
    const ch = box.clientHeight;
    if (cv.width !== Math.round(cw * dpr) || cv.height !== Math.round(ch * dpr)) {
      cv.width = Math.round(cw * dpr);
      cv.height = Math.round(ch * dpr);
    }
    const ctx = cv.getContext('2d')!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, cv.width, cv.height);
    if (!img) return;
    lastShown.current = img;
    const s = Math.min(cv.width / img.width, cv.height / img.height) * zoom;
    const tx = cv.width / 2 + pan.x * dpr - (img.width * s) / 2;
    const ty = cv.height / 2 + pan.y * dpr - (img.height * s) / 2;
    xform.current = { s, tx, ty, dpr };
    ctx.setTransform(s, 0, 0, s, tx, ty);
    const f: string[] = [];
    if (meta?.color && (colorAdj.b !== 1 || colorAdj.c !== 1)) f.push(`brightness(${colorAdj.b})`, `contrast(${colorAdj.c})`);
    if (invert) f.push('invert(1)');
    ctx.filter = f.length ? f.join(' ') : 'none';
    ctx.imageSmoothingEnabled = s < 4;
    ctx.drawImage(img, 0, 0);
    ctx.filter = 'none';
    if (ruler) {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      const [ax, ay] = [tx + ruler.a[0] * s, ty + ruler.a[1] * s];
      const [bx, by] = [tx + ruler.b[0] * s, ty + ruler.b[1] * s];
      ctx.strokeStyle = '#ffd400';
      ctx.lineWidth = 2 * dpr;
      ctx.beginPath();
      ctx.moveTo(ax, ay);
      ctx.lineTo(bx, by);
      ctx.stroke();
      ctx.font = `${14 * dpr}px sans-serif`;
      ctx.fillStyle = '#ffd400';
      ctx.fillText(rulerText(ruler, meta?.pixelSpacing ?? null), bx + 6 * dpr, by - 6 * dpr);
    }
  }, [frame, zoom, pan, invert, colorAdj, meta, ruler]);
  const drawRef = useRef(draw);
  drawRef.current = draw;
  useEffect(draw, [draw, version]);
  useEffect(() => {
    const ro = new ResizeObserver(() => draw());
    if (boxRef.current) ro.observe(boxRef.current);
    return () => ro.disconnect();
  }, [draw]);

  // Show frame n: at once when kept, else ask the worker for it (it shows when it arrives).
  const show = useCallback((n: number) => {
    frameRef.current = n;
    if (!framesRef.current[n] && pendingFrame.current !== n) {
      pendingFrame.current = n;
      workerRef.current?.postMessage({ type: 'render', frame: n, wl: null, seq: CINE } satisfies ToWorker);
    }
    setFrame(n);
  }, []);

  // Cine: advance at the file's frame time, only onto frames already decoded.
  useEffect(() => {
    if (!playing || !meta || meta.frames < 2) return;
    const id = setInterval(() => {
      const n = (frameRef.current + 1) % meta.frames;
      if (n < decodedRef.current && pendingFrame.current === null) show(n);
    }, meta.frameTimeMs);
    return () => clearInterval(id);
  }, [playing, meta, show]);

  const adjust = (dx: number, dy: number) => {
    if (!meta) return;
    if (meta.color || meta.frames > 1) {
      setColorAdj((a) => ({ b: Math.max(0.1, a.b - dy / 200), c: Math.max(0.1, a.c + dx / 200) }));
      return;
    }
    const base = defaultWl.current ?? { window: 256, level: 128 };
    const k = Math.max(base.window, 1) / 256;
    const cur = wl ?? base;
    requestWl({ window: Math.max(1, cur.window + dx * k), level: cur.level + dy * k });
  };

  const preset = (p: 'default' | 'full' | 'narrow' | 'wide') => {
    const base = defaultWl.current;
    if (!meta) return;
    if (meta.color || !base) {
      setColorAdj(p === 'narrow' ? { b: 1, c: 1.6 } : p === 'wide' ? { b: 1, c: 0.6 } : { b: 1, c: 1 });
      return;
    }
    if (p === 'default') requestWl(base);
    else if (p === 'narrow') requestWl({ window: base.window / 2, level: base.level });
    else if (p === 'wide') requestWl({ window: base.window * 2, level: base.level });
    else requestWl({ window: base.window * 4, level: base.level }); // well past the stored range
  };

  const reset = () => {
    setZoom(1);
    setPan({ x: 0, y: 0 });
    setInvert(false);
    setRuler(null);
    setPresetName('default');
    setColorAdj({ b: 1, c: 1 });
    if (defaultWl.current && !meta?.color && (meta?.frames ?? 1) === 1) requestWl(defaultWl.current);
  };

  const step = (d: number) => {
    if (!meta) return;
    setPlaying(false);
    const n = (frameRef.current + d + meta.frames) % meta.frames;
    if (n < decodedRef.current) show(n);
  };

  const drag = useRef<{ x: number; y: number; mode: 'wl' | 'pan' | 'measure' } | null>(null);
  const toImage = (e: React.PointerEvent<HTMLCanvasElement>): [number, number] => {
    const r = e.currentTarget.getBoundingClientRect();
    const { s, tx, ty, dpr } = xform.current;
    return [((e.clientX - r.left) * dpr - tx) / s, ((e.clientY - r.top) * dpr - ty) / s];
  };

  return (
    <section
      className="viewer"
      aria-label={t('viewer.label')}
      data-testid="viewer"
      data-frames={meta?.frames ?? 0}
      data-decoded={decoded}
      data-frame={frame}
      data-playing={playing ? '1' : '0'}
      data-frame-time={meta?.frameTimeMs ?? ''}
      data-first-frame-ms={firstMs ?? ''}
      data-all-frames-ms={allMs ?? ''}
      data-first-drawn-decoded={firstDrawnDecoded.current ?? ''}
      data-wl={wl ? `${Math.round(wl.window)}/${Math.round(wl.level)}` : ''}
      data-ready={framesRef.current[0] || lastShown.current ? '1' : '0'}
      data-cached={framesRef.current.filter(Boolean).length}
      data-ruler={ruler ? rulerText(ruler, meta?.pixelSpacing ?? null) : ''}
    >
      <div className="toolbar" role="toolbar" aria-label={t('viewer.label')}>
        <button type="button" aria-pressed={tool === 'wl'} onClick={() => setTool('wl')}>
          {t('viewer.wlTool')}
        </button>
        <button type="button" aria-pressed={tool === 'pan'} onClick={() => setTool('pan')}>
          {t('viewer.pan')}
        </button>
        <button type="button" aria-pressed={tool === 'measure'} onClick={() => setTool('measure')} data-testid="measure">
          {t('viewer.measure')}
        </button>
        <label>
          {t('viewer.presets')}{' '}
          <select
            aria-label={t('viewer.presets')}
            value={presetName}
            onChange={(e) => {
              setPresetName(e.target.value);
              preset(e.target.value as 'default');
            }}
            data-testid="wl-preset"
          >
            <option value="default">{t('viewer.presetDefault')}</option>
            <option value="narrow">{t('viewer.presetNarrow')}</option>
            <option value="wide">{t('viewer.presetWide')}</option>
            <option value="full">{t('viewer.presetFull')}</option>
          </select>
        </label>
        <button type="button" onClick={() => setZoom((z) => z * 1.25)} aria-label={t('viewer.zoomIn')}>
          ＋
        </button>
        <button type="button" onClick={() => setZoom((z) => z / 1.25)} aria-label={t('viewer.zoomOut')}>
          －
        </button>
        <button type="button" aria-pressed={invert} onClick={() => setInvert((v) => !v)}>
          {t('viewer.invert')}
        </button>
        <button type="button" onClick={reset}>
          {t('viewer.reset')}
        </button>
        {meta && meta.frames > 1 && (
          <>
            <button type="button" onClick={() => step(-1)} aria-label={t('viewer.prev')}>
              |◀
            </button>
            <button type="button" onClick={() => setPlaying((p) => !p)} data-testid="play" aria-label={playing ? t('viewer.pause') : t('viewer.play')}>
              {playing ? '❚❚' : '▶'}
            </button>
            <button type="button" onClick={() => step(1)} aria-label={t('viewer.next')}>
              ▶|
            </button>
            <span aria-live="polite">
              {t('viewer.frame', { i: frame + 1, n: meta.frames })} · {t('viewer.fps', { fps: (1000 / meta.frameTimeMs).toFixed(0) })}
              {decoded < meta.frames ? ` · ${t('viewer.decoded', { d: decoded, n: meta.frames })}` : ''}
            </span>
          </>
        )}
        {wl && !meta?.color && meta?.frames === 1 && (
          <span className="wl-readout">
            {t('viewer.window')} {Math.round(wl.window)} · {t('viewer.level')} {Math.round(wl.level)}
          </span>
        )}
      </div>
      <div className="stage" ref={boxRef}>
        <canvas
          ref={canvasRef}
          tabIndex={0}
          aria-label={`${t('viewer.label')}. ${t('viewer.keys')}`}
          data-testid="viewer-canvas"
          onContextMenu={(e) => e.preventDefault()}
          onPointerDown={(e) => {
            (e.target as HTMLCanvasElement).setPointerCapture(e.pointerId);
            const mode = e.button === 2 || e.shiftKey || tool === 'pan' ? 'pan' : tool === 'measure' ? 'measure' : 'wl';
            drag.current = { x: e.clientX, y: e.clientY, mode };
            if (mode === 'measure') {
              const p = toImage(e);
              setRuler({ a: p, b: p });
            }
          }}
          onPointerMove={(e) => {
            const d = drag.current;
            if (!d) return;
            const dx = e.clientX - d.x;
            const dy = e.clientY - d.y;
            d.x = e.clientX;
            d.y = e.clientY;
            if (d.mode === 'measure') {
              const b = toImage(e);
              setRuler((r) => (r ? { a: r.a, b } : r));
            } else if (d.mode === 'pan') setPan((p) => ({ x: p.x + dx, y: p.y + dy }));
            else adjust(dx, dy);
          }}
          onPointerUp={() => (drag.current = null)}
          onWheel={(e) => setZoom((z) => Math.min(20, Math.max(0.1, z * (e.deltaY < 0 ? 1.1 : 1 / 1.1))))}
          onKeyDown={(e) => {
            const k = e.key;
            let handled = true;
            if (e.shiftKey && k.startsWith('Arrow')) {
              const d = 20;
              setPan((p) => ({ x: p.x + (k === 'ArrowLeft' ? -d : k === 'ArrowRight' ? d : 0), y: p.y + (k === 'ArrowUp' ? -d : k === 'ArrowDown' ? d : 0) }));
            } else if (k === 'ArrowLeft') adjust(-10, 0);
            else if (k === 'ArrowRight') adjust(10, 0);
            else if (k === 'ArrowUp') adjust(0, -10);
            else if (k === 'ArrowDown') adjust(0, 10);
            else if (k === '+' || k === '=') setZoom((z) => z * 1.25);
            else if (k === '-') setZoom((z) => z / 1.25);
            else if (k === 'i' || k === 'I') setInvert((v) => !v);
            else if (k === 'r' || k === 'R') reset();
            else if (k === 'm' || k === 'M') setTool((x) => (x === 'measure' ? 'wl' : 'measure'));
            else if (k === 'Escape') setRuler(null);
            else if (k === ' ') setPlaying((p) => !p);
            else if (k === ',') step(-1);
            else if (k === '.') step(1);
            else handled = false;
            if (handled) e.preventDefault();
          }}
        />
        {!meta && !error && (
          <p className="overlay">
            {t('viewer.loading')}
            {download && (
              <>
                <br />
                <progress max={download.total ?? undefined} value={download.loaded} aria-label={t('viewer.downloading')} />{' '}
                {(download.loaded / 1048576).toFixed(1)}
                {download.total ? ` / ${(download.total / 1048576).toFixed(1)}` : ''} MB
              </>
            )}
          </p>
        )}
        {error && (
          <p className="overlay error" role="alert">
            {t('viewer.error', { msg: error })}
          </p>
        )}
      </div>
    </section>
  );
}
