import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../shared/synth/cli.ts';
import { crossCheck } from './cross-check.ts';

async function run(args: string[]): Promise<{ code: number; lines: Record<string, unknown>[] }> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    const code = await main(args);
    return { code, lines: out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
  } finally {
    spy.mockRestore();
  }
}

describe('synth CLI', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes --count files of each kind with seeds seed..seed+N-1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synth-cli-'));
    const ecg = await run(['--kind', 'ecg', '--seed', '7', '--out', dir, '--count', '2', '--charset', 'gb18030']);
    expect(ecg.code).toBe(0);
    expect(ecg.lines.map((l) => l.seed)).toEqual([7, 8]);
    const cr = await run(['--kind', 'cr', '--seed', '1', '--out', dir, '--rows', '200', '--columns', '160']);
    const dx = await run(['--kind', 'dx', '--seed', '1', '--out', dir, '--rows', '200', '--columns', '160', '--photometric', 'MONOCHROME1']);
    const us = await run(['--kind', 'us', '--seed', '1', '--out', dir, '--rows', '120', '--columns', '160', '--rgb']);
    const cine = await run(['--kind', 'us-cine', '--seed', '1', '--out', dir, '--frames', '4', '--rows', '120', '--columns', '160']);
    for (const r of [cr, dx, us, cine]) expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['cr-1.dcm', 'dx-1.dcm', 'ecg-7.dcm', 'ecg-8.dcm', 'us-1.dcm', 'us-cine-1.dcm']);

    const ecgBytes = new Uint8Array(readFileSync(join(dir, 'ecg-7.dcm')));
    const ds = dicomParser.parseDicom(ecgBytes);
    expect(ds.string('x00080005')).toBe('GB18030');
    expect(ds.string('x00080018')).toBe(ecg.lines[0]!.SOPInstanceUID);
    const cineBytes = new Uint8Array(readFileSync(join(dir, 'us-cine-1.dcm')));
    expect(cineBytes.length).toBe(cine.lines[0]!.sizeBytes);
    expect(dicomParser.parseDicom(cineBytes).intString('x00280008')).toBe(4);
    for (const f of readdirSync(dir)) crossCheck(new Uint8Array(readFileSync(join(dir, f))), `cli-${f}`);
  });

  it('refuses bad arguments', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect((await run(['--kind', 'mri', '--out', '/tmp/x'])).code).toBe(2);
    expect((await run(['--kind', 'cr'])).code).toBe(2);
    await expect(run(['--kind', 'cr', '--out', '/tmp/x', '--seed', 'abc'])).rejects.toThrow(/integer/);
    await expect(run(['--kind', 'cr', '--out', '/tmp/x', '--charset', 'latin1'])).rejects.toThrow(/charset/);
    err.mockRestore();
  });

  it('runs as `npx tsx shared/synth/cli.ts`', () => {
    const dir = mkdtempSync(join(tmpdir(), 'synth-cli-tsx-'));
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'shared/synth/cli.ts', '--kind', 'ecg', '--seed', '3', '--out', dir],
      { encoding: 'utf8', cwd: join(import.meta.dirname, '../../..') },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const line = JSON.parse(r.stdout.trim()) as { path: string; Modality: string };
    expect(line.Modality).toBe('ECG');
    expect(readdirSync(dir)).toEqual(['ecg-3.dcm']);
  });
});
