import { describe, expect, it } from 'vitest';
import { derivative, derivativeInto, filtfilt, filtfiltLeads, forEachFiltered, highPass, lowPass, median, medianInPlace, percentile, ReusedScratch, selectInPlace, type Biquad } from '../../../shared/dicom/ecg/dsp.ts';
import { mulberry32 } from '../../../shared/synth/random.ts';

const sorted = (a: ArrayLike<number>) => Float64Array.from(a).sort();

describe('order statistics by selection agree with a full sort', () => {
  const rnd = mulberry32(20261123);
  // Lengths around the insertion-sort cut-off, and values with many ties (quantised ECG samples).
  const cases = [1, 2, 3, 15, 16, 17, 18, 33, 100, 1001, 4000].flatMap((n) => [
    Float64Array.from({ length: n }, () => rnd() * 2 - 1),
    Float64Array.from({ length: n }, () => Math.round(rnd() * 6)),
  ]);

  it('selectInPlace returns the k-th smallest and partitions around it', () => {
    for (const a of cases) {
      const ref = sorted(a);
      for (const k of new Set([0, a.length >> 1, a.length - 1, Math.floor(a.length / 3)])) {
        const work = a.slice();
        const v = selectInPlace(work, k);
        expect(v).toBe(ref[k]);
        for (let i = 0; i < k; i++) expect(work[i]).toBeLessThanOrEqual(v);
        for (let i = k + 1; i < work.length; i++) expect(work[i]).toBeGreaterThanOrEqual(v);
        expect(sorted(work)).toEqual(ref);
      }
    }
  });

  it('median, medianInPlace (with a length) and percentile match the sorted definitions', () => {
    for (const a of cases) {
      const ref = sorted(a);
      const n = ref.length;
      const med = n % 2 ? ref[(n - 1) / 2]! : (ref[n / 2 - 1]! + ref[n / 2]!) / 2;
      expect(median(a)).toBe(med);
      const scratch = new Float64Array(n + 5).fill(99);
      scratch.set(a);
      expect(medianInPlace(scratch, n)).toBe(med);
      expect(scratch.subarray(n)).toEqual(new Float64Array(5).fill(99));
      for (const p of [0, 10, 50, 99, 100]) expect(percentile(a, p)).toBe(ref[Math.round((p / 100) * (n - 1))]);
    }
    expect(median([])).toBeNaN();
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('filtfilt', () => {
  it('is zero-phase: a symmetric pulse stays symmetric and centred after low-pass filtering', () => {
    const n = 1001;
    const x = Float64Array.from({ length: n }, (_, i) => Math.exp(-(((i - 500) / 20) ** 2)));
    const y = filtfilt(x, [lowPass(5, 500), lowPass(5, 500)], 250);
    let peak = 0;
    for (let i = 1; i < n; i++) if (y[i]! > y[peak]!) peak = i;
    expect(peak).toBe(500);
    for (let d = 1; d < 200; d++) expect(Math.abs(y[500 - d]! - y[500 + d]!)).toBeLessThan(1e-6);
  });

  it('removes a constant offset with a high-pass and keeps the input untouched', () => {
    const x = new Float64Array(2000).fill(3);
    const copy = x.slice();
    const y = filtfilt(x, [highPass(0.5, 500)], 1000);
    expect(x).toEqual(copy);
    expect(Math.max(...Array.from(y, Math.abs))).toBeLessThan(1e-6);
  });

  it('filtfiltLeads gives exactly filtfilt of each lead (odd counts, unequal lengths too)', () => {
    const rnd = mulberry32(7);
    const lead = (n: number) => Float64Array.from({ length: n }, () => rnd() - 0.5);
    const filters = [highPass(5, 500), lowPass(15, 500)];
    for (const leads of [[lead(3000), lead(3000), lead(3000)], [lead(900), lead(1200)], [lead(1)], []]) {
      const together = filtfiltLeads(leads, filters, 500);
      expect(together).toEqual(leads.map((x) => filtfilt(x, filters, 500)));
    }
  });
});

/** The textbook order: every section over the whole (odd-reflected) signal forwards, then every one backwards. */
function referenceFiltfilt(input: Float64Array, filters: Biquad[], pad: number): Float64Array {
  const n = input.length;
  const p = Math.max(0, Math.min(pad, n - 1));
  const x = new Float64Array(n + 2 * p);
  for (let i = 0; i < p; i++) x[i] = 2 * input[0]! - input[p - i]!;
  x.set(input, p);
  for (let i = 0; i < p; i++) x[p + n + i] = 2 * input[n - 1]! - input[n - 2 - i]!;
  const section = (f: Biquad, backward: boolean) => {
    const idx = (k: number) => (backward ? x.length - 1 - k : k);
    const x0 = x[idx(0)]!;
    const y0 = x0 * ((f.b0 + f.b1 + f.b2) / (1 + f.a1 + f.a2));
    let z1 = y0 - f.b0 * x0;
    let z2 = f.b2 * x0 - f.a2 * y0;
    for (let k = 0; k < x.length; k++) {
      const xi = x[idx(k)]!;
      const yi = f.b0 * xi + z1;
      z1 = f.b1 * xi - f.a1 * yi + z2;
      z2 = f.b2 * xi - f.a2 * yi;
      x[idx(k)] = yi;
    }
  };
  for (const f of filters) section(f, false);
  for (const f of filters) section(f, true);
  return x.slice(p, p + n);
}

describe('filtfilt against the textbook order of sections', () => {
  const rnd = mulberry32(11);
  const lead = (n: number) => Float64Array.from({ length: n }, (_, i) => Math.sin(i / 7) + rnd() - 0.5);
  const cascades: Biquad[][] = [[lowPass(40, 500)], [highPass(5, 500), lowPass(15, 500)], [highPass(0.5, 500), lowPass(40, 500), lowPass(20, 500)]];

  it('gives bit-identical results for one, two (fused) and three sections', () => {
    for (const filters of cascades) {
      for (const x of [lead(5000), lead(7), lead(2)]) {
        expect(Array.from(filtfilt(x, filters, 500))).toEqual(Array.from(referenceFiltfilt(x, filters, 500)));
      }
    }
  });

  it('forEachFiltered visits exactly what filtfiltLeads returns, lead by lead', () => {
    for (const filters of cascades) {
      const leads = [lead(3000), lead(3000), lead(3000), lead(1000), lead(3000)];
      const want = filtfiltLeads(leads, filters, 250).map((x) => Array.from(x));
      const got: number[][] = [];
      forEachFiltered(leads, filters, 250, (x, k) => (got[k] = Array.from(x)));
      expect(got).toEqual(want);
      expect(want).toEqual(leads.map((x) => Array.from(referenceFiltfilt(x, filters, 250))));
    }
  });
});

describe('derivativeInto a reused scratch buffer', () => {
  it('equals derivative on a fresh array, short inputs included', () => {
    const scratch = new Float64Array(16).fill(7);
    for (const n of [0, 1, 2, 3, 5, 16]) {
      const x = Float64Array.from({ length: n }, (_, i) => i * i);
      expect(Array.from(derivativeInto(x, 500, scratch).subarray(0, n))).toEqual(Array.from(derivative(x, 500)));
      scratch.fill(7);
    }
    expect(Array.from(derivative(Float64Array.of(1, 5), 500))).toEqual([0, 0]);
  });

  it('selectInPlace refuses a rank outside the array instead of writing into it', () => {
    const a = Float64Array.of(3, 1, 2);
    expect(selectInPlace(a, 3)).toBeNaN();
    expect(selectInPlace(a, Number.NaN)).toBeNaN();
    expect(Array.from(a)).toEqual([3, 1, 2]);
  });
});

describe('ReusedScratch', () => {
  it('lends zero-filled arrays of the length asked, reusing the k-th array of the last round for the k-th request', () => {
    const s = new ReusedScratch();
    const a = s.take(100);
    const b = s.take(50);
    a.fill(7);
    b.fill(9);
    s.reset();
    const a2 = s.take(80);
    const b2 = s.take(50);
    expect(a2.buffer).toBe(a.buffer);
    expect(b2.buffer).toBe(b.buffer);
    expect(a2.length).toBe(80);
    expect([...a2].every((v) => v === 0)).toBe(true);
    expect([...b2].every((v) => v === 0)).toBe(true);
    // Longer than the array lent last time: a new one, kept for the next round.
    const c = s.take(10);
    s.reset();
    s.take(100);
    s.take(50);
    const c2 = s.take(1000);
    expect(c2.buffer).not.toBe(c.buffer);
    s.reset();
    s.take(1);
    s.take(1);
    expect(s.take(1000).buffer).toBe(c2.buffer);
  });

  it('keeps no more than its budget (the arrays of a long record are lent once and left to the collector)', () => {
    const s = new ReusedScratch(8 * 1000);
    const small = s.take(500); // 4,000 bytes: kept
    const big = s.take(2000); // 16,000 bytes: over the budget, not kept
    s.reset();
    expect(s.take(500).buffer).toBe(small.buffer);
    expect(s.take(2000).buffer).not.toBe(big.buffer);
  });
});
