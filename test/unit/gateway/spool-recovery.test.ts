/**
 * What a gateway finds in its spool after a crash: an empty batch folder goes; files its manifest does
 * not list (no C-STORE success was answered for them) are set aside under orphans/; a batch already
 * journalled as sent whose folder removal was cut short is removed, never sent again; a folder with
 * instances but no readable manifest is kept in place. `gateway status` lists what was kept.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatStatus } from '../../../gateway/cli.ts';
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

  it('removes what was never acknowledged, keeps what has no readable manifest and lists it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'teleread-spool-'));
    dirs.push(dir);
    const first = await Spool.open(dir);
    const temp = first.incomingPath();
    writeFileSync(temp, 'DICM');
    const { entryId } = await first.addInstance(temp, instance(1));
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

    // A batch journalled as sent whose folder removal was cut short (its entry.json already gone).
    const sentBatch = join(studies, 'batch-sent');
    mkdirSync(sentBatch);
    writeFileSync(join(sentBatch, 'x.dcm'), 'DICM');
    writeFileSync(join(dir, 'sent', 'batch-sent.json'), JSON.stringify({ entryId: 'batch-sent' }));

    const again = await Spool.open(dir);
    try {
      expect(again.list().map((e) => [e.entryId, e.instances.length])).toEqual([[entryId, 1]]);
      expect(readdirSync(join(studies, entryId)).sort()).toEqual(['entry.json', again.list()[0]!.instances[0]!.file].sort());
      expect(readdirSync(join(dir, 'orphans', entryId))).toEqual(['unlisted.dcm']);
      expect(existsSync(emptyBatch)).toBe(false);
      expect(existsSync(sentBatch)).toBe(false);
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
});
