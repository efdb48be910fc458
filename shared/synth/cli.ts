/**
 * Synthetic study generator.
 *
 *   npx tsx shared/synth/cli.ts --kind cr|dx|us|us-cine|ecg --seed 1 --out dir [--count N] [--frames N]
 *        [--rgb] [--rows N --columns N] [--charset ascii|utf8|gb18030] [--implicit]
 *        [--photometric MONOCHROME1|MONOCHROME2] [--bits-stored N] [--heart-rate N] [--study-seed N]
 *
 * File i (0-based) of --count uses seed + i. us-cine streams its pixel data to disk (default 100
 * frames; --frames 600 --rgb gives about 550 MB). Prints one JSON line of metadata per file.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { IMPLICIT_VR_LITTLE_ENDIAN } from './dicom-writer.ts';
import { writeSyntheticFile } from './files.ts';
import type { NameCharset } from './patients.ts';
import { syntheticCrDx, syntheticEcg, syntheticUltrasound, syntheticUltrasoundStream, type CommonSynthOptions } from './studies.ts';

const KINDS = ['cr', 'dx', 'us', 'us-cine', 'ecg'] as const;
type Kind = (typeof KINDS)[number];

const USAGE =
  'usage: tsx shared/synth/cli.ts --kind cr|dx|us|us-cine|ecg --seed 1 --out dir [--count N] [--frames N] ' +
  '[--rgb] [--rows N] [--columns N] [--charset ascii|utf8|gb18030] [--implicit] [--photometric MONOCHROME1|MONOCHROME2] ' +
  '[--bits-stored N] [--heart-rate N] [--study-seed N]';

function int(name: string, v: string | undefined, dflt?: number): number | undefined {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`--${name} must be an integer, got '${v}'`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kind: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      count: { type: 'string' },
      frames: { type: 'string' },
      rgb: { type: 'boolean' },
      rows: { type: 'string' },
      columns: { type: 'string' },
      charset: { type: 'string' },
      implicit: { type: 'boolean' },
      photometric: { type: 'string' },
      'bits-stored': { type: 'string' },
      'heart-rate': { type: 'string' },
      'study-seed': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const kind = values.kind as Kind | undefined;
  if (!kind || !KINDS.includes(kind) || values.out === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const seed = int('seed', values.seed, 1)!;
  const count = int('count', values.count, 1)!;
  if (count < 1) throw new Error('--count must be at least 1');
  const charsets: Record<string, NameCharset> = { ascii: 'ascii', utf8: 'ISO_IR 192', 'utf-8': 'ISO_IR 192', gb18030: 'GB18030' };
  const charset = values.charset === undefined ? undefined : charsets[values.charset.toLowerCase()];
  if (values.charset !== undefined && !charset) throw new Error(`--charset must be ascii, utf8 or gb18030`);
  const photometric = values.photometric;
  if (photometric !== undefined && photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2') {
    throw new Error('--photometric must be MONOCHROME1 or MONOCHROME2');
  }
  const rows = int('rows', values.rows);
  const columns = int('columns', values.columns);
  const frames = int('frames', values.frames);

  for (let i = 0; i < count; i++) {
    const common: CommonSynthOptions = {
      seed: seed + i,
      studySeed: int('study-seed', values['study-seed']),
      instanceNumber: values['study-seed'] !== undefined ? i + 1 : undefined,
      patient: charset ? { charset } : undefined,
      transferSyntaxUID: values.implicit ? IMPLICIT_VR_LITTLE_ENDIAN : undefined,
    };
    const started = performance.now();
    let written;
    switch (kind) {
      case 'cr':
      case 'dx':
        written = await writeSyntheticFile(
          values.out,
          syntheticCrDx({
            ...common,
            modality: kind === 'cr' ? 'CR' : 'DX',
            rows,
            columns,
            bitsStored: int('bits-stored', values['bits-stored']),
            photometric,
          }),
        );
        break;
      case 'us':
        written = await writeSyntheticFile(values.out, syntheticUltrasound({ ...common, rows, columns, rgb: values.rgb, frames: frames ?? 1 }));
        break;
      case 'us-cine':
        written = await writeSyntheticFile(
          values.out,
          syntheticUltrasoundStream({ ...common, rows, columns, rgb: values.rgb, frames: frames ?? 100 }),
        );
        break;
      case 'ecg':
        written = await writeSyntheticFile(values.out, syntheticEcg({ ...common, heartRate: int('heart-rate', values['heart-rate']) }));
        break;
    }
    const ms = performance.now() - started;
    process.stdout.write(`${JSON.stringify({ path: written.path, ms: Math.round(ms), ...written.metadata })}\n`);
  }
  return 0;
}

const invokedDirectly = (() => {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
})();
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`synth: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
