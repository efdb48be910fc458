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

function runBiquad(f: Biquad, x: Float64Array, backward: boolean): void {
  // Direct form II transposed, in place; state primed with the first sample's steady state. The
  // coefficients are locals and the backward pass walks the array downwards instead of reversing it
  // twice: this loop is most of an ECG's analysis time.
  const { b0, b1, b2, a1, a2 } = f;
  const n = x.length;
  const step = backward ? -1 : 1;
  const first = backward ? n - 1 : 0;
  const x0 = x[first] ?? 0;
  const dcGain = (b0 + b1 + b2) / (1 + a1 + a2);
  const y0 = x0 * dcGain;
  let z1 = y0 - b0 * x0;
  let z2 = b2 * x0 - a2 * y0;
  for (let k = 0, i = first; k < n; k++, i += step) {
    const xi = x[i]!;
    const yi = b0 * xi + z1;
    z1 = b1 * xi - a1 * yi + z2;
    z2 = b2 * xi - a2 * yi;
    x[i] = yi;
  }
}

/** The input with `p` samples of odd reflection at both ends (p < n). */
function padded(input: ArrayLike<number>, p: number): Float64Array {
  const n = input.length;
  const x = new Float64Array(n + 2 * p);
  const a = input[0]!;
  const b = input[n - 1]!;
  for (let i = 0; i < p; i++) x[i] = 2 * a - input[p - i]!;
  for (let i = 0; i < n; i++) x[p + i] = input[i]!;
  for (let i = 0; i < p; i++) x[p + n + i] = 2 * b - input[n - 2 - i]!;
  return x;
}

/**
 * Zero-phase filtering (forward then backward) through a cascade of biquads, with odd reflection of
 * `pad` samples at both ends to tame edge transients. Returns a new array.
 */
export function filtfilt(input: ArrayLike<number>, filters: Biquad[], pad: number): Float64Array {
  const n = input.length;
  if (n === 0) return new Float64Array(0);
  const p = Math.max(0, Math.min(pad, n - 1));
  const x = padded(input, p);
  for (const f of filters) runBiquad(f, x, false);
  for (const f of filters) runBiquad(f, x, true);
  return x.subarray(p, p + n).slice();
}

/**
 * `filtfilt` of every lead, two leads per pass: a biquad's recursion is a chain of dependent
 * multiply-adds, so running two independent chains in one loop keeps the CPU's pipelines busy and
 * roughly halves the time. Results are identical to filtering each lead alone.
 */
export function filtfiltLeads(leads: ArrayLike<number>[], filters: Biquad[], pad: number): Float64Array[] {
  const out: Float64Array[] = new Array<Float64Array>(leads.length);
  let k = 0;
  for (; k + 1 < leads.length; k += 2) {
    const a = leads[k]!;
    const b = leads[k + 1]!;
    const n = a.length;
    if (n !== b.length || n === 0) {
      out[k] = filtfilt(a, filters, pad);
      out[k + 1] = filtfilt(b, filters, pad);
      continue;
    }
    const p = Math.max(0, Math.min(pad, n - 1));
    const x = padded(a, p);
    const y = padded(b, p);
    for (const f of filters) runBiquadPair(f, x, y, false);
    for (const f of filters) runBiquadPair(f, x, y, true);
    out[k] = x.subarray(p, p + n).slice();
    out[k + 1] = y.subarray(p, p + n).slice();
  }
  if (k < leads.length) out[k] = filtfilt(leads[k]!, filters, pad);
  return out;
}

function runBiquadPair(f: Biquad, x: Float64Array, y: Float64Array, backward: boolean): void {
  // runBiquad on two equal-length arrays at once (same arithmetic, same order per array).
  const { b0, b1, b2, a1, a2 } = f;
  const n = x.length;
  const step = backward ? -1 : 1;
  const first = backward ? n - 1 : 0;
  const dcGain = (b0 + b1 + b2) / (1 + a1 + a2);
  const x0 = x[first] ?? 0;
  const y0 = y[first] ?? 0;
  const xo = x0 * dcGain;
  const yo = y0 * dcGain;
  let u1 = xo - b0 * x0;
  let u2 = b2 * x0 - a2 * xo;
  let v1 = yo - b0 * y0;
  let v2 = b2 * y0 - a2 * yo;
  for (let k = 0, i = first; k < n; k++, i += step) {
    const xi = x[i]!;
    const yi = y[i]!;
    const xr = b0 * xi + u1;
    const yr = b0 * yi + v1;
    u1 = b1 * xi - a1 * xr + u2;
    v1 = b1 * yi - a1 * yr + v2;
    u2 = b2 * xi - a2 * xr;
    v2 = b2 * yi - a2 * yr;
    x[i] = xr;
    y[i] = yr;
  }
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
  return medianInPlace(Float64Array.from(values));
}

/**
 * Median of the first `n` values of a scratch buffer, reordering them in place (no allocation). Selection, not a sort: the
 * median beat takes thousands of small medians per ECG and a full sort made them most of its cost.
 */
export function medianInPlace(a: Float64Array, n = a.length): number {
  if (n === 0) return Number.NaN;
  const hi = selectInPlace(a, n >> 1, n);
  if (n % 2) return hi;
  // Even count: the lower middle is the largest value left of the upper middle after selection.
  let lo = a[0]!;
  for (let i = 1; i < n >> 1; i++) if (a[i]! > lo) lo = a[i]!;
  return (lo + hi) / 2;
}

/**
 * The k-th smallest (0-based) of the first `n` values of `a`, reordering them so that a[0..k) ≤ a[k] ≤ a(k..n).
 * Quickselect with a median-of-three pivot; insertion sort for short ranges. NaN-free input assumed.
 */
export function selectInPlace(a: Float64Array, k: number, n = a.length): number {
  let left = 0;
  let right = n - 1;
  while (right - left > 16) {
    const mid = (left + right) >> 1;
    // Median of three into a[mid], then partition around it (Hoare style).
    if (a[mid]! < a[left]!) swap(a, mid, left);
    if (a[right]! < a[left]!) swap(a, right, left);
    if (a[right]! < a[mid]!) swap(a, right, mid);
    const pivot = a[mid]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k]!;
  }
  for (let i = left + 1; i <= right; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= left && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
  return a[k]!;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
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
  const a = Float64Array.from(values);
  if (a.length === 0) return Number.NaN;
  const idx = Math.min(a.length - 1, Math.max(0, Math.round((p / 100) * (a.length - 1))));
  return selectInPlace(a, idx);
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
