/** The inputs of the benchmarks: the real samples and generated studies. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticCrDx, syntheticEcg, syntheticUltrasound } from '../../shared/synth/studies.ts';

export const SAMPLES_DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'samples');

export interface BenchFile {
  name: string;
  /** ecg | xray | us (samples) or ecg | dx | us | us-cine (generated). */
  kind: string;
  size: number;
  bytes: Uint8Array;
}

const SAMPLE_KIND = /^(ecg|xray|us)-/;

/** The sample files meant to be accepted (ecg-*, xray-*, us-*), smallest first within a kind. */
export function sampleFiles(opts: { perKind?: number } = {}): BenchFile[] {
  const names = readdirSync(SAMPLES_DIR)
    .filter((n) => SAMPLE_KIND.test(n))
    .sort();
  const out: BenchFile[] = [];
  const taken: Record<string, number> = {};
  for (const name of names) {
    const kind = SAMPLE_KIND.exec(name)![1]!;
    if (opts.perKind !== undefined && (taken[kind] ?? 0) >= opts.perKind) continue;
    taken[kind] = (taken[kind] ?? 0) + 1;
    const path = join(SAMPLES_DIR, name);
    out.push({ name, kind, size: statSync(path).size, bytes: new Uint8Array(readFileSync(path)) });
  }
  return out;
}

export interface MixSpec {
  ecg: number;
  dx: number;
  us: number;
  usCine: number;
  cineFrames: number;
}

export const FULL_MIX: MixSpec = { ecg: 40, dx: 6, us: 16, usCine: 4, cineFrames: 60 };
export const QUICK_MIX: MixSpec = { ecg: 2, dx: 1, us: 1, usCine: 1, cineFrames: 10 };

/** What every ingest leg receives before it is measured (see warmUp in bench/ingest.ts): ECG first. */
export const WARMUP_MIX: MixSpec = { ecg: 24, dx: 0, us: 4, usCine: 0, cineFrames: 1 };
export const warmupFiles = (seedBase: number): BenchFile[] => {
  const files = generatedMix(WARMUP_MIX, seedBase);
  const firstEcg = files.findIndex((f) => f.kind === 'ecg');
  return [files[firstEcg]!, ...files.filter((_, i) => i !== firstEcg)];
};

/**
 * Generated studies, deterministic from `seedBase` (distinct seeds → distinct SOPInstanceUIDs).
 * Interleaved so that the big files are spread through the run rather than bunched at the end.
 */
export function generatedMix(spec: MixSpec, seedBase: number): BenchFile[] {
  const groups: BenchFile[][] = [[], [], [], []];
  for (let i = 0; i < spec.ecg; i++) {
    const s = syntheticEcg({ seed: seedBase + i });
    groups[0]!.push({ name: s.metadata.fileName, kind: 'ecg', size: s.bytes.length, bytes: s.bytes });
  }
  for (let i = 0; i < spec.dx; i++) {
    const s = syntheticCrDx({ seed: seedBase + i, modality: 'DX', rows: 2500, columns: 2000 });
    groups[1]!.push({ name: s.metadata.fileName, kind: 'dx', size: s.bytes.length, bytes: s.bytes });
  }
  for (let i = 0; i < spec.us; i++) {
    const s = syntheticUltrasound({ seed: seedBase + i });
    groups[2]!.push({ name: s.metadata.fileName, kind: 'us', size: s.bytes.length, bytes: s.bytes });
  }
  for (let i = 0; i < spec.usCine; i++) {
    const s = syntheticUltrasound({ seed: seedBase + i, frames: spec.cineFrames });
    groups[3]!.push({ name: s.metadata.fileName, kind: 'us-cine', size: s.bytes.length, bytes: s.bytes });
  }
  // Round-robin by share of the total so kinds interleave.
  const out: BenchFile[] = [];
  const total = groups.reduce((a, g) => a + g.length, 0);
  const next = groups.map(() => 0);
  for (let k = 0; k < total; k++) {
    let best = -1;
    let bestFrac = Infinity;
    groups.forEach((g, gi) => {
      if (next[gi]! >= g.length) return;
      const frac = (next[gi]! + 0.5) / g.length;
      if (frac < bestFrac) {
        bestFrac = frac;
        best = gi;
      }
    });
    out.push(groups[best]![next[best]!++]!);
  }
  return out;
}
