/** Small, allocation-light signal helpers for the ECG measurements. Pure functions on Float64Array. */

export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/** 2nd-order Butterworth low-pass (bilinear transform, RBJ cookbook with Q = 1/√2). */
export function lowPass(fc: number, fs: number): Biquad {
  const w = (2 * Math.PI * Math.min(fc, fs * 0.45)) / fs;
  const alpha = Math.sin(w) / Math.SQRT2;
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  return { b0: (1 - cos) / 2 / a0, b1: (1 - cos) / a0, b2: (1 - cos) / 2 / a0, a1: (-2 * cos) / a0, a2: (1 - alpha) / a0 };
}

/** 2nd-order Butterworth high-pass. */
export function highPass(fc: number, fs: number): Biquad {
  const w = (2 * Math.PI * fc) / fs;
  const alpha = Math.sin(w) / Math.SQRT2;
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  return { b0: (1 + cos) / 2 / a0, b1: -(1 + cos) / a0, b2: (1 + cos) / 2 / a0, a1: (-2 * cos) / a0, a2: (1 - alpha) / a0 };
}

function runBiquad(f: Biquad, x: Float64Array): void {
  // Direct form II transposed, in place; state primed with the first sample's steady state.
  const x0 = x[0] ?? 0;
  const dcGain = (f.b0 + f.b1 + f.b2) / (1 + f.a1 + f.a2);
  const y0 = x0 * dcGain;
  let z1 = y0 - f.b0 * x0;
  let z2 = f.b2 * x0 - f.a2 * y0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const yi = f.b0 * xi + z1;
    z1 = f.b1 * xi - f.a1 * yi + z2;
    z2 = f.b2 * xi - f.a2 * yi;
    x[i] = yi;
  }
}

/**
 * Zero-phase filtering (forward then backward) through a cascade of biquads, with odd reflection of
 * `pad` samples at both ends to tame edge transients. Returns a new array.
 */
export function filtfilt(input: ArrayLike<number>, filters: Biquad[], pad: number): Float64Array {
  const n = input.length;
  if (n === 0) return new Float64Array(0);
  const p = Math.max(0, Math.min(pad, n - 1));
  const x = new Float64Array(n + 2 * p);
  const a = input[0]!;
  const b = input[n - 1]!;
  for (let i = 0; i < p; i++) x[i] = 2 * a - input[p - i]!;
  for (let i = 0; i < n; i++) x[p + i] = input[i]!;
  for (let i = 0; i < p; i++) x[p + n + i] = 2 * b - input[n - 2 - i]!;
  for (const f of filters) runBiquad(f, x);
  x.reverse();
  for (const f of filters) runBiquad(f, x);
  x.reverse();
  return x.subarray(p, p + n).slice();
}

/** Centred moving average over `w` samples (w ≥ 1). */
export function movingAverage(x: Float64Array, w: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  const half = Math.floor(w / 2);
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + x[i]!;
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - half);
    const hi = Math.min(n, i - half + w);
    out[i] = (prefix[hi]! - prefix[lo]!) / (hi - lo);
  }
  return out;
}

/** Central-difference derivative in units per second. */
export function derivative(x: Float64Array, fs: number): Float64Array {
  const n = x.length;
  const d = new Float64Array(n);
  for (let i = 1; i < n - 1; i++) d[i] = ((x[i + 1]! - x[i - 1]!) * fs) / 2;
  if (n > 1) {
    d[0] = d[1]!;
    d[n - 1] = d[n - 2]!;
  }
  return d;
}

export function median(values: ArrayLike<number>): number {
  const a = Float64Array.from(values).sort();
  const n = a.length;
  if (n === 0) return Number.NaN;
  return n % 2 ? a[(n - 1) / 2]! : (a[n / 2 - 1]! + a[n / 2]!) / 2;
}

/** Median of a scratch buffer, sorting it in place (no allocation). */
export function medianInPlace(a: Float64Array): number {
  const n = a.length;
  if (n === 0) return Number.NaN;
  a.sort();
  return n % 2 ? a[(n - 1) / 2]! : (a[n / 2 - 1]! + a[n / 2]!) / 2;
}

export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return values.length ? s / values.length : Number.NaN;
}

export function sd(values: ArrayLike<number>): number {
  const m = mean(values);
  let s = 0;
  for (let i = 0; i < values.length; i++) s += (values[i]! - m) ** 2;
  return values.length > 1 ? Math.sqrt(s / (values.length - 1)) : 0;
}

export function percentile(values: ArrayLike<number>, p: number): number {
  const a = Float64Array.from(values).sort();
  if (a.length === 0) return Number.NaN;
  const idx = Math.min(a.length - 1, Math.max(0, Math.round((p / 100) * (a.length - 1))));
  return a[idx]!;
}

export function argMax(x: ArrayLike<number>, from: number, to: number): number {
  let best = Math.max(0, from);
  for (let i = best; i < Math.min(to, x.length); i++) if (x[i]! > x[best]!) best = i;
  return best;
}

export function argMin(x: ArrayLike<number>, from: number, to: number): number {
  let best = Math.max(0, from);
  for (let i = best; i < Math.min(to, x.length); i++) if (x[i]! < x[best]!) best = i;
  return best;
}
