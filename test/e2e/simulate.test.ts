import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSimulation, type SimSummary } from '../../sim/run.ts';

/**
 * A tiny county morning through `npm run simulate`'s engine: the real server as a child process on a
 * 1000× clock, 12 studies arriving 08:00–10:00, one reader per pool, 2 critical ECGs.
 */
describe('npm run simulate (smoke)', () => {
  const out = join(import.meta.dirname, '../../test-output/simulate-smoke.json');
  const lines: string[] = [];
  let summary: SimSummary;
  afterAll(() => rmSync(out, { force: true }));

  it('drives a small day to the end and reports turnaround, critical results and overhead', { timeout: 90_000 }, async () => {
    rmSync(out, { force: true });
    summary = await runSimulation({
      studies: 12,
      scale: 1000,
      readers: { ecg: 1, radiography: 1, ultrasound: 1 },
      arrivalEndHour: 10,
      seed: 7,
      out,
      log: (l) => lines.push(l),
    });

    // Every study ended with a signed, delivered and acknowledged report.
    expect(summary.outcome.unfinished, summary.anomalies.map((a) => `${a.who}: ${a.what} ${a.body ?? ''}`).join('\n')).toEqual([]);
    expect(summary.outcome.submitted).toBe(12);
    expect(summary.outcome.signed).toBe(12);
    expect(summary.outcome.delivered).toBe(12);
    expect(summary.outcome.acknowledged).toBe(12);

    // Critical results: none silently dropped; each acknowledged with read-back and all six ACR fields.
    expect(summary.critical.withCriticalResult).toBe(summary.critical.planned);
    expect(summary.critical.acknowledged).toBe(summary.critical.withCriticalResult);
    expect(summary.critical.acrFieldsComplete).toBe(summary.critical.withCriticalResult);

    // The table and the answer were printed.
    const printed = lines.join('\n');
    expect(printed).toContain('queued→claimed p50/p90/p99');
    expect(printed).toMatch(/^ecg\s+\w+\s+\d+/m);
    expect(printed).toContain('STAT ECG (10-minute target)');
    expect(printed).toContain('System overhead per case');

    // The JSON summary was written, with overhead figures for every case.
    const json = JSON.parse(readFileSync(out, 'utf8')) as SimSummary;
    expect(json.overheadMs.perCase.n).toBe(12);
    expect(json.overheadMs.perCase.p50).toBeGreaterThan(0);
    expect(json.overheadMs.perCase.p99).toBeGreaterThanOrEqual(json.overheadMs.perCase.p50!);
    for (const k of ['submit', 'upload', 'claim', 'draft', 'sign', 'ingestLag', 'deliveryLag']) expect(json.overheadMs.components[k]!.n).toBe(12);
    expect(json.groups.reduce((n, g) => n + g.count, 0)).toBe(12);

    // The server was stopped by its PID and its temp data directory removed.
    expect(() => process.kill(json.server.pid!, 0)).toThrow();
    expect(existsSync(json.server.dataDir!)).toBe(false);
  });
});
