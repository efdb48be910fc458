/** Percentiles and the printed turnaround table of the simulation. */

/** Nearest-rank percentile (the server's definition); null for no values. */
export function pct(values: readonly number[], p: number): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(1, Math.ceil((p / 100) * s.length)) - 1]!;
}

export interface Dist {
  n: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export function dist(values: readonly number[]): Dist {
  return { n: values.length, p50: pct(values, 50), p90: pct(values, 90), p99: pct(values, 99), max: values.length ? Math.max(...values) : null };
}

const f1 = (x: number | null) => (x === null ? '–' : x.toFixed(1));
export const triple = (d: Dist) => `${f1(d.p50)}/${f1(d.p90)}/${f1(d.p99)}`;

/** A plain fixed-width table. */
export function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}
