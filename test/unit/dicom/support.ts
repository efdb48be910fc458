/** Shared helpers of the DICOM tests: the sample directory, reading samples, PHI extraction. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as DP from 'dicom-parser';

const here = dirname(fileURLToPath(import.meta.url));
/** ../shared/samples relative to the repository (outside it; present in CI). */
export const SAMPLES_DIR = process.env.TELEREAD_SAMPLES_DIR ?? resolve(here, '../../../../shared/samples');

export const samplesPresent = () => existsSync(join(SAMPLES_DIR, 'MANIFEST.md'));

export const sampleNames = (): string[] =>
  readdirSync(SAMPLES_DIR)
    .filter((f) => !f.endsWith('.md') && f !== 'SHA256SUMS')
    .sort();

export const readSample = (name: string): Uint8Array => new Uint8Array(readFileSync(join(SAMPLES_DIR, name)));

const dicomParser = createRequire(import.meta.url)('dicom-parser') as typeof DP;

/**
 * Patient identifiers (name, id, birth date) found in a sample by a permissive, independent read
 * (raw dicom-parser, trying Part 10 then raw implicit/explicit). Used to prove messages carry no PHI.
 */
export function samplePhi(bytes: Uint8Array): string[] {
  const out = new Set<string>();
  const attempts: DP.ParseDicomOptions[] = [
    { untilTag: 'x7fe00010' },
    { untilTag: 'x7fe00010', TransferSyntaxUID: '1.2.840.10008.1.2' },
    { untilTag: 'x7fe00010', TransferSyntaxUID: '1.2.840.10008.1.2.1' },
  ];
  for (const opts of attempts) {
    try {
      const ds = dicomParser.parseDicom(bytes, opts);
      for (const tag of ['x00100010', 'x00100020', 'x00100030']) {
        const v = ds.string(tag);
        if (!v) continue;
        for (const part of [v, ...v.split(/[\^=]/)]) if (part.trim().length >= 3) out.add(part.trim());
      }
    } catch {
      /* next attempt */
    }
  }
  // Latin-1 scan for the raw bytes of (0010,0010) in explicit VR LE, as a backstop.
  return [...out];
}

/** A ByteSource over bytes that counts reads and bytes read. */
export function countingSource(bytes: Uint8Array) {
  const stats = { reads: 0, bytes: 0, maxEnd: 0 };
  return {
    stats,
    source: {
      size: bytes.length,
      async readRange(offset: number, length: number) {
        stats.reads++;
        stats.bytes += length;
        stats.maxEnd = Math.max(stats.maxEnd, offset + length);
        if (offset < 0 || offset + length > bytes.length) throw new RangeError('out of range');
        return bytes.slice(offset, offset + length);
      },
    },
  };
}

export const prng = mulberry32;

export const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

export const repoRoot = resolve(here, '../../..');

import { writePart10, type Item } from '../../../shared/synth/dicom-writer.ts';
import { mulberry32 } from '../../../shared/synth/random.ts';

/** A small valid CR image (4×4, 16-bit MONOCHROME2) as data set elements; `over` replaces/adds by tag. */
export function crElements(over: Item[] = [], drop: string[] = []): Item[] {
  const base: Item[] = [
    { tag: '00080016', vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.1' },
    { tag: '00080018', vr: 'UI', value: '1.2.3.4.5.6.7.1' },
    { tag: '00080060', vr: 'CS', value: 'CR' },
    { tag: '00100010', vr: 'PN', value: 'Zhang^San' },
    { tag: '00100020', vr: 'LO', value: 'PID-778899' },
    { tag: '00100030', vr: 'DA', value: '19800214' },
    { tag: '0020000d', vr: 'UI', value: '1.2.3.4.5.6.7.2' },
    { tag: '0020000e', vr: 'UI', value: '1.2.3.4.5.6.7.3' },
    { tag: '00280002', vr: 'US', value: 1 },
    { tag: '00280004', vr: 'CS', value: 'MONOCHROME2' },
    { tag: '00280010', vr: 'US', value: 4 },
    { tag: '00280011', vr: 'US', value: 4 },
    { tag: '00280100', vr: 'US', value: 16 },
    { tag: '00280101', vr: 'US', value: 12 },
    { tag: '00280102', vr: 'US', value: 11 },
    { tag: '00280103', vr: 'US', value: 0 },
    { tag: '7fe00010', vr: 'OW', value: new Uint8Array(32) },
  ];
  const norm = (t: string) => t.toLowerCase().replace(/^x/, '');
  const dropSet = new Set([...drop, ...over.map((o) => o.tag)].map(norm));
  return [...base.filter((e) => !dropSet.has(norm(e.tag))), ...over].sort((a, b) => norm(a.tag).localeCompare(norm(b.tag)));
}

export const PHI_VALUES = ['Zhang', 'San', 'PID-778899', '19800214'];

export function crFile(over: Item[] = [], drop: string[] = [], transferSyntaxUID?: string, preamble?: Uint8Array): Uint8Array {
  return writePart10({
    elements: crElements(over, drop),
    ...(transferSyntaxUID ? { transferSyntaxUID } : {}),
    ...(preamble ? { preamble } : {}),
  });
}
