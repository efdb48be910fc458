import { describe, expect, it } from 'vitest';
import { filtfilt, filtfiltLeads, highPass, lowPass, median, medianInPlace, percentile, selectInPlace } from '../../../shared/dicom/ecg/dsp.ts';
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
