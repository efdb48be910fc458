/** Small, allocation-light signal helpers for the ECG measurements. Pure functions on Float64Array. */

/** Where the helpers get their working arrays: zero-filled, of the length asked. */
export interface Scratch {
  take(n: number): Float64Array;
}

/** Fresh arrays every time (the default: nothing outlives the caller's own references). */
export const FRESH: Scratch = { take: (n) => new Float64Array(n) };

/**
 * Working arrays lent for one analysis and lent again to the next one in this thread, after `reset()`.
 * A 10 s 12-lead ECG's analysis takes ~2 MB of them; allocated afresh each time, a parse worker spent
 * a good part of its time zero-filling them and collecting them. An analysis asks in the same order
 * each time, so the k-th request usually fits the array lent k-th the last time. Arrays beyond
 * `maxBytes` in all are not kept: 8 MiB covers a 10 s 12-lead ECG at 1000 Hz (~4 MiB), and a long
 * Holter record's arrays are left to the collector rather than held by every worker for good.
 */
export class ReusedScratch implements Scratch {
  private readonly slots: Float64Array[] = [];
  private next = 0;
  private bytes = 0;

  constructor(private readonly maxBytes = 8 * 1024 * 1024) {}

  take(n: number): Float64Array {
    const k = this.next++;
    const have = this.slots[k];
    if (have && have.length >= n) {
      const a = have.subarray(0, n);
      a.fill(0);
      return a;
    }
    const a = new Float64Array(n);
    const grown = this.bytes + a.byteLength - (have?.byteLength ?? 0);
    if (grown <= this.maxBytes && k <= this.slots.length) {
      this.slots[k] = a;
      this.bytes = grown;
    }
    return a;
  }

  /** Everything lent so far may be lent again: the caller holds none of it any more. */
  reset(): void {
    this.next = 0;
  }
}

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
  let [z1, z2] = primed(f, x[first] ?? 0);
  for (let k = 0, i = first; k < n; k++, i += step) {
    const xi = x[i]!;
    const yi = b0 * xi + z1;
    z1 = b1 * xi - a1 * yi + z2;
    z2 = b2 * xi - a2 * yi;
    x[i] = yi;
  }
}

/** The input with `p` samples of odd reflection at both ends (p < n), in `into` when given (length n + 2p). */
function padded(input: ArrayLike<number>, p: number, into?: Float64Array): Float64Array {
  const n = input.length;
  const x = into ?? new Float64Array(n + 2 * p);
  const a = input[0]!;
  const b = input[n - 1]!;
  for (let i = 0; i < p; i++) x[i] = 2 * a - input[p - i]!;
  for (let i = 0; i < n; i++) x[p + i] = input[i]!;
  for (let i = 0; i < p; i++) x[p + n + i] = 2 * b - input[n - 2 - i]!;
  return x;
}

/**
 * Zero-phase filtering (forward then backward) through a cascade of biquads, with odd reflection of
 * `pad` samples at both ends to tame edge transients. Returns a new array (a view into the padded
 * working buffer: copying it out again would cost as much as a filter pass).
 */
export function filtfilt(input: ArrayLike<number>, filters: Biquad[], pad: number, scratch: Scratch = FRESH): Float64Array {
  const n = input.length;
  if (n === 0) return new Float64Array(0);
  const p = Math.max(0, Math.min(pad, n - 1));
  const x = padded(input, p, scratch.take(n + 2 * p));
  runCascade(filters, x, false);
  runCascade(filters, x, true);
  return x.subarray(p, p + n);
}

/**
 * `filtfilt` of every lead, two leads per pass: a biquad's recursion is a chain of dependent
 * multiply-adds, so running two independent chains in one loop keeps the CPU's pipelines busy and
 * roughly halves the time. Results are identical to filtering each lead alone.
 */
export function filtfiltLeads(leads: ArrayLike<number>[], filters: Biquad[], pad: number, scratch: Scratch = FRESH): Float64Array[] {
  const out: Float64Array[] = new Array<Float64Array>(leads.length);
  let k = 0;
  for (; k + 1 < leads.length; k += 2) {
    const a = leads[k]!;
    const b = leads[k + 1]!;
    const n = a.length;
    if (n !== b.length || n === 0) {
      out[k] = filtfilt(a, filters, pad, scratch);
      out[k + 1] = filtfilt(b, filters, pad, scratch);
      continue;
    }
    const p = Math.max(0, Math.min(pad, n - 1));
    const x = padded(a, p, scratch.take(n + 2 * p));
    const y = padded(b, p, scratch.take(n + 2 * p));
    runCascadePair(filters, x, y, false);
    runCascadePair(filters, x, y, true);
    out[k] = x.subarray(p, p + n);
    out[k + 1] = y.subarray(p, p + n);
  }
  if (k < leads.length) out[k] = filtfilt(leads[k]!, filters, pad, scratch);
  return out;
}

/**
 * Every section of a cascade over `x`, in one direction. Two sections (the band-passes) run fused in
 * one loop, each sample going through both before the next: the same operations in the same order
 * per section as running them one after the other (so identical results), with half the passes over
 * memory. The second section is primed with the first one's output at the starting sample, as it
 * would be had the first run over the whole array before it.
 */
function runCascade(filters: Biquad[], x: Float64Array, backward: boolean): void {
  if (filters.length !== 2 || x.length === 0) {
    for (const f of filters) runBiquad(f, x, backward);
    return;
  }
  const [f, g] = filters as [Biquad, Biquad];
  const n = x.length;
  const step = backward ? -1 : 1;
  const first = backward ? n - 1 : 0;
  let [u1, u2] = primed(f, x[first]!);
  let [v1, v2] = primed(g, f.b0 * x[first]! + u1);
  const { b0, b1, b2, a1, a2 } = f;
  const { b0: c0, b1: c1, b2: c2, a1: d1, a2: d2 } = g;
  for (let k = 0, i = first; k < n; k++, i += step) {
    const xi = x[i]!;
    const yi = b0 * xi + u1;
    u1 = b1 * xi - a1 * yi + u2;
    u2 = b2 * xi - a2 * yi;
    const zi = c0 * yi + v1;
    v1 = c1 * yi - d1 * zi + v2;
    v2 = c2 * yi - d2 * zi;
    x[i] = zi;
  }
}

/** `runCascade` on two equal-length arrays at once (four independent chains for a band-pass). */
function runCascadePair(filters: Biquad[], x: Float64Array, y: Float64Array, backward: boolean): void {
  if (filters.length !== 2) {
    for (const f of filters) runBiquadPair(f, x, y, backward);
    return;
  }
  const [f, g] = filters as [Biquad, Biquad];
  const n = x.length;
  const step = backward ? -1 : 1;
  const first = backward ? n - 1 : 0;
  let [xu1, xu2] = primed(f, x[first]!);
  let [yu1, yu2] = primed(f, y[first]!);
  let [xv1, xv2] = primed(g, f.b0 * x[first]! + xu1);
  let [yv1, yv2] = primed(g, f.b0 * y[first]! + yu1);
  const { b0, b1, b2, a1, a2 } = f;
  const { b0: c0, b1: c1, b2: c2, a1: d1, a2: d2 } = g;
  for (let k = 0, i = first; k < n; k++, i += step) {
    const xi = x[i]!;
    const yi = y[i]!;
    const xr = b0 * xi + xu1;
    const yr = b0 * yi + yu1;
    xu1 = b1 * xi - a1 * xr + xu2;
    yu1 = b1 * yi - a1 * yr + yu2;
    xu2 = b2 * xi - a2 * xr;
    yu2 = b2 * yi - a2 * yr;
    const xs = c0 * xr + xv1;
    const ys = c0 * yr + yv1;
    xv1 = c1 * xr - d1 * xs + xv2;
    yv1 = c1 * yr - d1 * ys + yv2;
    xv2 = c2 * xr - d2 * xs;
    yv2 = c2 * yr - d2 * ys;
    x[i] = xs;
    y[i] = ys;
  }
}

/** A section's state (z1, z2) in the steady state of a constant input x0. */
function primed(f: Biquad, x0: number): [number, number] {
  const y0 = x0 * ((f.b0 + f.b1 + f.b2) / (1 + f.a1 + f.a2));
  return [y0 - f.b0 * x0, f.b2 * x0 - f.a2 * y0];
}

/**
 * `filtfiltLeads` for a caller that needs each filtered lead only once, right away: `visit` gets a
 * view that is overwritten by the next lead, so the whole pass reuses two working buffers instead of
 * allocating one per lead (an ECG's analysis allocates megabytes otherwise, and a parse worker then
 * spends its time collecting them).
 */
export function forEachFiltered(
  leads: ArrayLike<number>[],
  filters: Biquad[],
  pad: number,
  visit: (filtered: Float64Array, index: number) => void,
  scratch: Scratch = FRESH,
): void {
  let bufA: Float64Array | null = null;
  let bufB: Float64Array | null = null;
  let k = 0;
  for (; k + 1 < leads.length; k += 2) {
    const a = leads[k]!;
    const b = leads[k + 1]!;
    const n = a.length;
    if (n !== b.length || n === 0) {
      visit(filtfilt(a, filters, pad, scratch), k);
      visit(filtfilt(b, filters, pad, scratch), k + 1);
      continue;
    }
    const p = Math.max(0, Math.min(pad, n - 1));
    if (!bufA || bufA.length !== n + 2 * p) {
      bufA = scratch.take(n + 2 * p);
      bufB = scratch.take(n + 2 * p);
    }
    const x = padded(a, p, bufA);
    const y = padded(b, p, bufB!);
    runCascadePair(filters, x, y, false);
    runCascadePair(filters, x, y, true);
    visit(x.subarray(p, p + n), k);
    visit(y.subarray(p, p + n), k + 1);
  }
  if (k < leads.length) visit(filtfilt(leads[k]!, filters, pad, scratch), k);
}

function runBiquadPair(f: Biquad, x: Float64Array, y: Float64Array, backward: boolean): void {
  // runBiquad on two equal-length arrays at once (same arithmetic, same order per array).
  const { b0, b1, b2, a1, a2 } = f;
  const n = x.length;
  const step = backward ? -1 : 1;
  const first = backward ? n - 1 : 0;
  let [u1, u2] = primed(f, x[first] ?? 0);
  let [v1, v2] = primed(f, y[first] ?? 0);
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
export function movingAverage(x: Float64Array, w: number, scratch: Scratch = FRESH): Float64Array {
  const n = x.length;
  const out = scratch.take(n);
  const half = Math.floor(w / 2);
  const prefix = scratch.take(n + 1);
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
  return derivativeInto(x, fs, new Float64Array(x.length));
}

/** `derivative` written into `d` (length ≥ x.length; a scratch buffer reused across leads). */
export function derivativeInto(x: Float64Array, fs: number, d: Float64Array): Float64Array {
  const n = x.length;
  // Too short for a central difference: zero, as in a fresh array (the scratch may hold old values).
  if (n <= 2) {
    d.fill(0, 0, n);
    return d;
  }
  for (let i = 1; i < n - 1; i++) d[i] = ((x[i + 1]! - x[i - 1]!) * fs) / 2;
  d[0] = d[1]!;
  d[n - 1] = d[n - 2]!;
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
 * Floyd–Rivest selection: on long ranges it first selects within a small sample around where the
 * k-th value should lie, so the final partition nearly splits at k and the whole costs about
 * n + min(k, n − k) comparisons (the median of a lead's 5,000 samples is taken twelve times per ECG).
 * NaN-free input assumed.
 */
export function selectInPlace(a: Float64Array, k: number, n = a.length): number {
  if (!(k >= 0 && k < n)) return Number.NaN;
  floydRivest(a, 0, n - 1, k);
  return a[k]!;
}

function floydRivest(a: Float64Array, left: number, right: number, k: number): void {
  while (right > left) {
    if (right - left > 600) {
      const n = right - left + 1;
      const i = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * Math.sign(i - n / 2);
      floydRivest(a, Math.max(left, Math.floor(k - (i * s) / n + sd)), Math.min(right, Math.floor(k + ((n - i) * s) / n + sd)), k);
    }
    const t = a[k]!;
    let i = left;
    let j = right;
    swap(a, left, k);
    if (a[right]! > t) swap(a, right, left);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i]! < t) i++;
      while (a[j]! > t) j--;
    }
    if (a[left] === t) swap(a, left, j);
    else {
      j++;
      swap(a, j, right);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
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
  const n = values.length;
  if (n === 0) return Number.NaN;
  const idx = Math.min(n - 1, Math.max(0, Math.round((p / 100) * (n - 1))));
  // A percentile near either end (the 99th of a lead's slopes) is the m-th largest or smallest for a
  // small m: one pass keeping the m extreme values beats copying and partitioning the whole array.
  if (n - idx <= EXTREME_M) return mthExtreme(values, n - idx, 1);
  if (idx + 1 <= EXTREME_M) return mthExtreme(values, idx + 1, -1);
  return selectInPlace(Float64Array.from(values), idx);
}

const EXTREME_M = 64;

/** The m-th largest (sign 1) or m-th smallest (sign −1) of `values`, 1 ≤ m ≤ length; NaN-free input assumed. */
function mthExtreme(values: ArrayLike<number>, m: number, sign: 1 | -1): number {
  // keep[0..count) holds the m most extreme values seen, times `sign`, ascending: keep[0] is the m-th.
  const keep = new Float64Array(m);
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = sign * values[i]!;
    if (count < m) {
      let j = count++;
      while (j > 0 && keep[j - 1]! > v) {
        keep[j] = keep[j - 1]!;
        j--;
      }
      keep[j] = v;
    } else if (v > keep[0]!) {
      let j = 1;
      while (j < m && keep[j]! < v) {
        keep[j - 1] = keep[j]!;
        j++;
      }
      keep[j - 1] = v;
    }
  }
  return sign * keep[0]!;
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
