/**
 * Advisory ECG measurements: QRS detection (Pan–Tompkins), rhythm figures from the RR series, and
 * PR / QRS / QT from a median beat. Pure and synchronous; no I/O.
 *
 *  1. Detection signal, robust to the choice of lead: every lead is band-passed 5–15 Hz (2nd-order
 *     Butterworth high- and low-pass, zero-phase), differentiated and squared; the squares are summed
 *     over leads (each lead weighted by its robust slope scale, floored so a near-flat lead's noise is
 *     not amplified) and integrated over a 150 ms moving window.
 *  2. Pan–Tompkins decision on the integrated signal's peaks: signal/noise peak levels SPKI/NPKI,
 *     THRESHOLD1 = NPKI + ¼(SPKI − NPKI), THRESHOLD2 = ½ THRESHOLD1, a 200 ms refractory period,
 *     T-wave rejection (a peak within 360 ms of the last QRS with less than half its slope, slopes
 *     measured in a 12–40 Hz band where T waves have little energy), and
 *     search-back with THRESHOLD2 when no QRS came within 166 % of the mean of the last 8 RR intervals.
 *  3. Median beat: the quieter leads (noisy ones dropped by sample-to-sample noise), filtered
 *     0.5–40 Hz, beats aligned on the centre of QRS energy, sample-wise median (≤ 60 beats).
 *     QRS onset/offset where the sum over leads of |dV/dt| falls below 5 % of its QRS peak (above the
 *     PR-segment floor) for 8 ms; T end by the tangent method (steepest descent after the T peak,
 *     crossing the isoelectric level) on the 20 ms-smoothed root-mean-square of the leads about their
 *     PR-segment level; P onset like the QRS onset (15 %, 20 ms run) on a 20 Hz low-passed copy, in
 *     the window after the previous beat's T end, and only for a P wave of ≥ 0.04 mV.
 *  4. QTc: Bazett QT/√RR and Fridericia QT/∛RR with RR in seconds (mean RR of the analysed group).
 */
import { argMax, argMin, derivative, derivativeInto, filtfiltLeads, forEachFiltered, FRESH, highPass, lowPass, mean, median, medianInPlace, movingAverage, percentile, ReusedScratch, sd, type Scratch } from './dsp.ts';
import type { EcgAnalysis, EcgAnalysisDetail, EcgFlag, EcgGroup, EcgMeasurements, EcgRecording } from './model.ts';

const MEDIAN_LABEL = /MEDIAN|REPRESENTATIVE|AVERAGE|TEMPLATE/i;
/** QRS boundary: share of the QRS peak of Σ|dV/dt| (above the PR-segment floor). */
const QRS_THRESHOLD = 0.05;
/** Analysis covers at most this much of a long (e.g. ambulatory) recording, s. */
const MAX_ANALYSIS_S = 600;
const MAX_MEDIAN_BEATS = 60;
/** Smallest P wave (peak-to-peak, mV, in its largest lead) taken as a P wave rather than noise. */
const P_MIN_MV = 0.04;
/** Smallest T wave (RMS of the leads above the isoelectric level, mV) for a T end to be measured. */
const T_MIN_MV = 0.02;

/** Tunables of the critical-value flags (published Chinese ECG critical values; see DESIGN.md). */
export const FLAG_RULES = {
  bradycardiaBpm: 35,
  bradycardiaWithAvBlockBpm: 40,
  /** PR beyond which, at a rate < 40, AV block is suspected (as it is when no P wave precedes the QRS). */
  avBlockPrMs: 300,
  tachycardiaBpm: 150,
  /** "Sustained": this share of the beats at an instantaneous rate ≥ tachycardiaBpm − tolerance. */
  tachycardiaSustainedShare: 0.8,
  tachycardiaToleranceBpm: 5,
  pauseMs: 3000,
  fastIrregularBpm: 180,
  /** Irregular when median |ΔRR| / median RR exceeds this (needs ≥ 4 RR intervals). */
  irregularity: 0.08,
} as const;

const EMPTY: EcgMeasurements = {
  heartRate: null,
  rrMeanMs: null,
  rrSdMs: null,
  rrIrregular: null,
  prMs: null,
  qrsMs: null,
  qtMs: null,
  qtcBazettMs: null,
  qtcFridericiaMs: null,
  longestRrMs: null,
  beats: 0,
};

function groupLength(g: EcgGroup): number {
  return g.leads.length ? Math.min(...g.leads.map((l) => l.mv.length)) : 0;
}

function usableLeads(g: EcgGroup, n: number, scratch: Scratch = FRESH): Float64Array[] {
  const out: Float64Array[] = [];
  let x: Float64Array | null = null;
  for (const l of g.leads) {
    // A lead refused below leaves its array to the next one.
    x ??= scratch.take(n);
    let lo = Infinity;
    let hi = -Infinity;
    let ok = true;
    for (let i = 0; i < n; i++) {
      const v = l.mv[i]!;
      if (!Number.isFinite(v)) {
        ok = false;
        break;
      }
      x[i] = v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (ok && hi - lo > 0.02) {
      out.push(x);
      x = null;
    }
  }
  return out;
}

// ───────────────────────────── QRS detection ─────────────────────────────

interface Detection {
  /** QRS fiducials (sample index of the QRS energy maximum). */
  fiducials: number[];
}

export function detectQrs(leads: Float64Array[], fs: number, scratch: Scratch = FRESH): Detection {
  const n = leads[0]?.length ?? 0;
  if (n < fs) return { fiducials: [] };
  const band = [highPass(5, fs), lowPass(15, fs)];
  const filtered = filtfiltLeads(leads, band, Math.round(fs), scratch);
  // Slopes are recomputed into one scratch buffer where needed rather than kept per lead.
  const d = scratch.take(n);
  const stride = Math.max(1, Math.floor(n / 4000)); // a subsample is plenty for a robust scale
  const sub = scratch.take(Math.ceil(n / stride));
  const scales = filtered.map((x) => {
    derivativeInto(x, fs, d);
    for (let i = 0, k = 0; i < n; i += stride, k++) sub[k] = Math.abs(d[i]!);
    return percentile(sub, 99);
  });
  const floor = 0.25 * median(scales);
  const energy = scratch.take(n);
  filtered.forEach((x, k) => {
    derivativeInto(x, fs, d);
    const w = 1 / Math.max(scales[k]!, floor, 1e-9);
    for (let i = 0; i < n; i++) energy[i] = energy[i]! + (d[i]! * w) ** 2;
  });
  const mwi = movingAverage(energy, Math.max(1, Math.round(0.15 * fs)), scratch);
  // Slopes for telling a QRS from a T wave are taken above the T wave's band (12–40 Hz), where even a
  // tall, peaked T wave has little energy left.
  const hfBand = [highPass(12, fs), lowPass(Math.min(40, 0.4 * fs), fs)];
  const hfEnergy = scratch.take(n);
  forEachFiltered(
    leads,
    hfBand,
    Math.round(0.5 * fs),
    (x) => {
      derivativeInto(x, fs, d);
      for (let i = 0; i < n; i++) hfEnergy[i] = hfEnergy[i]! + d[i]! * d[i]!;
    },
    scratch,
  );

  const refractory = Math.round(0.2 * fs);
  const tWindow = Math.round(0.36 * fs);
  const slopeHalf = Math.round(0.08 * fs);
  const slopeOf = (i: number): number => {
    let m = 0;
    for (let j = Math.max(0, i - slopeHalf); j < Math.min(n, i + slopeHalf); j++) if (hfEnergy[j]! > m) m = hfEnergy[j]!;
    return Math.sqrt(m);
  };

  const candidates: number[] = [];
  for (let i = 1; i < n - 1; i++) if (mwi[i]! > mwi[i - 1]! && mwi[i]! >= mwi[i + 1]!) candidates.push(i);

  const learn = Math.min(n, Math.round(2 * fs));
  let spki = 0;
  let npki = 0;
  for (let i = 0; i < learn; i++) {
    spki = Math.max(spki, mwi[i]!);
    npki += mwi[i]!;
  }
  spki /= 3;
  npki = npki / learn / 2;
  let thr1 = npki + 0.25 * (spki - npki);

  const qrs: number[] = [];
  const qrsSlope: number[] = [];
  let noise: number[] = [];
  const rrAvg = (): number | null => {
    if (qrs.length < 2) return null;
    const rr: number[] = [];
    for (let k = Math.max(1, qrs.length - 8); k < qrs.length; k++) rr.push(qrs[k]! - qrs[k - 1]!);
    return mean(rr);
  };
  const isTWave = (i: number, slope: number): boolean => {
    const last = qrs[qrs.length - 1];
    return last !== undefined && i - last < tWindow && slope < 0.5 * qrsSlope[qrsSlope.length - 1]!;
  };
  const accept = (i: number, weight: number): void => {
    spki = weight * mwi[i]! + (1 - weight) * spki;
    qrs.push(i);
    qrsSlope.push(slopeOf(i));
    noise = [];
    thr1 = npki + 0.25 * (spki - npki);
  };
  const searchBack = (upTo: number): void => {
    for (;;) {
      const avg = rrAvg();
      const last = qrs[qrs.length - 1];
      if (avg === null || last === undefined || upTo - last <= 1.66 * avg) return;
      const thr2 = 0.5 * thr1;
      let best = -1;
      for (const c of noise) {
        if (c <= last + refractory || c >= upTo) continue;
        if (mwi[c]! <= thr2 || isTWave(c, slopeOf(c))) continue;
        if (best < 0 || mwi[c]! > mwi[best]!) best = c;
      }
      if (best < 0) return;
      noise = noise.filter((c) => c > best);
      accept(best, 0.25);
    }
  };

  for (const c of candidates) {
    searchBack(c);
    const last = qrs[qrs.length - 1];
    if (last !== undefined && c - last < refractory) continue;
    const v = mwi[c]!;
    if (v > thr1 && !isTWave(c, slopeOf(c))) {
      accept(c, 0.125);
    } else {
      npki = 0.125 * v + 0.875 * npki;
      thr1 = npki + 0.25 * (spki - npki);
      noise.push(c);
    }
  }
  searchBack(n);

  // The first detection had no QRS before it to be compared with: drop any beat, the first included,
  // that lies within 360 ms of a neighbour and has less than half the median QRS slope (a T wave).
  // Within 250 ms of either end of the record, where filter edge effects inflate slopes, a detection
  // must also look like the median QRS (≥ 70 % of its slope, ≥ 40 % of its integrated energy).
  const medSlope = median(qrsSlope);
  const medMwi = median(qrs.map((c) => mwi[c]!));
  const edge = Math.round(0.25 * fs);
  const kept = qrs.filter((c, k) => {
    const near = (qrs[k - 1] !== undefined && c - qrs[k - 1]! < tWindow) || (qrs[k + 1] !== undefined && qrs[k + 1]! - c < tWindow);
    if (near && qrsSlope[k]! < 0.5 * medSlope) return false;
    if ((c < edge || c > n - edge) && (qrsSlope[k]! < 0.7 * medSlope || mwi[c]! < 0.4 * medMwi)) return false;
    return true;
  });

  // Fiducial: the centre of QRS energy near each detection (stabler than its maximum when R and S
  // are alike, as in wide complexes); merge any two closer than the refractory period.
  const fiducials: number[] = [];
  const centroid = (c: number): number => {
    let w = 0;
    let m = 0;
    for (let j = Math.max(0, c - slopeHalf); j < Math.min(n, c + slopeHalf + 1); j++) {
      w += energy[j]!;
      m += energy[j]! * j;
    }
    return w > 0 ? Math.round(m / w) : c;
  };
  for (const c of kept) {
    const f = centroid(centroid(centroid(c)));
    const prev = fiducials[fiducials.length - 1];
    if (prev !== undefined && f - prev < refractory) {
      if (energy[f]! > energy[prev]!) fiducials[fiducials.length - 1] = f;
    } else fiducials.push(f);
  }
  return { fiducials };
}

// ───────────────────────────── median beat ─────────────────────────────

/**
 * Leads fit for morphology: drop those whose sample-to-sample noise (MAD of first differences) is
 * over 3× the leads' median and over 0.02 mV, keeping at least the 3 quietest.
 */
function quietLeads(leads: Float64Array[], scratch: Scratch = FRESH): Float64Array[] {
  if (leads.length <= 3) return leads;
  let diffs: Float64Array = new Float64Array(0);
  const noise = leads.map((x) => {
    const stride = Math.max(1, Math.floor(x.length / 4000));
    const len = Math.floor((x.length - 1) / stride);
    if (diffs.length < len) diffs = scratch.take(len);
    for (let k = 0; k < len; k++) diffs[k] = Math.abs(x[k * stride + 1]! - x[k * stride]!);
    return medianInPlace(diffs, len) / 0.6745 / Math.SQRT2;
  });
  const limit = Math.max(3 * median(noise), 0.02);
  const keep = leads.filter((_, k) => noise[k]! <= limit);
  if (keep.length >= 3) return keep;
  return leads
    .map((x, k) => ({ x, v: noise[k]! }))
    .sort((a, b) => a.v - b.v)
    .slice(0, 3)
    .map((e) => e.x);
}

interface Beat {
  leads: Float64Array[];
  /** Index of the QRS fiducial inside the beat. */
  fid: number;
  fs: number;
}

function morphologyFilterLeads(leads: Float64Array[], fs: number, scratch: Scratch): Float64Array[] {
  const filters = [highPass(0.5, fs)];
  if (fs > 100) filters.push(lowPass(40, fs));
  return filtfiltLeads(leads, filters, Math.round(2 * fs), scratch);
}

function buildMedianBeat(leads: Float64Array[], fs: number, fiducials: number[], rrMs: number, scratch: Scratch = FRESH): Beat | null {
  if (fiducials.length < 3) return null;
  // A median needs no more than MAX_MEDIAN_BEATS beats: take them evenly spread.
  if (fiducials.length > MAX_MEDIAN_BEATS) {
    const step = fiducials.length / MAX_MEDIAN_BEATS;
    fiducials = Array.from({ length: MAX_MEDIAN_BEATS }, (_, k) => fiducials[Math.floor(k * step)]!);
  }
  const pre = Math.round(Math.min(0.5, Math.max(0.3, (0.8 * rrMs) / 1000)) * fs);
  const post = Math.round(Math.min(0.8, Math.max(0.45, (1.2 * rrMs) / 1000)) * fs);
  const len = pre + post;
  const filtered = morphologyFilterLeads(leads, fs, scratch);
  const n = leads[0]!.length;
  const out = filtered.map((x) => medianAcrossBeats(x, n, fiducials, pre, len));
  return { leads: out, fid: pre, fs };
}

/**
 * Sample-wise median over the beats of one lead: m[k] = median of x[f − pre + k] over the fiducials
 * f whose sample lies inside the record (0 where none does). Where every beat has the sample, the
 * beats are kept sorted by their value at the previous k and re-sorted by insertion: adjacent samples
 * barely change the beats' order, so each step costs a few comparisons instead of a fresh selection
 * (thousands of small medians per ECG). The median of a multiset does not depend on how it was
 * ordered, so the result is the same as selecting each one afresh.
 */
function medianAcrossBeats(x: Float64Array, n: number, fiducials: number[], pre: number, len: number): Float64Array {
  const nf = fiducials.length;
  const m = new Float64Array(len);
  if (nf === 0) return m;
  const buf = new Float64Array(nf);
  let fMin = Infinity;
  let fMax = -Infinity;
  for (const f of fiducials) {
    if (f < fMin) fMin = f;
    if (f > fMax) fMax = f;
  }
  // Every beat has sample k when fMin − pre + k ≥ 0 and fMax − pre + k < n.
  const allFrom = Math.max(0, pre - fMin);
  const allTo = Math.min(len, n + pre - fMax);
  const order = Int32Array.from(fiducials, (_, j) => j);
  const start = Int32Array.from(fiducials, (f) => f - pre);
  const half = nf >> 1;
  for (let k = 0; k < len; k++) {
    if (k < allFrom || k >= allTo) {
      let c = 0;
      for (const f of fiducials) {
        const i = f - pre + k;
        if (i >= 0 && i < n) buf[c++] = x[i]!;
      }
      m[k] = c ? medianInPlace(buf, c) : 0;
      continue;
    }
    for (let p = 0; p < nf; p++) {
      const j = order[p]!;
      const v = x[start[j]! + k]!;
      let q = p;
      while (q > 0 && buf[q - 1]! > v) {
        buf[q] = buf[q - 1]!;
        order[q] = order[q - 1]!;
        q--;
      }
      buf[q] = v;
      order[q] = j;
    }
    m[k] = nf % 2 ? buf[half]! : (buf[half - 1]! + buf[half]!) / 2;
  }
  return m;
}

interface BeatFiducials {
  pOnset: number | null;
  qrsOnset: number | null;
  qrsOffset: number | null;
  tEnd: number | null;
}

function absSlopeSum(leads: Float64Array[], fs: number, smoothMs: number): Float64Array {
  const n = leads[0]!.length;
  const s = new Float64Array(n);
  for (const x of leads) {
    const d = derivative(x, fs);
    for (let i = 0; i < n; i++) s[i] = s[i]! + Math.abs(d[i]!);
  }
  return movingAverage(s, Math.max(1, Math.round((smoothMs / 1000) * fs)));
}

/** Walk from `from` in direction `dir` while the signal is above thr; stop after `run` samples below it. */
function walk(s: Float64Array, from: number, dir: 1 | -1, thr: number, run: number, limit: number): number | null {
  let lastAbove = from;
  for (let i = from; dir < 0 ? i >= limit : i <= limit; i += dir) {
    if (s[i]! >= thr) lastAbove = i;
    else if (Math.abs(lastAbove - i) >= run) return lastAbove;
  }
  return null;
}

export function beatFiducials(beat: Beat, rrMs: number): BeatFiducials {
  const { leads, fs, fid } = beat;
  const n = leads[0]!.length;
  const ms = (v: number) => Math.round((v / 1000) * fs);
  const none: BeatFiducials = { pOnset: null, qrsOnset: null, qrsOffset: null, tEnd: null };

  // QRS onset/offset.
  const s = absSlopeSum(leads, fs, 8);
  const pk = argMax(s, fid - ms(60), fid + ms(60) + 1);
  const floorWin = s.subarray(Math.max(0, fid - ms(300)), Math.max(1, fid - ms(60)));
  const floorLevel = floorWin.length ? percentile(floorWin, 10) : 0;
  const thr = floorLevel + QRS_THRESHOLD * (s[pk]! - floorLevel);
  const run = Math.max(2, ms(8));
  const qrsOnset = walk(s, pk, -1, thr, run, Math.max(0, fid - ms(200)));
  const qrsOffset = walk(s, pk, 1, thr, run, Math.min(n - 1, fid + ms(260)));
  if (qrsOnset === null || qrsOffset === null) return none;

  // T end: tangent method on the RMS of the leads about their PR-segment level.
  let tEnd: number | null = null;
  const isoFrom = Math.max(0, qrsOnset - ms(25));
  const isoTo = Math.max(isoFrom + 1, qrsOnset - ms(5));
  const rms = new Float64Array(n);
  for (const x of leads) {
    const b = mean(x.subarray(isoFrom, isoTo));
    for (let i = 0; i < n; i++) rms[i] = rms[i]! + (x[i]! - b) ** 2;
  }
  for (let i = 0; i < n; i++) rms[i] = Math.sqrt(rms[i]! / leads.length);
  const smooth = movingAverage(rms, Math.max(1, ms(20)));
  const level = mean(smooth.subarray(isoFrom, isoTo));
  const tLo = qrsOffset + ms(60);
  const tHi = Math.min(n - 2, fid + ms(Math.min(700, 0.85 * rrMs)));
  if (tHi - tLo > ms(40)) {
    const r = smooth;
    const tPeak = argMax(r, tLo, tHi + 1);
    if (r[tPeak]! - level > T_MIN_MV && tPeak < tHi) {
      const d = derivative(r, fs);
      // The descending limb: from the peak until the curve turns up again for good (≥ 20 ms).
      let stop = tPeak + 1;
      let rising = 0;
      while (stop < tHi && rising < ms(20)) {
        rising = r[stop + 1]! > r[stop]! ? rising + 1 : 0;
        stop++;
      }
      let steep = tPeak;
      for (let i = tPeak; i <= stop; i++) if (d[i]! < d[steep]!) steep = i;
      if (d[steep]! < 0) {
        const t = steep + ((level - r[steep]!) / d[steep]!) * fs;
        if (t > tPeak && t < Math.min(n, tHi + ms(80))) tEnd = Math.round(t);
      }
    }
  }
  // P onset on a 20 Hz low-passed copy, in the window before the QRS.
  let pOnset: number | null = null;
  const lp = [lowPass(20, fs)];
  const sp = absSlopeSum(filtfiltLeads(leads, lp, ms(100)), fs, 8);
  // The P window opens after the previous beat's T wave (when this beat's T end is known).
  const afterPrevT = tEnd !== null ? tEnd - ms(rrMs) + ms(20) : 1;
  const pLo = Math.max(1, afterPrevT, qrsOnset - ms(Math.min(350, 0.6 * rrMs)));
  const pHi = qrsOnset - ms(40);
  if (pHi - pLo > ms(40)) {
    const pPeak = argMax(sp, pLo, pHi + 1);
    const prSeg = Math.min(...Array.from(sp.subarray(pPeak, qrsOnset)));
    // Isoelectric slope level: the quieter of the window's 10th percentile and the PR segment.
    const base = Math.min(percentile(sp.subarray(pLo, pHi + 1), 10), prSeg);
    if (pPeak > pLo + ms(20) && sp[pPeak]! > 2.5 * Math.max(base, 1e-6) && sp[pPeak]! > 2 * prSeg) {
      const thrP = base + 0.15 * (sp[pPeak]! - base);
      let on = walk(sp, pPeak, -1, thrP, ms(20), pLo);
      if (on === null) {
        // No isoelectric run before the P wave (it follows the previous T wave closely): take the
        // slope minimum between them, if it does fall below the threshold.
        const lo = argMin(sp, pLo, Math.max(pLo + 1, pPeak - ms(10)));
        if (sp[lo]! < thrP) on = lo;
      }
      // A P wave must also stand out in amplitude (≥ 0.04 mV peak-to-peak in some lead), not only in slope.
      if (on !== null) {
        let range = 0;
        for (const x of leads) {
          let lo = Infinity;
          let hi = -Infinity;
          for (let i = on; i <= pHi; i++) {
            lo = Math.min(lo, x[i]!);
            hi = Math.max(hi, x[i]!);
          }
          range = Math.max(range, hi - lo);
        }
        if (range >= P_MIN_MV) pOnset = on;
      }
    }
  }

  return { pOnset, qrsOnset, qrsOffset, tEnd };
}

function beatFromGroup(g: EcgGroup): Beat | null {
  const n = groupLength(g);
  const fs = g.samplingFrequency;
  const usable = usableLeads(g, n);
  const leads = fs > 100 ? filtfiltLeads(usable, [lowPass(40, fs)], Math.round(0.05 * fs)) : usable;
  if (leads.length === 0 || n < 0.3 * fs) return null;
  const s = absSlopeSum(leads, fs, 8);
  const edge = Math.round(0.1 * n);
  return { leads, fs, fid: argMax(s, edge, n - edge) };
}

// ───────────────────────────── measurements and flags ─────────────────────────────

const round = (v: number | null): number | null => (v === null || !Number.isFinite(v) ? null : Math.round(v));

function intervals(f: BeatFiducials, fs: number): { prMs: number | null; qrsMs: number | null; qtMs: number | null } {
  const toMs = (a: number | null, b: number | null) => (a === null || b === null ? null : ((b - a) * 1000) / fs);
  return { prMs: round(toMs(f.pOnset, f.qrsOnset)), qrsMs: round(toMs(f.qrsOnset, f.qrsOffset)), qtMs: round(toMs(f.qrsOnset, f.tEnd)) };
}

/** This thread's working arrays for `measureEcg` (synchronous, so one analysis at a time uses them; 8 MiB kept at most). */
const scratch = new ReusedScratch();

export function measureEcg(rec: EcgRecording): EcgAnalysis {
  scratch.reset();
  const withData = rec.groups.filter((g) => g.leads.length > 0 && g.samplingFrequency > 0);
  const rhythmCandidates = withData.filter((g) => !MEDIAN_LABEL.test(g.label));
  const pool = rhythmCandidates.length ? rhythmCandidates : withData;
  const rhythm = pool.reduce<EcgGroup | null>(
    (best, g) => (best === null || groupLength(g) / g.samplingFrequency > groupLength(best) / best.samplingFrequency ? g : best),
    null,
  );
  const fileMedian = withData.find((g) => MEDIAN_LABEL.test(g.label) && g !== rhythm) ?? null;
  const detail: EcgAnalysisDetail = {
    group: rhythm?.label ?? '',
    samplingFrequency: rhythm?.samplingFrequency ?? 0,
    analysedS: 0,
    qrsTimesS: [],
    qrsOnsetsS: [],
    qrsOffsetsS: [],
    medianBeat: null,
    fileMedianBeat: null,
    medianBeatConsistent: null,
  };
  if (!rhythm) return { measurements: { ...EMPTY }, flags: [], detail };

  const fs = rhythm.samplingFrequency;
  const n = Math.min(groupLength(rhythm), Math.round(MAX_ANALYSIS_S * fs));
  detail.analysedS = n / fs;
  const leads = usableLeads(rhythm, n, scratch);
  const { fiducials } = leads.length ? detectQrs(leads, fs, scratch) : { fiducials: [] };
  detail.qrsTimesS = fiducials.map((f) => f / fs);

  const rr: number[] = [];
  for (let k = 1; k < fiducials.length; k++) rr.push(((fiducials[k]! - fiducials[k - 1]!) * 1000) / fs);
  const m: EcgMeasurements = { ...EMPTY, beats: fiducials.length };
  if (rr.length >= 1) {
    const rrMean = mean(rr);
    m.rrMeanMs = round(rrMean);
    m.rrSdMs = round(sd(rr));
    m.heartRate = round(60000 / rrMean);
    m.longestRrMs = round(Math.max(...rr));
    if (rr.length >= 4) {
      const diffs = rr.slice(1).map((v, i) => Math.abs(v - rr[i]!));
      m.rrIrregular = median(diffs) / median(rr) > FLAG_RULES.irregularity;
    }
  }

  // Median beat from the rhythm, and the file's own median beat when there is one.
  const rrMedian = rr.length ? median(rr) : 1000;
  const quiet = quietLeads(leads, scratch);
  const ours = quiet.length ? buildMedianBeat(quiet, fs, fiducials, rrMedian, scratch) : null;
  let fid: BeatFiducials | null = null;
  let fromFile: ReturnType<typeof intervals> | null = null;
  if (ours) {
    fid = beatFiducials(ours, rrMedian);
    const rel = (v: number | null) => (v === null ? null : Math.round(((v - ours.fid) * 1000) / fs));
    detail.medianBeat = { pOnsetMs: rel(fid.pOnset), qrsOnsetMs: rel(fid.qrsOnset), qrsOffsetMs: rel(fid.qrsOffset), tEndMs: rel(fid.tEnd) };
    if (fid.qrsOnset !== null && fid.qrsOffset !== null) {
      detail.qrsOnsetsS = fiducials.map((f) => (f + fid!.qrsOnset! - ours.fid) / fs);
      detail.qrsOffsetsS = fiducials.map((f) => (f + fid!.qrsOffset! - ours.fid) / fs);
    }
  }
  if (fileMedian) {
    const beat = beatFromGroup(fileMedian);
    if (beat) {
      fromFile = intervals(beatFiducials(beat, rrMedian), beat.fs);
      detail.fileMedianBeat = fromFile;
    }
  }
  const own = fid ? intervals(fid, fs) : null;
  const chosen = own && own.qrsMs !== null ? own : fromFile ?? own;
  if (chosen) {
    m.prMs = chosen.prMs;
    m.qrsMs = chosen.qrsMs;
    m.qtMs = chosen.qtMs;
  }
  if (own && fromFile && own.qrsMs !== null && fromFile.qrsMs !== null) {
    detail.medianBeatConsistent =
      Math.abs(own.qrsMs - fromFile.qrsMs) <= 20 && (own.qtMs === null || fromFile.qtMs === null || Math.abs(own.qtMs - fromFile.qtMs) <= 40);
  }
  if (m.qtMs !== null && m.rrMeanMs !== null) {
    const rrS = m.rrMeanMs / 1000;
    m.qtcBazettMs = round(m.qtMs / Math.sqrt(rrS));
    m.qtcFridericiaMs = round(m.qtMs / Math.cbrt(rrS));
  }

  return { measurements: m, flags: flagsFor(m, rr, fiducials, n, fs), detail };
}

function flagsFor(m: EcgMeasurements, rr: number[], fiducials: number[], n: number, fs: number): EcgFlag[] {
  const flags: EcgFlag[] = [];
  const hr = m.heartRate;
  if (hr !== null) {
    const avBlockSuspected = m.prMs === null || m.prMs > FLAG_RULES.avBlockPrMs;
    if (hr < FLAG_RULES.bradycardiaBpm || (hr < FLAG_RULES.bradycardiaWithAvBlockBpm && avBlockSuspected)) {
      flags.push('SUSPECTED_CRITICAL_BRADYCARDIA');
    }
    const fastShare = rr.filter((v) => 60000 / v >= FLAG_RULES.tachycardiaBpm - FLAG_RULES.tachycardiaToleranceBpm).length / rr.length;
    if (hr >= FLAG_RULES.tachycardiaBpm && rr.length >= 4 && fastShare >= FLAG_RULES.tachycardiaSustainedShare) {
      flags.push('SUSPECTED_CRITICAL_TACHYCARDIA');
    }
  }
  // A pause: the longest RR, or a silent stretch at either end of the record (its RR is at least that long).
  const first = fiducials[0];
  const last = fiducials[fiducials.length - 1];
  const edgeGapMs = first === undefined || last === undefined ? 0 : (Math.max(first, n - 1 - last) * 1000) / fs;
  if ((m.longestRrMs ?? 0) >= FLAG_RULES.pauseMs || (fiducials.length >= 2 && edgeGapMs >= FLAG_RULES.pauseMs)) {
    flags.push('SUSPECTED_CRITICAL_PAUSE');
  }
  if (hr !== null && hr >= FLAG_RULES.fastIrregularBpm && m.rrIrregular === true) flags.push('SUSPECTED_CRITICAL_FAST_IRREGULAR');
  return flags;
}
