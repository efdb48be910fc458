/**
 * Cheap, deterministic synthetic pixel data: a chest-radiograph-like 16-bit image and
 * ultrasound-like 8-bit frames (grey or RGB). Plausible to look at, not anatomy.
 * All outputs are native little-endian byte arrays ready for Pixel Data.
 */
import { Rng } from './random.ts';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function smooth01(x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  return x * x * (3 - 2 * x);
}

export interface ChestOptions {
  rows: number;
  columns: number;
  bitsStored: number;
  /** MONOCHROME1: stored values inverted (bright = low attenuation). */
  monochrome1?: boolean;
}

/**
 * A PA-chest-like image: body outline, two lung fields with ribs, a bright spine, the heart
 * shadow on the image right (patient's left), a bright abdomen below the diaphragm, detector
 * gradient and noise. Returns rows×columns×2 bytes, 16-bit unsigned little endian.
 */
export function chestImage(seed: number, o: ChestOptions): Uint8Array {
  const { rows, columns } = o;
  if (o.bitsStored < 8 || o.bitsStored > 16) throw new Error('bitsStored must be 8..16');
  const max = 2 ** o.bitsStored - 1;
  const rng = new Rng(`chest:${seed}`);
  // Per-seed variation of the anatomy.
  const lungX = rng.range(0.34, 0.42);
  const lungY = rng.range(0.4, 0.47);
  const lungRx = rng.range(0.25, 0.3);
  const lungRy = rng.range(0.28, 0.34);
  const heartX = rng.range(0.08, 0.16);
  const heartY = rng.range(0.58, 0.66);
  const heartRx = rng.range(0.2, 0.27);
  const heartRy = rng.range(0.14, 0.19);
  const ribFreq = rng.range(8.5, 10.5);
  const shift = rng.range(-0.03, 0.03);
  const gain = rng.range(0.82, 0.92);

  const out = new Uint8Array(rows * columns * 2);
  const px = new Uint16Array(out.buffer);
  // Everything that depends on the column only, computed once.
  const AX = new Float64Array(columns);
  const SPINE = new Float64Array(columns);
  const LUNG_X2 = new Float64Array(columns);
  const HEART_X2 = new Float64Array(columns);
  const DOME = new Float64Array(columns);
  const RIB_X = new Float64Array(columns);
  const CLAV_X = new Float64Array(columns);
  for (let x = 0; x < columns; x++) {
    const v = (x - columns / 2) / (columns / 2) + shift;
    const ax = Math.abs(v);
    AX[x] = ax;
    SPINE[x] = 0.24 * Math.exp(-((v / 0.075) ** 2));
    LUNG_X2[x] = ((ax - lungX) / lungRx) ** 2;
    HEART_X2[x] = ((v - heartX) / heartRx) ** 2;
    DOME[x] = 0.06 * Math.cos(ax * 4);
    RIB_X[x] = 1.6 * v * v;
    CLAV_X[x] = ax > 0.08 && ax < 0.55 ? 0.17 + 0.05 * ax : Number.NaN;
  }
  // Rib profile over one period: max(0, sin)^4.
  const RIB = new Float64Array(1025);
  for (let i = 0; i <= 1024; i++) {
    const r = Math.sin((2 * Math.PI * i) / 1024);
    RIB[i] = r > 0 ? r * r * r * r : 0;
  }
  let noiseState = (rng.u32() | 1) >>> 0;
  const noiseScale = (0.015 * max) / 255;
  const inv = o.monochrome1 === true;

  for (let y = 0; y < rows; y++) {
    const yn = y / rows;
    // Torso half-width: neck at the top widening to the shoulders, then the chest.
    const halfWidth = yn < 0.1 ? 0.25 + yn * 2 : Math.min(0.92, 0.45 + (yn - 0.1) * 4);
    const dy2 = ((yn - lungY) / lungRy) ** 2;
    const dhy2 = ((yn - heartY) / heartRy) ** 2;
    const inLungRows = dy2 < 1;
    const inHeartRows = dhy2 < 1;
    const nearClavicle = Math.abs(yn - 0.19) < 0.08;
    const domeBase = lungY + lungRy * 0.85;
    const ribY = yn * ribFreq;
    const rowGain = (gain + 0.06 * yn) * max;
    const row = y * columns;
    for (let x = 0; x < columns; x++) {
      const ax = AX[x]!;
      // Soft tissue of the body (air outside is dark).
      const body = smooth01((halfWidth - ax) * 12);
      let a = 0.08 + 0.42 * body + SPINE[x]! * body;
      // Lungs: darker ellipses crossed by ribs.
      if (inLungRows) {
        const l = 1 - (LUNG_X2[x]! + dy2);
        if (l > 0) {
          const phase = ribY - RIB_X[x]!;
          const rib = RIB[((phase - Math.floor(phase)) * 1024) | 0]!;
          a -= smooth01(l * 4) * (0.27 - 0.09 * rib);
        }
      }
      // Heart shadow over the left lung (image right).
      if (inHeartRows) {
        const h = 1 - (HEART_X2[x]! + dhy2);
        if (h > 0) a += 0.15 * smooth01(h * 3);
      }
      // Diaphragm / abdomen: brighter below a dome on each side.
      const d = (yn - domeBase + DOME[x]!) * 25;
      if (d > 0) a += 0.18 * smooth01(d) * body;
      // Clavicles near the top.
      if (nearClavicle) {
        const c = (yn - CLAV_X[x]!) / 0.012;
        if (c > -3 && c < 3) a += 0.12 * Math.exp(-c * c);
      }
      // Noise: triangular from two bytes of xorshift32.
      noiseState ^= noiseState << 13;
      noiseState ^= noiseState >>> 17;
      noiseState ^= noiseState << 5;
      let val = Math.round(a * rowGain + ((noiseState & 0xff) + ((noiseState >>> 8) & 0xff) - 255) * noiseScale);
      if (val < 0) val = 0;
      else if (val > max) val = max;
      px[row + x] = inv ? max - val : val;
    }
  }
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < out.length; i += 2) {
      const t = out[i]!;
      out[i] = out[i + 1]!;
      out[i + 1] = t;
    }
  }
  return out;
}

export interface UltrasoundOptions {
  rows: number;
  columns: number;
  rgb?: boolean;
  /** Frames per cardiac cycle of the moving chamber (default 30). */
  cycleFrames?: number;
}

/**
 * Ultrasound-like frames: a sector (fan) with depth-dependent echogenicity, tissue bands, a
 * dark chamber whose size beats with the frame index, and speckle that changes per frame.
 * `frame(i)` returns rows×columns(×3 when rgb, interleaved R,G,B) bytes; a fresh array each call.
 * Precomputes the fan once (rows×columns bytes plus a noise table), so each frame costs one pass.
 */
export class UltrasoundFrames {
  readonly frameBytes: number;
  private readonly base: Uint8Array;
  private readonly depth: Float32Array;
  private readonly noise: Uint8Array;
  private readonly noiseMask: number;
  private readonly chamber: { cx: number; cy: number; rx: number; ry: number };
  private readonly cycle: number;
  private readonly salt: number;
  private readonly doppler: { x0: number; x1: number; y0: number; y1: number };

  constructor(
    seed: number,
    private readonly o: UltrasoundOptions,
  ) {
    const { rows, columns } = o;
    this.frameBytes = rows * columns * (o.rgb ? 3 : 1);
    this.cycle = o.cycleFrames ?? 30;
    const rng = new Rng(`us:${seed}`);
    const apexX = columns / 2;
    const apexY = rows * 0.04;
    const maxR = rows * 0.94;
    const half = rng.range(0.6, 0.75); // half-angle, radians
    const bands = [rng.range(0.2, 0.3), rng.range(0.45, 0.55), rng.range(0.75, 0.85)];
    const base = new Uint8Array(rows * columns);
    const depth = new Float32Array(rows * columns);
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < columns; x++) {
        const dx = x - apexX;
        const dy = y - apexY;
        const r = Math.sqrt(dx * dx + dy * dy);
        const th = Math.atan2(dx, dy);
        const i = y * columns + x;
        const rn = r / maxR;
        if (dy <= 0 || rn > 1 || rn < 0.04 || Math.abs(th) > half) {
          depth[i] = -1;
          continue;
        }
        depth[i] = rn;
        // Near-field bright, attenuation with depth, a few curved tissue interfaces.
        let e = 150 * (1 - 0.55 * rn) + 40 * Math.exp(-(((rn - 0.06) / 0.03) ** 2));
        for (const b of bands) e += 70 * Math.exp(-(((rn - b - 0.04 * Math.sin(th * 5)) / 0.012) ** 2));
        // Edge fall-off at the sector sides.
        e *= smooth01((half - Math.abs(th)) * 20);
        base[i] = Math.max(0, Math.min(255, Math.round(e)));
      }
    }
    this.base = base;
    this.depth = depth;
    this.chamber = {
      cx: apexX + rng.range(-0.08, 0.08) * columns,
      cy: rows * rng.range(0.5, 0.6),
      rx: columns * rng.range(0.1, 0.14),
      ry: rows * rng.range(0.12, 0.16),
    };
    const c = this.chamber;
    this.doppler = {
      x0: Math.max(0, Math.floor(c.cx - c.rx * 1.4)),
      x1: Math.min(columns, Math.ceil(c.cx + c.rx * 1.4)),
      y0: Math.max(0, Math.floor(c.cy - c.ry * 1.4)),
      y1: Math.min(rows, Math.ceil(c.cy + c.ry * 1.4)),
    };
    // Speckle table: Rayleigh-ish multiplicative factors (×128), read at a per-frame offset.
    let size = 1;
    while (size < rows * columns + columns) size <<= 1;
    this.noiseMask = size - 1;
    const noise = new Uint8Array(size);
    rng.fillBytes(noise);
    for (let i = 0; i < size; i++) {
      const u = (noise[i]! + 0.5) / 256;
      noise[i] = Math.min(255, Math.round(128 * Math.sqrt(-2 * Math.log(u)) * 0.8));
    }
    this.noise = noise;
    this.salt = rng.u32();
  }

  frame(index: number): Uint8Array {
    return this.frameInto(index, new Uint8Array(this.frameBytes));
  }

  /** Renders frame `index` into `out` (frameBytes long, overwritten) and returns it. */
  frameInto(index: number, out: Uint8Array): Uint8Array {
    const { rows, columns, rgb } = this.o;
    if (out.length !== this.frameBytes) throw new Error(`frame buffer must be ${this.frameBytes} bytes`);
    out.fill(0);
    const base = this.base;
    const noise = this.noise;
    const mask = this.noiseMask;
    // Deterministic per-frame speckle offset (independent of call order).
    const off = (Math.imul(index + 1, 0x9e3779b1) ^ this.salt) >>> 0;
    const phase = Math.sin((2 * Math.PI * index) / this.cycle);
    const c = this.chamber;
    const rx = c.rx * (1 + 0.18 * phase);
    const ry = c.ry * (1 + 0.12 * phase);
    const n = rows * columns;
    if (!rgb) {
      for (let i = 0; i < n; i++) {
        const b = base[i]!;
        if (b === 0) continue;
        const v = (b * noise[(i + off) & mask]!) >> 7;
        out[i] = v > 255 ? 255 : v;
      }
    } else {
      for (let i = 0, o3 = 0; i < n; i++, o3 += 3) {
        const b = base[i]!;
        if (b === 0) continue;
        let v = (b * noise[(i + off) & mask]!) >> 7;
        if (v > 255) v = 255;
        out[o3] = v;
        out[o3 + 1] = v;
        out[o3 + 2] = v;
      }
    }
    // The chamber: anechoic inside an ellipse that beats; colour flow inside it when RGB.
    const d = this.doppler;
    for (let y = d.y0; y < d.y1; y++) {
      const ey = (y - c.cy) / ry;
      for (let x = d.x0; x < d.x1; x++) {
        const i = y * columns + x;
        if (this.depth[i]! < 0) continue;
        const ex = (x - c.cx) / rx;
        const r2 = ex * ex + ey * ey;
        if (r2 >= 1.2) continue;
        const k = r2 < 0.8 ? 0.08 : 0.08 + (0.92 * (r2 - 0.8)) / 0.4; // dark inside, soft wall
        if (!rgb) {
          out[i] = Math.round(out[i]! * k);
        } else {
          const o3 = i * 3;
          const g = Math.round(out[o3]! * k);
          if (r2 < 0.8 && ex * phase > -0.2) {
            // Flow towards (red) or away from (blue) the probe, by cycle phase.
            const s = Math.round(120 + 100 * Math.abs(phase) * (1 - r2));
            out[o3] = phase >= 0 ? s : g;
            out[o3 + 1] = g;
            out[o3 + 2] = phase >= 0 ? g : s;
          } else {
            out[o3] = g;
            out[o3 + 1] = g;
            out[o3 + 2] = g;
          }
        }
      }
    }
    return out;
  }
}
