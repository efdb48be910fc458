/**
 * What a gateway finds in its spool after a crash: an empty batch folder goes; files its manifest does
 * not list (no C-STORE success was answered for them) are set aside under orphans/; a batch already
 * journalled as sent whose folder removal was cut short is removed, never sent again; a folder with
 * instances but no readable manifest is kept in place. `gateway status` lists what was kept.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatStatus, GatewayUsageError, runGatewayCommand } from '../../../gateway/cli.ts';
import { readSpoolStatus, Spool } from '../../../gateway/spool.ts';

const instance = (n: number) => ({
  StudyInstanceUID: '1.2.826.0.1.3680043.8.498.1',
  SOPInstanceUID: `1.2.826.0.1.3680043.8.498.1.${n}`,
  SOPClassUID: '1.2.840.10008.5.1.4.1.1.9.1.1',
  TransferSyntaxUID: '1.2.840.10008.1.2.1',
  Modality: 'ECG',
  callingAeTitle: 'ECG_CART_1',
  size: 4,
});

describe('gateway spool after a crash', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  /** A new spool holding one batch of one instance (the spool left open). */
  const spoolWithOneBatch = async (n: number) => {
    const dir = mkdtempSync(join(tmpdir(), 'teleread-spool-'));
    dirs.push(dir);
    const spool = await Spool.open(dir);
    const temp = spool.incomingPath();
    writeFileSync(temp, 'DICM');
    const { entryId } = await spool.addInstance(temp, instance(n));
    return { dir, spool, entryId };
  };

  it('removes what was never acknowledged, keeps what has no readable manifest and lists it', async () => {
    const { dir, spool: first, entryId } = await spoolWithOneBatch(1);
    await first.close();

    const studies = join(dir, 'studies');
    // A file moved into the batch whose manifest write never happened (its C-STORE failed), and a
    // stale temp of the manifest itself.
    writeFileSync(join(studies, entryId, 'unlisted.dcm'), 'DICM');
    writeFileSync(join(studies, entryId, '.entry.json.abc123.tmp'), '{');
    // A batch folder made just before a crash, empty but for a temp file.
    const emptyBatch = join(studies, 'batch-empty');
    mkdirSync(emptyBatch);
    writeFileSync(join(emptyBatch, '.entry.json.def456.tmp'), '{');
    // A batch folder with instances whose manifest cannot be read (a disk error, a hand edit).
    const broken = join(studies, 'batch-broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'a.dcm'), 'DICM');
    writeFileSync(join(broken, 'b.dcm'), 'DICM');
    writeFileSync(join(broken, 'entry.json'), '{ not json');

    // Batches journalled as sent whose folder removal was cut short: one with its manifest still
    // readable (the one that would be sent again), one whose entry.json went first.
    const sentBatch = join(studies, 'batch-sent');
    mkdirSync(sentBatch);
    writeFileSync(join(sentBatch, 'x.dcm'), 'DICM');
    writeFileSync(join(dir, 'sent', 'batch-sent.json'), JSON.stringify({ entryId: 'batch-sent' }));
    const sentWithManifest = join(studies, 'batch-sent-2');
    mkdirSync(sentWithManifest);
    const manifest = JSON.parse(readFileSync(join(studies, entryId, 'entry.json'), 'utf8'));
    writeFileSync(join(sentWithManifest, 'entry.json'), JSON.stringify({ ...manifest, entryId: 'batch-sent-2' }));
    writeFileSync(join(sentWithManifest, manifest.instances[0].file), 'DICM');
    writeFileSync(join(dir, 'sent', 'batch-sent-2.json'), JSON.stringify({ entryId: 'batch-sent-2' }));

    const again = await Spool.open(dir);
    try {
      expect(again.list().map((e) => [e.entryId, e.instances.length])).toEqual([[entryId, 1]]);
      expect(readdirSync(join(studies, entryId)).sort()).toEqual(['entry.json', again.list()[0]!.instances[0]!.file].sort());
      const [start] = readdirSync(join(dir, 'orphans', entryId));
      expect(readdirSync(join(dir, 'orphans', entryId, start!))).toEqual(['unlisted.dcm']);
      expect(existsSync(emptyBatch)).toBe(false);
      expect(existsSync(sentBatch)).toBe(false);
      expect(existsSync(sentWithManifest)).toBe(false);
      expect(readdirSync(broken).sort()).toEqual(['a.dcm', 'b.dcm', 'entry.json']);
      const status = await readSpoolStatus(dir);
      expect(status.unreadable).toEqual([{ id: 'batch-broken', files: 2 }]);
      expect(status.orphans).toEqual([{ id: entryId, files: 1 }]);
      const printed = formatStatus(status, dir).join('\n');
      expect(printed).toContain('studies/batch-broken  2 file(s)');
      expect(printed).toContain(`orphans/${entryId}  1 file(s)`);
    } finally {
      await again.close();
    }
  });

  it('gateway set-aside takes a pending batch out of sending, with the reason, deleting nothing; refusals say what to do', async () => {
    const { dir, spool, entryId } = await spoolWithOneBatch(7);
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const stopped = { stopped: Promise.resolve() };
    // While a gateway holds the spool: refused.
    expect(await runGatewayCommand(['set-aside', '--spool', dir, entryId, '--reason', 'x'], io, stopped)).toBe(2);
    expect(lines.pop()).toContain('is in use by another gateway');
    await spool.close();

    await expect(runGatewayCommand(['set-aside', '--spool', dir, entryId], io, stopped)).rejects.toBeInstanceOf(GatewayUsageError);
    expect(await runGatewayCommand(['set-aside', '--spool', dir, 'no-such-batch', '--reason', 'x'], io, stopped)).toBe(2);
    expect(lines.pop()).toContain('No pending batch no-such-batch');

    expect(await runGatewayCommand(['set-aside', '--spool', dir, entryId, '--reason', 'TeleRead holds this study in case-abc (compared)'], io, stopped)).toBe(0);
    expect(lines.pop()).toContain(`set aside batch ${entryId} (1 instance(s)`);
    expect(existsSync(join(dir, 'studies', entryId))).toBe(false);
    expect(readdirSync(join(dir, 'set-aside', entryId)).filter((f) => f.endsWith('.dcm'))).toHaveLength(1);
    const status = await readSpoolStatus(dir);
    expect(status.pending).toEqual([]);
    expect(status.setAside).toEqual([{ id: entryId, at: expect.any(String), reason: 'TeleRead holds this study in case-abc (compared)', instances: 1 }]);
    expect(formatStatus(status, dir).join('\n')).toContain(`set-aside/${entryId}  1 instance(s)`);
    // A restarted gateway does not send it.
    const again = await Spool.open(dir);
    expect(again.list()).toEqual([]);
    await again.close();
    // Moved back under studies/ by the operator: sent again, its note gone, nothing taken for an orphan.
    renameSync(join(dir, 'set-aside', entryId), join(dir, 'studies', entryId));
    const back = await Spool.open(dir);
    expect(back.list().map((e) => e.entryId)).toEqual([entryId]);
    expect(readdirSync(join(dir, 'studies', entryId))).not.toContain('set-aside.json');
    expect((await readSpoolStatus(dir)).orphans).toEqual([]);
    await back.close();
  });
});
