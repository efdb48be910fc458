/** What the figures were measured on. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  date: string;
  nproc: number;
  cpuModel: string;
  memTotalBytes: number;
  memAvailableBytes: number;
  loadAvgAtStart: number[];
  node: string;
  platform: string;
  kernel: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
}

export function machine(): Machine {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1]!.trim();
  } catch {}
  let memAvailable = os.freemem();
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) memAvailable = Number(m[1]) * 1024;
  } catch {}
  let gitCommit: string | null = null;
  let gitDirty: boolean | null = null;
  try {
    const cwd = new URL('../..', import.meta.url).pathname;
    gitCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    gitDirty = execFileSync('git', ['status', '--porcelain'], { cwd, encoding: 'utf8' }).trim().length > 0;
  } catch {}
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpuModel,
    memTotalBytes: os.totalmem(),
    memAvailableBytes: memAvailable,
    loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    kernel: os.release(),
    gitCommit,
    gitDirty,
  };
}
