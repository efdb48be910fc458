/**
 * Summarize a V8 .cpuprofile (from `npm run bench -- --profile`): self time by function and by
 * file, so PERFORMANCE.md can say where the time goes.   npx tsx bench/profile-summary.ts <file> [top]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const lastArg = process.argv.find((a) => a.startsWith('--last-ms='));
/** Only the samples of the last N ms of the profile (the measured part; start-up excluded). */
const lastMs = lastArg ? Number(lastArg.slice('--last-ms='.length)) : Infinity;
const pos = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const file = pos[0];
const top = Number(pos[1] ?? 25);
if (!file) {
  console.error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top] [--last-ms=N]');
  process.exit(2);
}
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
const times: number[] = [];
let tAcc = p.startTime;
for (const d of p.timeDeltas) times.push((tAcc += d));
const from = p.endTime - lastMs * 1000;
p.samples.forEach((id, i) => {
  if (times[i]! >= from) self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);
const short = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'nm:').replace(/^.*\/main\//, '');
const fn = new Map<string, number>();
const mod = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const f = n.callFrame;
  const key = `${f.functionName || '(anonymous)'}  ${short(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const m = f.url ? short(f.url).replace(/^(nm:(@[^/]+\/)?[^/]+).*$/, '$1') : f.functionName;
  mod.set(m, (mod.get(m) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms`;
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled over ${((p.endTime - p.startTime) / 1000).toFixed(0)} ms wall${Number.isFinite(lastMs) ? ` (last ${lastMs} ms only)` : ''}`);
console.log('\nself time by file / package:');
for (const [k, v] of [...mod].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(v)}  ${k}`);
console.log('\nself time by function:');
for (const [k, v] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(v)}  ${k}`);
