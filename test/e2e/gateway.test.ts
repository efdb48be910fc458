/**
 * Issue 9, acceptance 1 (the door): a real TeleRead and the gateway; dcmtk's storescu/echoscu send
 * the real samples. Every accepted ECG / CR / DX / US sample becomes a case in the right pool,
 * unsupported objects are refused in the association, a malformed instance is answered with a
 * failure status and kept in quarantine, a study without consent attestation is held, and nothing
 * the gateway logs or prints carries PHI.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../../gateway/gateway.ts';
import { GATEWAY_IMPLEMENTATION_CLASS_UID } from '../../gateway/scp.ts';
import { HELD_DUPLICATE, HELD_NO_CONSENT } from '../../gateway/sender.ts';
import { readSpoolStatus, type SpoolStatus } from '../../gateway/spool.ts';
import { bytesSource, inspectInProcess } from '../../shared/dicom/inspector.ts';
import { main } from '../../local/cli.ts';
import { Api, SAMPLES, startTestServer, type TestServer } from '../support/local-server.ts';
import { samplePhi } from '../unit/dicom/support.ts';
import { captureLog, CONSENT, echoscu, gateway, gatewayConfig, storescu, tempDir, waitSpool, writeRules } from './gateway-support.ts';

/** Accepted samples, grouped by the storescu flag that proposes their transfer syntax. */
const ACCEPTED: Record<string, string[]> = {
  '': [
    'ecg-12lead-mortara-explicit-le.dcm',
    'ecg-12lead-eli250-implicit-le-ecgtoolkit.dcm',
    'ecg-12lead-eli250-explicit-le-cabolabs.dcm',
    'ecg-12lead-sop-single-channel-cabolabs.dcm',
    'xray-cr-chest-16bit-uncompressed-explicit-le.dcm',
    'xray-cr-16x16-16bit-uncompressed-pydicom.dcm',
    'xray-dx-8bit-uncompressed-highdicom.dcm',
    'us-rgb-uncompressed-single-frame.dcm',
    'us-rgb-explicit-big-endian-small.dcm',
  ],
  '-xd': ['ecg-hemodynamic-waveform-deflated-gemarquette.dcm'],
  '-xv': ['xray-dx-16bit-jpeg2000-lossless.dcm'],
  '-xs': ['xray-cr-16bit-jpeg-lossless-sv1.dcm'],
  '-xw': ['xray-cr-nema-rg3-jpeg2000-lossy.dcm', 'us-ybr-jpeg2000-lossy-single-frame-nema-us1.dcm'],
  '-xx': ['xray-cr-nema-rg2-jpeg-extended-12bit.dcm', 'us-ybr-jpeg-extended-single-frame.dcm'],
  '-xu': ['xray-cr-nema-rg2-jpegls-near-lossless.dcm'],
  '-xy': ['us-ybr-jpeg-baseline-single-frame-philips.dcm', 'us-multiframe-30f-jpeg-baseline-ybr422.dcm', 'us-multiframe-8f-jpeg-baseline-no-bot.dcm'],
  '-xr': ['us-palette-rle-single-frame.dcm', 'us-multiframe-10f-palette-rle-echo.dcm'],
};
const ALL_ACCEPTED = Object.values(ACCEPTED).flat();
const POOL: Record<string, string> = { ECG: 'ecg', CR: 'radiography', DX: 'radiography', US: 'ultrasound' };
const UNSUPPORTED = ['other-ct-small.dcm', 'other-mr-small.dcm', 'other-sr-structured-report.dcm', 'other-encapsulated-pdf.dcm', 'other-seg-liver-single-frame.dcm'];
const sample = (f: string) => join(SAMPLES, f);

describe('teleread gateway: the DICOM door', () => {
  let srv: TestServer;
  let gw: GatewayHandle;
  let spool: string;
  let admin: Api;
  let techA: Api;
  const log = captureLog();
  const phi = new Set<string>();

  beforeAll(async () => {
    srv = await startTestServer();
    const dir = tempDir('teleread-gw-');
    spool = join(dir, 'spool');
    const rules = writeRules(dir, {
      rules: [
        // A cart whose studies have no consent attestation: held, never sent.
        { match: { callingAeTitle: 'NO-CONSENT-CART' }, priority: 'urgent' },
        { match: { Modality: 'US' }, priority: 'urgent', clinicalNote: 'Abdominal pain (gateway rule)', consent: CONSENT },
        { match: {}, consent: CONSENT },
      ],
    });
    gw = await gateway(gatewayConfig({ api: srv.url, spool, rules }), { log });
    [admin, techA] = await Promise.all([Api.login(srv.url, 'admin'), Api.login(srv.url, 'tech-a')]);
    for (const f of [...ALL_ACCEPTED, 'bad-rows-cols-65535-tiny-file.dcm', 'bad-seq-delimiter-bytes-inside-j2k-fragment.dcm']) for (const p of samplePhi(readFileSync(sample(f)))) phi.add(p);
  });
  afterAll(async () => {
    await gw?.close();
    await srv?.close();
  });

  it('answers C-ECHO, and rejects an association addressed to another AE title', async () => {
    const ok = await echoscu(gw.port);
    expect(ok.code, ok.output).toBe(0);
    const wrong = await echoscu(gw.port, 'NOT-TELEREAD');
    expect(wrong.code).not.toBe(0);
    expect(wrong.output).toMatch(/Called AE Title Not Recognized/i);
  });

  it('turns every accepted ECG / CR / DX / US sample into a case in the right pool, exactly once', async () => {
    for (const [flag, files] of Object.entries(ACCEPTED)) {
      const r = await storescu(gw.port, files.map(sample), { flag });
      expect(r.code, `${flag} ${files.join(' ')}\n${r.output}`).toBe(0);
      expect(r.output).not.toMatch(/Store Failed/);
    }
    // One case per study (some samples share a StudyInstanceUID), each instance once (two samples
    // are the same SOP instance in two encodings: the later one replaces the earlier in the spool).
    const studies = new Map<string, string>();
    const instances = new Set<string>();
    for (const f of ALL_ACCEPTED) {
      const m = await inspectInProcess(bytesSource(new Uint8Array(readFileSync(sample(f)))));
      if (!m.ok) throw new Error(`${f}: ${m.code}`);
      studies.set(m.metadata.study.StudyInstanceUID, m.metadata.Modality);
      instances.add(m.metadata.instance.SOPInstanceUID);
    }
    const s = await waitSpool(spool, (x) => x.pending.length === 0 && x.sent.count >= studies.size, `${studies.size} studies sent`);
    expect(s.sent.count).toBe(studies.size);
    expect(s.sent.rejected).toBe(0);

    const sent = readdirSync(join(spool, 'sent')).map((f) => JSON.parse(readFileSync(join(spool, 'sent', f), 'utf8')));
    expect(sent.reduce((n, r) => n + r.instances, 0)).toBe(instances.size);
    const list = await admin.call('GET', '/api/cases?limit=200');
    expect(list.status).toBe(200);
    expect(list.json.items).toHaveLength(studies.size);
    const byPool: Record<string, number> = {};
    for (const r of sent) {
      const c = await techA.call('GET', `/api/cases/${r.caseId}`);
      expect(c.status).toBe(200);
      expect(c.json.status).toBe('QUEUED');
      expect(c.json.pool).toBe(POOL[c.json.modality]);
      expect(c.json.declaredFiles).toBe(r.instances);
      expect(c.json.priority).toBe(c.json.modality === 'US' ? 'urgent' : 'routine');
      byPool[c.json.pool] = (byPool[c.json.pool] ?? 0) + 1;
    }
    expect(Object.keys(byPool).sort()).toEqual(['ecg', 'radiography', 'ultrasound']);
    expect(new Set([...studies.values()].map((m) => POOL[m]))).toEqual(new Set(Object.keys(byPool)));

    // TeleRead stores the gateway's Part 10 file: preamble, 'DICM', the gateway's meta header, the device's syntax.
    const jpeg = sent.find((r) => r.bytes > 4_000_000)!; // the JPEG 2000 DX
    const inst = await techA.call('GET', `/api/cases/${jpeg.caseId}/instances/0`);
    expect(inst.status).toBe(200);
    const bytes = Buffer.from(inst.text, 'latin1');
    expect(bytes.subarray(128, 132).toString('latin1')).toBe('DICM');
    expect(inst.text).toContain(GATEWAY_IMPLEMENTATION_CLASS_UID);
    expect(inst.text).toContain('1.2.840.10008.1.2.4.90');
  });

  it('refuses CT, MR, SR, PDF and SEG in the association, and an SC of another modality with 0122', async () => {
    for (const f of UNSUPPORTED) {
      const r = await storescu(gw.port, [sample(f)]);
      expect(r.code, f).not.toBe(0);
      expect(r.output, f).toMatch(/No Acceptable Presentation Contexts|No presentation context/i);
    }
    // Proposed next to an accepted class, CT alone is refused; the CR goes through.
    const mixed = await storescu(gw.port, [sample('xray-cr-16x16-16bit-uncompressed-pydicom.dcm'), sample('other-ct-small.dcm')]);
    expect(mixed.output).toMatch(/No presentation context for: \(CT\)/);
    expect(mixed.output).toMatch(/Received Store Response \(Success\)/);
    // Secondary Capture is accepted as a class, but its content decides: modality OT is refused with 0122.
    const sc = await storescu(gw.port, [sample('bad-seq-delimiter-bytes-inside-j2k-fragment.dcm')], { flag: '-xw' });
    expect(sc.code).not.toBe(0);
    expect(sc.output).toMatch(/Received Store Response \(Refused: SOPClassNotSupported\)/);
    const q = (await readSpoolStatus(spool)).quarantined.find((x) => x.code === 'STUDY.UNSUPPORTED_MODALITY');
    expect(q?.status).toBe(0x0122);
  });

  it('answers a malformed instance with a failure status and keeps it in quarantine with its reason', async () => {
    const r = await storescu(gw.port, [sample('bad-rows-cols-65535-tiny-file.dcm')]);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/Received Store Response \(Error: DataSetDoesNotMatchSOPClass\)/i);
    const s = await readSpoolStatus(spool);
    const q = s.quarantined.find((x) => x.code === 'DICOM.INVALID_GEOMETRY');
    expect(q, JSON.stringify(s.quarantined)).toBeDefined();
    expect(q!.status).toBe(0xa900);
    expect(q!.callingAeTitle).toBe('MODALITY-1');
    const kept = readFileSync(join(spool, 'quarantine', q!.id, 'instance.dcm'));
    expect(kept.subarray(128, 132).toString('latin1')).toBe('DICM');
    expect(kept.length).toBe(q!.size);
  });

  it('holds a study whose rule gives no consent attestation, and says so in `gateway status`', async () => {
    // (Not the CR of the test before: its study may still be receiving, and a study is one batch.)
    const r = await storescu(gw.port, [sample('xray-dx-8bit-uncompressed-highdicom.dcm')], { aet: 'NO-CONSENT-CART' });
    expect(r.code, r.output).toBe(0);
    const s = await waitSpool(spool, (x) => x.pending.some((e) => e.held === HELD_NO_CONSENT), 'held for consent');
    const held = s.pending.find((e) => e.held === HELD_NO_CONSENT)!;
    expect(held.attempts).toBe(0);
    expect(held.submission).toBeUndefined();

    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['gateway', 'status', '--spool', spool], { out: (l) => out.push(l), err: (l) => err.push(l), fetch });
    expect(code, err.join('\n')).toBe(0);
    const text = out.join('\n');
    expect(text).toContain(`HELD: ${HELD_NO_CONSENT}`);
    expect(text).toMatch(/pending: \d+ stud/);
    expect(text).toMatch(/quarantined: 2/);
    expect(text).toContain('DICOM.INVALID_GEOMETRY');
    expect(text).toMatch(/sent: \d+/);
    expect(text).toContain('gateway running');

    // No patient name, id or birth date in the log, the status output or any spool path.
    const paths: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        paths.push(e.name);
        if (e.isDirectory()) walk(join(d, e.name));
      }
    };
    walk(spool);
    expect(phi.size).toBeGreaterThan(3);
    expect(log.lines.length).toBeGreaterThan(10);
    const everything = [...log.lines, text, ...paths].join('\n');
    // Whole-token matches; short all-digit ids ("204") are skipped: they occur in ports, sizes and hashes.
    const checked = [...phi].filter((p) => !/^\d{1,5}$/.test(p));
    expect(checked.length).toBeGreaterThan(3);
    for (const p of checked) {
      const token = new RegExp(`(?<![A-Za-z0-9])${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`);
      expect(everything, `PHI "${p}" leaked`).not.toMatch(token);
    }
  });

  it('a study sent again after it was delivered is held in the spool, not dropped, when TeleRead rejects it as a duplicate', async () => {
    const file = 'us-rgb-uncompressed-single-frame.dcm';
    expect(ACCEPTED['']).toContain(file);
    const dup = (x: SpoolStatus) => x.pending.filter((e) => e.held?.startsWith(HELD_DUPLICATE) ?? false);
    const before = dup(await readSpoolStatus(spool)).length;
    // The first test delivered it; the device sends it again (a new batch once the first was sent).
    const r = await storescu(gw.port, [sample(file)]);
    expect(r.code, r.output).toBe(0);
    const s = await waitSpool(spool, (x) => dup(x).length === before + 1, 'held as a duplicate');
    const held = dup(s).sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1)!;
    expect(held.instances).toHaveLength(1);
    const caseId = /\(case (case-[A-Za-z0-9_-]+)\)$/.exec(held.held!)![1]!;
    const c = (await admin.call('GET', `/api/cases/${caseId}`)).json;
    expect(c.status).toBe('REJECTED');
    expect(c.rejection.code).toBe('STUDY.DUPLICATE_INSTANCE');
  });

  it('`gateway status` of a folder that is not a spool is a usage error', async () => {
    const err: string[] = [];
    const dir = tempDir('not-a-spool-');
    expect(existsSync(join(dir, 'studies'))).toBe(false);
    expect(await main(['gateway', 'status', '--spool', dir], { out: () => undefined, err: (l) => err.push(l), fetch })).toBe(2);
    expect(err.join('\n')).toMatch(/not a gateway spool/);
  });
});
