import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { api } from 'dicomweb-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeStaleStowStaging } from '../../shared/application/stow.ts';
import { syntheticCrDx, syntheticEcg, syntheticUltrasoundStream } from '../../shared/synth/index.ts';
import { Api, SAMPLES, startTestServer, type TestServer } from '../support/local-server.ts';

// dicomweb-client speaks XMLHttpRequest; in Node the xhr2 package provides it.
(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = createRequire(import.meta.url)('xhr2');

const ECG = 'ecg-12lead-mortara-explicit-le.dcm';
const DX = 'xray-dx-8bit-uncompressed-highdicom.dcm';
const US = 'us-ybr-jpeg-extended-single-frame.dcm';
const CR_16 = 'xray-cr-16x16-16bit-uncompressed-pydicom.dcm';
const BIG = 'xray-dx-16bit-jpeg2000-lossless.dcm'; // 4.1 MB: above this server's 2 MiB per-file limit
const TRUNCATED = 'bad-truncated-pixel-data-mr.dcm';
const PDF = 'nondicom-ecg-printout.pdf';
const NO_PATIENT_ID = 'us-rgb-explicit-big-endian-small.dcm';
const MAX_UPLOAD = 2 * 1024 * 1024;

const bytes = (name: string) => new Uint8Array(readFileSync(join(SAMPLES, name)));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

type Attr = { vr: string; Value?: any[] };
type Json = Record<string, Attr>;
const val = (j: Json, tag: string) => j[tag]?.Value?.[0];
const items = (j: Json, tag: string) => (j[tag]?.Value ?? []) as Json[];

const CONSENT = { 'X-TeleRead-Consent': 'obtained' };

let srv: TestServer;
const users: Record<string, Api> = {};

/** The calls used here; the package's .d.ts marks options as required that its code treats as optional. */
interface Client {
  storeInstances(o: { datasets: ArrayBuffer[]; studyInstanceUID?: string }): Promise<unknown>;
  searchForStudies(o?: { queryParams?: Record<string, string> }): Promise<unknown>;
  searchForInstances(o: { studyInstanceUID: string }): Promise<unknown>;
  retrieveInstance(o: { studyInstanceUID: string; seriesInstanceUID: string; sopInstanceUID: string }): Promise<unknown>;
  retrieveInstanceFrames(o: { studyInstanceUID: string; seriesInstanceUID: string; sopInstanceUID: string; frameNumbers: number[] }): Promise<unknown>;
}

function client(who: string, headers: Record<string, string> = CONSENT): Client {
  // verbose: false keeps the client from printing every refused request (the tests assert them).
  const options = { url: `${srv.url}/dicomweb`, verbose: false, singlepart: false, headers: { Authorization: `Bearer ${users[who]!.token}`, ...headers } };
  return new api.DICOMwebClient(options) as unknown as Client;
}

const ab = (b: Uint8Array) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

function multipart(parts: Uint8Array[], boundary = 'TeleRead-test-7f3a9c') {
  const chunks: Buffer[] = [];
  for (const p of parts) chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), Buffer.from(p), Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

async function stow(
  who: string | null,
  body: Uint8Array | string,
  opts: { contentType?: string; headers?: Record<string, string>; path?: string } = {},
) {
  const r = await fetch(`${srv.url}${opts.path ?? '/dicomweb/studies'}`, {
    method: 'POST',
    headers: {
      ...(who ? { authorization: `Bearer ${users[who]!.token}` } : {}),
      ...(opts.contentType ? { 'content-type': opts.contentType } : {}),
      ...(opts.headers ?? CONSENT),
    },
    body: body as Uint8Array<ArrayBuffer>,
  });
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type') ?? '', caseIds: (r.headers.get('x-teleread-case-ids') ?? '').split(',').filter(Boolean), json: text ? JSON.parse(text) : null };
}

async function stowParts(who: string, parts: Uint8Array[], opts: { headers?: Record<string, string>; path?: string } = {}) {
  const m = multipart(parts);
  return stow(who, m.body, { contentType: m.contentType, ...opts });
}

const view = async (caseId: string, who = 'tech-a') => (await users[who]!.call('GET', `/api/cases/${caseId}`)).json;

/** Cases of clinic-a and the staging area: a refused request must leave both as they were. */
async function footprint() {
  const cases = (await users['tech-a']!.call('GET', '/api/cases?limit=200')).json.items.length as number;
  return { cases, staged: stagedFiles() };
}

/** Files (temp files included) and per-request directories (stow/<clinic>/<request>/) under the staging prefix stow/. */
function stagedFiles(): string[] {
  const stowDir = join(srv.dataDir, 'objects', 'stow');
  if (!existsSync(stowDir)) return [];
  return readdirSync(stowDir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() || relative(stowDir, join(d.parentPath, d.name)).split(sep).length >= 2)
    .map((d) => relative(stowDir, join(d.parentPath, d.name)))
    .sort();
}

beforeAll(async () => {
  srv = await startTestServer({ settings: { maxUploadBytes: MAX_UPLOAD } });
  for (const u of ['tech-a', 'tech-b', 'rad-reader', 'ecg-reader', 'admin']) users[u] = await Api.login(srv.url, u);
}, 60_000);

afterAll(async () => {
  await srv?.close();
});

describe('STOW-RS with dicomweb-client', () => {
  it('stores an ECG and an X-ray in separate calls: each a QUEUED case in its pool, the answer parsed by the client', async () => {
    const note = '胸痛 2 小时，请尽快阅读';
    const ecgClient = client('tech-a', { ...CONSENT, 'X-TeleRead-Priority': 'urgent', 'X-TeleRead-Clinical-Note': encodeURIComponent(note) });
    const raw = await ecgClient.storeInstances({ datasets: [ab(bytes(ECG))] });
    const res = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Json;
    const ref = items(res, '00081199');
    expect(ref).toHaveLength(1);
    expect(res['00081198']).toBeUndefined();
    const sop = val(ref[0]!, '00081155') as string;
    expect(val(ref[0]!, '00081150')).toBe('1.2.840.10008.5.1.4.1.1.9.1.1');
    const url = val(ref[0]!, '00081190') as string;
    expect(url).toMatch(new RegExp(`^${srv.url}/dicomweb/studies/[0-9.]+/series/[0-9.]+/instances/${sop.replace(/\./g, '\\.')}$`));
    expect(val(res, '00081190')).toBe(url.replace(/\/series\/.*$/, ''));
    expect(val(ref[0]!, '00090010')).toBe('TELEREAD');
    const caseId = val(ref[0]!, '00091012') as string;
    const c = await view(caseId);
    expect(c).toMatchObject({ status: 'QUEUED', pool: 'ecg', priority: 'urgent', clinicalNote: note, declaredFiles: 1 });
    expect(c.patient.id.length).toBeGreaterThan(0);
    expect(c.study.instance.SOPInstanceUID).toBe(sop);
    expect(c.files).toEqual([{ index: 0, outcome: 'accepted' }]);
    // Stored byte for byte (the technician's own clinic may fetch it).
    const got = await fetch(`${srv.url}/api/cases/${caseId}/instances/0`, { headers: { authorization: `Bearer ${users['tech-a']!.token}` } });
    expect(sha(new Uint8Array(await got.arrayBuffer()))).toBe(sha(bytes(ECG)));

    const dx = (await client('tech-a').storeInstances({ datasets: [ab(bytes(DX))] })) as string;
    const dxRef = items(JSON.parse(dx) as Json, '00081199');
    expect(dxRef).toHaveLength(1);
    const dxCase = await view(val(dxRef[0]!, '00091012'));
    expect(dxCase).toMatchObject({ status: 'QUEUED', pool: 'radiography', priority: 'routine' });
    // Nothing is left in staging once the parts are filed.
    expect(stagedFiles()).toEqual([]);
  });

  it('groups the parts of one request by study: one case per study, the patient from the DICOM header', async () => {
    const a = syntheticCrDx({ seed: 101, studySeed: 900, modality: 'CR', rows: 64, columns: 64, instanceNumber: 1 });
    const b = syntheticCrDx({ seed: 102, studySeed: 900, modality: 'CR', rows: 64, columns: 64, instanceNumber: 2 });
    expect(a.metadata.StudyInstanceUID).toBe(b.metadata.StudyInstanceUID);
    const r = await stowParts('tech-a', [a.bytes, bytes(US), b.bytes]);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/dicom\+json/);
    expect(r.caseIds).toHaveLength(2);
    const ref = items(r.json, '00081199');
    expect(ref.map((x) => val(x, '00081155'))).toEqual([a.metadata.SOPInstanceUID, expect.any(String), b.metadata.SOPInstanceUID]);
    // Two studies: the top-level Retrieve URL is present but empty (type 2).
    expect(r.json['00081190']).toEqual({ vr: 'UR' });
    const crCase = await view(val(ref[0]!, '00091012'));
    expect(val(ref[2]!, '00091012')).toBe(crCase.caseId);
    expect(crCase).toMatchObject({ status: 'QUEUED', pool: 'radiography', declaredFiles: 2, patient: { id: a.metadata.PatientID } });
    const [alphabetic, ideographic = ''] = a.metadata.PatientName.split('=');
    expect(crCase.patient.name).toBe(ideographic ? ideographic.replace(/\^/g, '') : alphabetic!.replace(/\^/g, ' '));
    expect(crCase.files.map((f: { outcome: string }) => f.outcome)).toEqual(['accepted', 'accepted']);
    const usCase = await view(val(ref[1]!, '00091012'));
    expect(usCase).toMatchObject({ status: 'QUEUED', pool: 'ultrasound', declaredFiles: 1 });
    expect(new Set(r.caseIds)).toEqual(new Set([crCase.caseId, usCase.caseId]));
    for (const [i, want] of [a.bytes, b.bytes].entries()) {
      const stored = readFileSync(join(srv.dataDir, 'objects', 'uploads', 'clinic-a', crCase.submissionId, String(i)));
      expect(sha(stored)).toBe(sha(want));
    }
  });
});

describe('STOW-RS refuses what it cannot take, with a reason', () => {
  it('415 for another media type', async () => {
    const one = bytes(CR_16);
    for (const contentType of ['application/dicom', 'multipart/form-data; boundary=x', 'multipart/related; type="application/dicom+json"; boundary=x', '']) {
      const r = await stow('tech-a', one, { contentType });
      expect(r.status, contentType).toBe(415);
      expect(r.json.error.code).toBe('STOW.UNSUPPORTED_MEDIA_TYPE');
      expect(r.json.error.message).toContain('multipart/related; type="application/dicom"');
    }
  });

  it('400 for a broken multipart body, and nothing stored', async () => {
    const before = await footprint();
    const good = multipart([bytes(CR_16), bytes(DX)]);
    const cases: [string, Uint8Array | string, string][] = [
      ['MULTIPART.NO_BOUNDARY', good.body, 'multipart/related; type="application/dicom"'],
      ['MULTIPART.TRUNCATED', good.body.subarray(0, good.body.length - 30), good.contentType],
      ['MULTIPART.TRUNCATED', good.body.subarray(0, 3000), good.contentType],
      ['MULTIPART.NO_DELIMITER', 'this is not a multipart body at all', good.contentType],
      ['MULTIPART.EMPTY_PART', multipart([bytes(CR_16), new Uint8Array(0)]).body, good.contentType],
      ['STOW.NO_PARTS', '--TeleRead-test-7f3a9c--\r\n', good.contentType],
    ];
    for (const [code, body, contentType] of cases) {
      const r = await stow('tech-a', body, { contentType });
      expect(r.status, code).toBe(400);
      expect(r.json.error.code).toBe(code);
      expect(r.json.error.message.length).toBeGreaterThan(30);
    }
    expect(await footprint()).toEqual(before);
  });

  it('400 STOW.CONSENT_REQUIRED without the consent header, naming it; 400 for a bad priority', async () => {
    const m = multipart([bytes(CR_16)]);
    const none = await stow('tech-a', m.body, { contentType: m.contentType, headers: {} });
    expect(none.status).toBe(400);
    expect(none.json.error.code).toBe('STOW.CONSENT_REQUIRED');
    expect(none.json.error.message).toContain('X-TeleRead-Consent: obtained');
    const refused = await stow('tech-a', m.body, { contentType: m.contentType, headers: { 'X-TeleRead-Consent': 'refused' } });
    expect(refused.json.error.code).toBe('STOW.CONSENT_REQUIRED');
    const prio = await stow('tech-a', m.body, { contentType: m.contentType, headers: { ...CONSENT, 'X-TeleRead-Priority': 'asap' } });
    expect(prio.status).toBe(400);
    expect(prio.json.error.code).toBe('STOW.INVALID_PRIORITY');
  });

  it('only technicians of a clinic store: readers and admins 403, no token 401', async () => {
    const m = multipart([bytes(CR_16)]);
    for (const who of ['rad-reader', 'ecg-reader', 'admin']) {
      const r = await stow(who, m.body, { contentType: m.contentType });
      expect(r.status, who).toBe(403);
      expect(r.json.error.code).toBe('AUTH.FORBIDDEN_ROLE');
    }
    const anon = await stow(null, m.body, { contentType: m.contentType });
    expect(anon.status).toBe(401);
    await expect(client('rad-reader').storeInstances({ datasets: [ab(bytes(CR_16))] })).rejects.toMatchObject({ status: 403 });
  });

  it('unreadable parts: 409 with FailureReason and the TeleRead code; kept byte-identical as a REJECTED case', async () => {
    const r = await stowParts('tech-a', [bytes(TRUNCATED), bytes(PDF)]);
    expect(r.status).toBe(409);
    expect(r.json['00081199']).toBeUndefined();
    const failed = items(r.json, '00081198');
    expect(failed.map((f) => val(f, '00091010'))).toEqual(['DICOM.PIXEL_DATA_TRUNCATED', 'FILE.NOT_DICOM']);
    expect(failed.map((f) => val(f, '00081197'))).toEqual([0xc000, 0xc000]);
    for (const f of failed) expect((val(f, '00091011') as string).length).toBeGreaterThan(30);
    expect(r.caseIds).toHaveLength(1);
    expect(failed.map((f) => val(f, '00091012'))).toEqual([r.caseIds[0], r.caseIds[0]]);
    const c = await view(r.caseIds[0]!);
    expect(c.status).toBe('REJECTED');
    expect(c.rejection.code).toBe('DICOM.PIXEL_DATA_TRUNCATED');
    expect(c.files.map((f: { code: string }) => f.code)).toEqual(['DICOM.PIXEL_DATA_TRUNCATED', 'FILE.NOT_DICOM']);
    for (const [i, name] of [TRUNCATED, PDF].entries()) {
      const q = readFileSync(join(srv.dataDir, 'objects', 'quarantine', 'clinic-a', c.submissionId, String(i)));
      expect(Buffer.compare(q, Buffer.from(bytes(name))), name).toBe(0);
    }
    // Another clinic does not see it.
    expect((await users['tech-b']!.call('GET', `/api/cases/${c.caseId}`)).status).toBe(404);
  });

  it('a mix of good, unreadable, too large and unnamed parts: 202, each part with its own outcome', async () => {
    const r = await stowParts('tech-a', [bytes(CR_16), bytes(PDF), bytes(BIG), bytes(NO_PATIENT_ID)]);
    expect(r.status).toBe(202);
    const ref = items(r.json, '00081199');
    expect(ref).toHaveLength(1);
    const good = await view(val(ref[0]!, '00091012'));
    expect(good).toMatchObject({ status: 'QUEUED', pool: 'radiography' });
    const failed = items(r.json, '00081198');
    expect(failed.map((f) => [val(f, '00091010'), val(f, '00081197')])).toEqual([
      ['FILE.NOT_DICOM', 0xc000],
      ['STOW.PART_TOO_LARGE', 0xa700],
      ['STOW.PATIENT_MISSING', 0x0110],
    ]);
    // The unnamed instance was read: its UIDs are echoed so the sender knows which one failed.
    expect(val(failed[2]!, '00081155')).toMatch(/^[0-9.]+$/);
    expect(r.caseIds).toHaveLength(2);
    const rejected = await view(val(failed[0]!, '00091012'));
    expect(rejected).toMatchObject({ status: 'REJECTED', declaredFiles: 1 });
    expect(stagedFiles()).toEqual([]);
  });

  it('into a named study: parts of another study fail with A900', async () => {
    const a = syntheticCrDx({ seed: 201, studySeed: 950, modality: 'DX', rows: 32, columns: 32 });
    const other = syntheticCrDx({ seed: 202, studySeed: 951, modality: 'DX', rows: 32, columns: 32 });
    const r = await stowParts('tech-a', [a.bytes, other.bytes], { path: `/dicomweb/studies/${a.metadata.StudyInstanceUID}` });
    expect(r.status).toBe(202);
    expect(items(r.json, '00081199').map((x) => val(x, '00081155'))).toEqual([a.metadata.SOPInstanceUID]);
    const failed = items(r.json, '00081198');
    expect(failed.map((f) => [val(f, '00081155'), val(f, '00081197'), val(f, '00091010')])).toEqual([[other.metadata.SOPInstanceUID, 0xa900, 'STOW.STUDY_MISMATCH']]);
    const bad = await stowParts('tech-a', [a.bytes], { path: '/dicomweb/studies/not-a-uid' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('STOW.INVALID_STUDY_UID');
  });

  it('an instance TeleRead already holds fails as a duplicate (0111) instead of making a second readable case', async () => {
    const again = await stowParts('tech-a', [bytes(DX)]);
    expect(again.status).toBe(409);
    const failed = items(again.json, '00081198');
    expect(failed.map((f) => [val(f, '00091010'), val(f, '00081197')])).toEqual([['STUDY.DUPLICATE_INSTANCE', 0x0111]]);
  });
});

describe('STOW → QIDO → WADO round trip', () => {
  it('finds what was stored and retrieves it byte-identical, with frames that are its pixel data', async () => {
    const a = syntheticCrDx({ seed: 301, studySeed: 990, modality: 'CR', rows: 48, columns: 48 });
    const b = syntheticCrDx({ seed: 302, studySeed: 990, modality: 'CR', rows: 48, columns: 48 });
    const c = client('tech-a');
    await c.storeInstances({ datasets: [ab(a.bytes), ab(b.bytes)] });
    const found = (await c.searchForStudies({ queryParams: { StudyInstanceUID: a.metadata.StudyInstanceUID } })) as Json[];
    expect(found).toHaveLength(1);
    expect(val(found[0]!, '00201208')).toBe(2);
    const inst = (await c.searchForInstances({ studyInstanceUID: a.metadata.StudyInstanceUID })) as Json[];
    expect(inst.map((x) => val(x, '00080018')).sort()).toEqual([a.metadata.SOPInstanceUID, b.metadata.SOPInstanceUID].sort());
    for (const s of [a, b]) {
      const got = await c.retrieveInstance({ studyInstanceUID: s.metadata.StudyInstanceUID, seriesInstanceUID: s.metadata.SeriesInstanceUID, sopInstanceUID: s.metadata.SOPInstanceUID });
      expect(sha(new Uint8Array(got as ArrayBuffer))).toBe(sha(s.bytes));
      // The frame is the native pixel data itself: 48 × 48 16-bit samples, the last element of the file.
      const [frame] = (await c.retrieveInstanceFrames({
        studyInstanceUID: s.metadata.StudyInstanceUID,
        seriesInstanceUID: s.metadata.SeriesInstanceUID,
        sopInstanceUID: s.metadata.SOPInstanceUID,
        frameNumbers: [1],
      })) as ArrayBuffer[];
      const f = new Uint8Array(frame!);
      expect(f.byteLength).toBe(48 * 48 * 2);
      expect(Buffer.from(f).equals(Buffer.from(s.bytes.subarray(s.bytes.length - f.byteLength)))).toBe(true);
    }
    // Tenancy: another clinic neither finds nor fetches it.
    expect(await client('tech-b').searchForStudies({ queryParams: { StudyInstanceUID: a.metadata.StudyInstanceUID } })).toEqual([]);
  });
});

describe('STOW-RS staging after a crash', () => {
  it('parts a dead request left in staging are removed once old enough, nothing else', async () => {
    const deps = srv.sys.deps;
    await deps.blobs.put('stow/clinic-a/stow-crashed0001/0', bytes(CR_16));
    expect(await removeStaleStowStaging(deps, 3600)).toBe(0);
    expect(stagedFiles()).toEqual(['clinic-a/stow-crashed0001', 'clinic-a/stow-crashed0001/0']);
    const uploadsBefore = (await deps.blobs.list('uploads/')).length;
    expect(await removeStaleStowStaging(deps, 0)).toBe(1);
    expect(stagedFiles()).toEqual([]);
    expect((await deps.blobs.list('uploads/')).length).toBe(uploadsBefore);
  });
});

describe('STOW-RS documentation and streaming', () => {
  it('the OpenAPI description lists the STOW routes with their X-TeleRead-* headers', async () => {
    const doc = (await (await fetch(`${srv.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { parameters?: { name: string; in: string; required: boolean }[] }>> };
    for (const path of ['/dicomweb/studies', '/dicomweb/studies/{study}']) {
      const params = doc.paths[path]?.post?.parameters ?? [];
      expect(params.find((p) => p.name === 'X-TeleRead-Consent')).toMatchObject({ in: 'header', required: true });
      expect(params.map((p) => p.name)).toEqual(expect.arrayContaining(['X-TeleRead-Priority', 'X-TeleRead-Clinical-Note', 'X-TeleRead-Consent-Recorded-By']));
    }
  });

  it('streams a large cine to storage without holding it in memory, byte for byte', async () => {
    // Its own server: the shared one caps files at 2 MiB.
    const big = await startTestServer();
    const dir = mkdtempSync(join(tmpdir(), 'teleread-stow-'));
    try {
      const tech = await Api.login(big.url, 'tech-a');
      const cine = syntheticUltrasoundStream({ seed: 7, frames: 520, rows: 480, columns: 640 });
      const size = cine.metadata.sizeBytes;
      expect(size).toBeGreaterThan(150 * 1024 * 1024);
      const boundary = 'cine-boundary-42';
      const file = join(dir, 'body');
      const hash = createHash('sha256');
      const out = createWriteStream(file);
      out.write(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
      await cine.writeTo(async (chunk) => {
        hash.update(chunk);
        if (!out.write(Buffer.from(chunk))) await once(out, 'drain');
      });
      out.write(`\r\n--${boundary}--\r\n`);
      await new Promise((r) => out.end(r));

      // The client runs in its own process, so this process's memory is the server's alone.
      const client = `const {createReadStream}=require('node:fs');const {Readable}=require('node:stream');
        fetch(process.argv[1],{method:'POST',duplex:'half',headers:JSON.parse(process.argv[2]),body:Readable.toWeb(createReadStream(process.argv[3]))})
          .then(async (r)=>{process.stdout.write(JSON.stringify({status:r.status,body:await r.text()}))},(e)=>{console.error(e);process.exit(1)})`;
      const headers = { authorization: `Bearer ${tech.token}`, 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, ...CONSENT };
      const mem = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
      const base = mem();
      let peak = base;
      const sampler = setInterval(() => (peak = Math.max(peak, mem())), 5);
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', client, `${big.url}/dicomweb/studies`, JSON.stringify(headers), file], { maxBuffer: 1 << 20 });
      clearInterval(sampler);
      const res = JSON.parse(stdout) as { status: number; body: string };
      expect(res.status).toBe(200);
      // A part held whole would add its full size; streamed, the server holds a few chunks.
      expect(peak - base).toBeLessThan(size / 3);
      const caseId = val(items(JSON.parse(res.body) as Json, '00081199')[0]!, '00091012') as string;
      const c = (await tech.call('GET', `/api/cases/${caseId}`)).json;
      expect(c).toMatchObject({ status: 'QUEUED', pool: 'ultrasound' });
      const stored = createHash('sha256');
      for await (const chunk of createReadStream(join(big.dataDir, 'objects', 'uploads', 'clinic-a', c.submissionId, '0'))) stored.update(chunk as Buffer);
      expect(stored.digest('hex')).toBe(hash.digest('hex'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await big.close();
    }
  }, 60_000);
});

describe('STOW-RS does each part\'s work once', () => {
  it('an ECG part is inspected (and its 12 leads analysed) once, not again by ingest; its staging directory goes', async () => {
    const inspector = srv.sys.deps.inspector;
    const inspect = inspector.inspect.bind(inspector);
    let calls = 0;
    inspector.inspect = (src) => (calls++, inspect(src));
    try {
      const ecg = syntheticEcg({ seed: 4242 }).bytes;
      const { body, contentType } = multipart([ecg]);
      const r = await stow('tech-a', body, { contentType });
      expect(r.status).toBe(200);
      expect(calls).toBe(1);
      expect(stagedFiles().filter((p) => p.split('/').length >= 2)).toEqual([]);
    } finally {
      inspector.inspect = inspect;
    }
  });
});

describe('STOW-RS that fails after its case was created', () => {
  it('closes that case (STOW.FILING_FAILED) so that sending the study again files it, instances taken over', async () => {
    const cases = srv.sys.deps.cases;
    const putFileOutcome = cases.putFileOutcome.bind(cases);
    let failures = 1;
    cases.putFileOutcome = async (o) => {
      if (failures-- > 0) throw new Error('disk trouble (test)');
      return putFileOutcome(o);
    };
    const ecg = syntheticEcg({ seed: 4343 }).bytes;
    const { body, contentType } = multipart([ecg]);
    try {
      const failed = await stow('tech-a', body, { contentType });
      // PS3.18: every instance failed → 409, each with its reason; TeleRead's code in the private block.
      expect(failed.status).toBe(409);
      expect(JSON.stringify(failed.json)).toContain('STOW.FILING_FAILED');
    } finally {
      cases.putFileOutcome = putFileOutcome;
    }
    const list = (await users['tech-a']!.call('GET', '/api/cases?limit=200')).json.items as { caseId: string; status: string }[];
    const closed = await Promise.all(list.map(async (c) => (await users['tech-a']!.call('GET', `/api/cases/${c.caseId}`)).json));
    const first = closed.find((c) => c.rejection?.code === 'STOW.FILING_FAILED');
    expect(first).toMatchObject({ status: 'REJECTED' });
    const again = await stow('tech-a', body, { contentType });
    expect(again.status).toBe(200);
  });
});
