/**
 * `npm run simulate -- [--readers ecg=2,radiography=2,ultrasound=1] [--studies 150] [--seed 1]
 *   [--scale 600] [--critical-rate 0.008] [--min-critical 2] [--date 2026-03-03] [--out test-output/simulate.json]`
 *
 * Starts the real server on a scaled clock, drives a synthetic county day through the HTTP API,
 * prints the turnaround table and writes a JSON summary. See docs/OPERATIONS.md (simulation).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_OPTIONS, runSimulation, type SimOptions } from './run.ts';
import { POOLS, type Pool } from './provision.ts';

export function parseSimArgs(argv: string[]): Partial<SimOptions> {
  const { values } = parseArgs({
    args: argv,
    options: {
      readers: { type: 'string' },
      studies: { type: 'string' },
      seed: { type: 'string' },
      scale: { type: 'string' },
      'critical-rate': { type: 'string' },
      'min-critical': { type: 'string' },
      clinics: { type: 'string' },
      date: { type: 'string' },
      out: { type: 'string' },
      'keep-data': { type: 'boolean' },
      'lease-seconds': { type: 'string' },
      'arrival-end': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'npm run simulate -- [--readers ecg=2,radiography=2,ultrasound=1] [--studies 150] [--seed 1] [--scale 600]\n' +
        '                    [--critical-rate 0.008] [--min-critical 2] [--clinics 17] [--date YYYY-MM-DD] [--out test-output/simulate.json] [--keep-data] [--lease-seconds N]\n' +
        '                    [--arrival-end 17.5]   (local hour after which no study arrives)\n',
    );
    process.exit(0);
  }
  const num = (name: string, v: string | undefined, ok: (n: number) => boolean): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || !ok(n)) throw new Error(`--${name} ${v} is not valid`);
    return n;
  };
  const o: Partial<SimOptions> = {};
  if (values.readers !== undefined) {
    const readers = { ...DEFAULT_OPTIONS.readers };
    for (const part of values.readers.split(',')) {
      const [k, v] = part.split('=');
      if (!POOLS.includes(k as Pool) || !/^\d+$/.test(v ?? '') || Number(v) < 1 || Number(v) > 50) {
        throw new Error(`--readers takes pool=count pairs with pools ${POOLS.join(', ')} and counts 1–50, e.g. ecg=2,radiography=2,ultrasound=1`);
      }
      readers[k as Pool] = Number(v);
    }
    o.readers = readers;
  }
  const set = <K extends keyof SimOptions>(k: K, v: SimOptions[K] | undefined) => v !== undefined && (o[k] = v);
  set('studies', num('studies', values.studies, (n) => Number.isInteger(n) && n >= 1 && n <= 2000));
  set('seed', num('seed', values.seed, (n) => Number.isInteger(n) && n >= 0 && n < 1e6));
  set('scale', num('scale', values.scale, (n) => n >= 1 && n <= 10_000));
  set('criticalRate', num('critical-rate', values['critical-rate'], (n) => n >= 0 && n <= 1));
  set('minCritical', num('min-critical', values['min-critical'], (n) => Number.isInteger(n) && n >= 0));
  set('clinics', num('clinics', values.clinics, (n) => Number.isInteger(n) && n >= 1 && n <= 200));
  if (values.date !== undefined) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(values.date)) throw new Error('--date is YYYY-MM-DD');
    o.date = values.date;
  }
  if (values.out !== undefined) o.out = values.out;
  if (values['keep-data']) o.keepData = true;
  set('arrivalEndHour', num('arrival-end', values['arrival-end'], (n) => n > 8 && n <= 19.5));
  set('leaseSeconds', num('lease-seconds', values['lease-seconds'], (n) => Number.isInteger(n) && n >= 10 && n <= 3600));
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  let opts: Partial<SimOptions> | null = null;
  try {
    opts = parseSimArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\nRun "npm run simulate -- --help" for the options.\n`);
    process.exitCode = 2;
  }
  if (opts) {
    try {
      const s = await runSimulation(opts);
      process.exitCode = s.outcome.unfinished.length === 0 ? 0 : 1;
    } catch (e) {
      process.stderr.write(`simulate failed: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  }
}
