import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { api } from 'dicomweb-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, SAMPLES, startTestServer, type TestServer } from '../support/local-server.ts';

const require = createRequire(import.meta.url);
// dicomweb-client speaks XMLHttpRequest; in Node the xhr2 package provides it.
(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = require('xhr2');

interface Rendered {
  width: number;
  height: number;
  pixels: ArrayBuffer;
}
type DicomImageCtor = new (elementsOrBuffer: Record<string, unknown> | ArrayBuffer, transferSyntaxUid?: string) => { render(o: { frame: number }): Rendered };
const imaging = require('dcmjs-imaging') as { DicomImage: DicomImageCtor; NativePixelDecoder: { initializeAsync(o: { webAssemblyModulePathOrUrl: string }): Promise<void> } };

/** Decode one returned frame on its own, as a single-frame image with the instance's pixel description. */
function decodeFrame(frame: Uint8Array, ts: string, d: { rows: number; columns: number; photometric: string }): Rendered {
  const elements = {
    Rows: d.rows,
    Columns: d.columns,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    SamplesPerPixel: 3,
    PixelRepresentation: 0,
    PlanarConfiguration: 0,
    PhotometricInterpretation: d.photometric,
    NumberOfFrames: 1,
    PixelData: [frame.slice().buffer],
  };
  return new imaging.DicomImage(elements, ts).render({ frame: 0 });
}
/** Frame n (1-based) of the original file, decoded by the same library. */
const decodeOriginal = (name: string, n: number) => new imaging.DicomImage(bytes(name).slice().buffer).render({ frame: n - 1 });

const CR = 'xray-cr-chest-16bit-uncompressed-explicit-le.dcm'; // 440×440, 16-bit, native
const US_JPEG = 'us-multiframe-30f-jpeg-baseline-ybr422.dcm'; // 30 frames 240×320, JPEG baseline
const US_J2K = 'us-ybr-jpeg2000-lossy-single-frame-nema-us1.dcm'; // 480×640, JPEG 2000
const DX_B = 'xray-dx-8bit-uncompressed-highdicom.dcm'; // clinic-b's study
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
const J2K = '1.2.840.10008.1.2.4.91';

const bytes = (name: string) => new Uint8Array(readFileSync(join(SAMPLES, name)));
const u8 = (b: ArrayBuffer | Uint8Array) => (b instanceof Uint8Array ? b : new Uint8Array(b));

type Json = Record<string, { vr: string; Value?: any[] }>;
const val = (j: Json, tag: string) => j[tag]?.Value?.[0];

let srv: TestServer;
const users: Record<string, Api> = {};
const uids: Record<string, { study: string; series: string; sop: string }> = {};

/** The calls used here, as the client documents them (its generated typings mark every option required). */
interface Dicomweb {
  searchForStudies(o?: { queryParams?: Record<string, string> }): Promise<unknown>;
  searchForSeries(o?: { studyInstanceUID?: string; queryParams?: Record<string, string> }): Promise<unknown>;
  searchForInstances(o?: { studyInstanceUID?: string; seriesInstanceUID?: string; queryParams?: Record<string, string> }): Promise<unknown>;
  retrieveInstance(o: { studyInstanceUID: string; seriesInstanceUID: string; sopInstanceUID: string }): Promise<unknown>;
  retrieveInstanceMetadata(o: { studyInstanceUID: string; seriesInstanceUID: string; sopInstanceUID: string }): Promise<unknown>;
  retrieveStudyMetadata(o: { studyInstanceUID: string }): Promise<unknown>;
  retrieveInstanceFrames(o: {
    studyInstanceUID: string;
    seriesInstanceUID: string;
    sopInstanceUID: string;
    frameNumbers: number[];
    mediaTypes?: Array<{ mediaType: string; transferSyntaxUID?: string }>;
  }): Promise<unknown>;
}

function client(who: string): Dicomweb {
  const options = { url: `${srv.url}/dicomweb`, headers: { Authorization: `Bearer ${users[who]!.token}` } };
  return new api.DICOMwebClient(options as ConstructorParameters<typeof api.DICOMwebClient>[0]) as unknown as Dicomweb;
}

async function get(who: string | null, path: string, accept?: string) {
  const r = await fetch(`${srv.url}${path}`, {
    headers: { ...(who ? { authorization: `Bearer ${users[who]!.token}` } : {}), ...(accept ? { accept } : {}) },
  });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: new Uint8Array(await r.arrayBuffer()) };
}
const jsonOf = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));

/** Split a multipart/related body by its boundary (independent of the client under test). */
function parts(type: string, body: Uint8Array): Array<{ headers: string; data: Uint8Array }> {
  const boundary = /boundary=("?)([^";]+)\1/.exec(type)![2]!;
  const buf = Buffer.from(body);
  const delim = Buffer.from(`--${boundary}`);
  const out: Array<{ headers: string; data: Uint8Array }> = [];
  let pos = buf.indexOf(delim);
  for (;;) {
    const after = pos + delim.length;
    if (buf.subarray(after, after + 2).toString() === '--') break;
    const headEnd = buf.indexOf('\r\n\r\n', after);
    const next = buf.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd);
    out.push({ headers: buf.subarray(after + 2, headEnd).toString(), data: new Uint8Array(buf.subarray(headEnd + 4, next)) });
    pos = next + 2;
  }
  return out;
}

/** Dimensions from a JPEG's SOFn segment. */
function jpegSize(b: Uint8Array): { rows: number; columns: number } | null {
  for (let i = 2; i + 9 < b.length; ) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    const len = (b[i + 2]! << 8) | b[i + 3]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return { rows: (b[i + 5]! << 8) | b[i + 6]!, columns: (b[i + 7]! << 8) | b[i + 8]! };
    i += 2 + len;
  }
  return null;
}

/** UIDs whose components have leading zeros (PS3.5 forbids them; devices in the field write them). */
const LEADING_ZERO = { study: '1.2.826.0.1.3680043.8.498.0012', series: '1.2.826.0.1.3680043.8.498.0012.01', sop: '1.2.826.0.1.3680043.8.498.0012.01.001' };
const LEADING_ZERO_CR = 'leading-zero-uids.dcm';
/** The CR sample with LEADING_ZERO's UIDs (dcmtk's dcmodify; the meta header follows the SOP Instance UID). */
function crWithLeadingZeroUids(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'teleread-uid-'));
  try {
    const f = join(dir, 'cr.dcm');
    writeFileSync(f, bytes(CR));
    execFileSync('dcmodify', ['-nb', '-m', `(0020,000D)=${LEADING_ZERO.study}`, '-m', `(0020,000E)=${LEADING_ZERO.series}`, '-m', `(0008,0018)=${LEADING_ZERO.sop}`, f]);
    return new Uint8Array(readFileSync(f));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const made: Record<string, Uint8Array> = {};

async function submitAndWait(who: string, file: string, patient: object) {
  const a = users[who]!;
  const sub = await a.submit([{ name: file, bytes: made[file] ?? bytes(file) }], { patient });
  await a.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
  const view = (await a.call('GET', `/api/cases/${sub.caseId}`)).json;
  uids[file] = { study: view.study.study.StudyInstanceUID, series: view.study.series.SeriesInstanceUID, sop: view.study.instance.SOPInstanceUID };
}

beforeAll(async () => {
  await imaging.NativePixelDecoder.initializeAsync({ webAssemblyModulePathOrUrl: require.resolve('dcmjs-imaging/build/dcmjs-native-codecs.wasm') });
  srv = await startTestServer();
  for (const u of ['tech-a', 'tech-b', 'rad-reader', 'ecg-reader', 'admin']) users[u] = await Api.login(srv.url, u);
  await submitAndWait('tech-a', CR, { id: 'P-DW-A1', name: 'Wang^Fang', sex: 'F', birthDate: '1980-02-03' });
  await submitAndWait('tech-a', US_JPEG, { id: 'P-DW-A2', name: 'Li^Lei' });
  await submitAndWait('tech-a', US_J2K, { id: 'P-DW-A3', name: 'Zhao^Min' });
  await submitAndWait('tech-b', DX_B, { id: 'P-DW-B1', name: 'Chen^Jie' });
}, 60_000);

afterAll(async () => {
  await srv?.close();
});

describe('QIDO-RS through dicomweb-client', () => {
  it('finds a study by PatientID and by PatientName wildcard, with the required study attributes', async () => {
    const byId = (await client('tech-a').searchForStudies({ queryParams: { PatientID: 'P-DW-A1' } })) as Json[];
    expect(byId).toHaveLength(1);
    const s = byId[0]!;
    expect(val(s, '0020000D')).toBe(uids[CR]!.study);
    expect(val(s, '00100010')).toEqual({ Alphabetic: 'Wang^Fang' });
    expect(val(s, '00100030')).toBe('19800203');
    expect(val(s, '00100040')).toBe('F');
    expect(s['00080061']!.Value).toEqual(['CR']);
    expect(val(s, '00201206')).toBe(1);
    expect(val(s, '00201208')).toBe(1);
    expect(val(s, '00081190')).toBe(`${srv.url}/dicomweb/studies/${uids[CR]!.study}`);
    for (const tag of ['00080020', '00080030', '00080050', '00200010']) expect(s[tag]).toBeDefined();

    const byName = (await client('tech-a').searchForStudies({ queryParams: { PatientName: 'wang*' } })) as Json[];
    expect(byName.map((x) => val(x, '0020000D'))).toEqual([uids[CR]!.study]);
    const byTag = (await client('tech-a').searchForStudies({ queryParams: { '00100020': 'P-DW-A2' } })) as Json[];
    expect(byTag.map((x) => val(x, '0020000D'))).toEqual([uids[US_JPEG]!.study]);
    // Wildcards anywhere, ? for one character; a pattern that backtracks exponentially as a RegExp
    // answers (empty) at once instead of holding the server.
    const inner = (await client('tech-a').searchForStudies({ queryParams: { PatientName: '*a?g^f*' } })) as Json[];
    expect(inner.map((x) => val(x, '0020000D'))).toEqual([uids[CR]!.study]);
    const evil = (await client('tech-a').searchForStudies({ queryParams: { PatientName: `${'*a'.repeat(14)}X` } })) as Json[];
    expect(evil).toEqual([]);
  });

  it('matches modalities, UID lists and date ranges; pages with limit and offset', async () => {
    const us = (await client('tech-a').searchForStudies({ queryParams: { ModalitiesInStudy: 'US' } })) as Json[];
    expect(us.map((x) => val(x, '0020000D')).sort()).toEqual([uids[US_JPEG]!.study, uids[US_J2K]!.study].sort());
    const list = `${uids[CR]!.study},${uids[US_J2K]!.study}`;
    const two = (await client('tech-a').searchForStudies({ queryParams: { StudyInstanceUID: list } })) as Json[];
    expect(two).toHaveLength(2);
    const all = (await client('tech-a').searchForStudies()) as Json[];
    expect(all).toHaveLength(3);
    // Sample dates: the JPEG cine 20160503, the JPEG 2000 image 20040826; the CR chest has none.
    const day = (await client('tech-a').searchForStudies({ queryParams: { StudyDate: '20160503' } })) as Json[];
    expect(day.map((x) => val(x, '0020000D'))).toEqual([uids[US_JPEG]!.study]);
    const closed = (await client('tech-a').searchForStudies({ queryParams: { StudyDate: '20040101-20041231' } })) as Json[];
    expect(closed.map((x) => val(x, '0020000D'))).toEqual([uids[US_J2K]!.study]);
    const from = (await client('tech-a').searchForStudies({ queryParams: { StudyDate: '20100101-' } })) as Json[];
    expect(from.map((x) => val(x, '0020000D'))).toEqual([uids[US_JPEG]!.study]);
    const until = (await client('tech-a').searchForStudies({ queryParams: { StudyDate: '-20100101' } })) as Json[];
    expect(until.map((x) => val(x, '0020000D'))).toEqual([uids[US_J2K]!.study]);
    const acc = (await client('tech-a').searchForStudies({ queryParams: { AccessionNumber: 'FUJI*' } })) as Json[];
    expect(acc.map((x) => val(x, '0020000D'))).toEqual([uids[CR]!.study]);
    const none = (await client('tech-a').searchForStudies({ queryParams: { StudyDate: '19000101-19000102' } })) as Json[];
    expect(none).toEqual([]);
    const page1 = (await client('tech-a').searchForStudies({ queryParams: { limit: '2' } })) as Json[];
    const page2 = (await client('tech-a').searchForStudies({ queryParams: { limit: '2', offset: '2' } })) as Json[];
    expect(page1).toHaveLength(2);
    expect(page2).toHaveLength(1);
    expect(new Set([...page1, ...page2].map((x) => val(x, '0020000D'))).size).toBe(3);
  });

  it('searches series and instances within a study and across studies', async () => {
    const c = client('tech-a');
    const series = (await c.searchForSeries({ studyInstanceUID: uids[CR]!.study })) as Json[];
    expect(series).toHaveLength(1);
    expect(val(series[0]!, '0020000E')).toBe(uids[CR]!.series);
    expect(val(series[0]!, '00080060')).toBe('CR');
    expect(val(series[0]!, '00201209')).toBe(1);
    const inst = (await c.searchForInstances({ studyInstanceUID: uids[CR]!.study, seriesInstanceUID: uids[CR]!.series })) as Json[];
    expect(inst.map((x) => val(x, '00080018'))).toEqual([uids[CR]!.sop]);
    expect(val(inst[0]!, '00080016')).toBe('1.2.840.10008.5.1.4.1.1.1');
    expect(val(inst[0]!, '00280010')).toBe(440);
    const usSeries = (await c.searchForSeries({ queryParams: { Modality: 'US' } })) as Json[];
    expect(usSeries.map((x) => val(x, '0020000E')).sort()).toEqual([uids[US_JPEG]!.series, uids[US_J2K]!.series].sort());
    const bySop = (await c.searchForInstances({ queryParams: { SOPInstanceUID: uids[US_J2K]!.sop } })) as Json[];
    expect(bySop).toHaveLength(1);
    expect(val(bySop[0]!, '0020000D')).toBe(uids[US_J2K]!.study);
  });

  it('answers 400 with a reason for unknown keys and bad values, 406 for XML, 200 [] for no match', async () => {
    const unknown = await get('tech-a', '/dicomweb/studies?FavouriteColour=blue');
    expect(unknown.status).toBe(400);
    expect(jsonOf(unknown.body).error.code).toBe('DICOMWEB.BAD_QUERY');
    expect(jsonOf(unknown.body).error.message).toMatch(/FavouriteColour/);
    const badDate = await get('tech-a', '/dicomweb/studies?StudyDate=2020');
    expect(badDate.status).toBe(400);
    expect(jsonOf(badDate.body).error.message).toMatch(/YYYYMMDD/);
    // A bad patient value is refused without being quoted back (PHI never goes into error texts).
    const longId = await get('tech-a', `/dicomweb/studies?PatientID=${'X'.repeat(300)}`);
    expect(longId.status).toBe(400);
    expect(longId.body.length).toBeLessThan(300);
    const seriesKeyOnStudies = await get('tech-a', '/dicomweb/studies?SOPInstanceUID=1.2.3');
    expect(seriesKeyOnStudies.status).toBe(400);
    const xml = await get('tech-a', '/dicomweb/studies', 'multipart/related; type="application/dicom+xml"');
    expect(xml.status).toBe(406);
    const empty = await get('tech-a', '/dicomweb/studies?PatientID=NOBODY', 'application/dicom+json');
    expect(empty.status).toBe(200);
    expect(empty.type).toMatch(/^application\/dicom\+json/);
    expect(jsonOf(empty.body)).toEqual([]);
    const fuzzy = await get('tech-a', '/dicomweb/studies?PatientName=WANG*&fuzzymatching=true&includefield=StudyDescription,00081030');
    expect(fuzzy.status).toBe(200);
    expect(jsonOf(fuzzy.body)).toHaveLength(1);
  });
});

describe('WADO-RS through dicomweb-client', () => {
  it('retrieves the instance byte-identical to the original', async () => {
    const got = await client('tech-a').retrieveInstance({ studyInstanceUID: uids[CR]!.study, seriesInstanceUID: uids[CR]!.series, sopInstanceUID: uids[CR]!.sop });
    expect(Buffer.from(u8(got as ArrayBuffer)).equals(Buffer.from(bytes(CR)))).toBe(true);
  });

  it('retrieves the whole header as DICOM JSON, without the pixel data', async () => {
    const m = (await client('rad-reader').retrieveInstanceMetadata({ studyInstanceUID: uids[CR]!.study, seriesInstanceUID: uids[CR]!.series, sopInstanceUID: uids[CR]!.sop })) as Json[];
    expect(m).toHaveLength(1);
    const j = m[0]!;
    expect(val(j, '00080018')).toBe(uids[CR]!.sop);
    expect(val(j, '0020000D')).toBe(uids[CR]!.study);
    expect(val(j, '00280010')).toBe(440);
    expect(j['00280010']!.vr).toBe('US');
    expect(val(j, '00280100')).toBe(16);
    expect(j['00100010']!.vr).toBe('PN');
    expect(typeof val(j, '00100010').Alphabetic).toBe('string');
    expect(val(j, '00020010')).toBe('1.2.840.10008.1.2.1');
    expect(j['7FE00010']).toBeUndefined();
    const study = (await client('tech-a').retrieveStudyMetadata({ studyInstanceUID: uids[US_JPEG]!.study })) as Json[];
    expect(study.map((x) => val(x, '00080018'))).toEqual([uids[US_JPEG]!.sop]);
    expect(val(study[0]!, '00280008')).toBe(30);
  });

  it('returns an uncompressed frame as exactly the pixel data bytes', async () => {
    const frames = (await client('tech-a').retrieveInstanceFrames({ studyInstanceUID: uids[CR]!.study, seriesInstanceUID: uids[CR]!.series, sopInstanceUID: uids[CR]!.sop, frameNumbers: [1] })) as ArrayBuffer[];
    expect(frames).toHaveLength(1);
    const orig = bytes(CR);
    // PixelData is the file's last element: 440 × 440 × 16 bits.
    const pixels = orig.subarray(orig.length - 440 * 440 * 2);
    expect(Buffer.from(u8(frames[0]!)).equals(Buffer.from(pixels))).toBe(true);
  });

  it('returns JPEG baseline frames as their exact bitstreams with the right dimensions', async () => {
    const frames = (await client('tech-a').retrieveInstanceFrames({
      studyInstanceUID: uids[US_JPEG]!.study,
      seriesInstanceUID: uids[US_JPEG]!.series,
      sopInstanceUID: uids[US_JPEG]!.sop,
      frameNumbers: [2, 30],
      mediaTypes: [{ mediaType: 'image/jpeg', transferSyntaxUID: JPEG_BASELINE }],
    })) as ArrayBuffer[];
    expect(frames).toHaveLength(2);
    const orig = Buffer.from(bytes(US_JPEG));
    const starts: number[] = [];
    for (const f of frames) {
      const b = u8(f);
      expect([b[0], b[1]]).toEqual([0xff, 0xd8]);
      expect(jpegSize(b)).toEqual({ rows: 240, columns: 320 });
      const at = orig.indexOf(Buffer.from(b));
      expect(at).toBeGreaterThan(0);
      starts.push(at);
    }
    expect(starts[1]).toBeGreaterThan(starts[0]!);
    // Each returned frame decodes on its own to the pixels of that frame of the original (and frames differ).
    expect(Buffer.from(decodeOriginal(US_JPEG, 2).pixels).equals(Buffer.from(decodeOriginal(US_JPEG, 30).pixels))).toBe(false);
    for (const [k, n] of [[0, 2], [1, 30]] as const) {
      const got = decodeFrame(u8(frames[k]!), JPEG_BASELINE, { rows: 240, columns: 320, photometric: 'YBR_FULL_422' });
      const want = decodeOriginal(US_JPEG, n);
      expect([got.width, got.height]).toEqual([320, 240]);
      expect(Buffer.from(got.pixels).equals(Buffer.from(want.pixels))).toBe(true);
    }
  });

  it('returns a JPEG 2000 frame as its codestream with the right dimensions', async () => {
    const frames = (await client('admin').retrieveInstanceFrames({
      studyInstanceUID: uids[US_J2K]!.study,
      seriesInstanceUID: uids[US_J2K]!.series,
      sopInstanceUID: uids[US_J2K]!.sop,
      frameNumbers: [1],
      mediaTypes: [{ mediaType: 'image/jp2', transferSyntaxUID: J2K }],
    })) as ArrayBuffer[];
    const b = u8(frames[0]!);
    expect([b[0], b[1], b[2], b[3]]).toEqual([0xff, 0x4f, 0xff, 0x51]); // SOC then SIZ
    const dv = new DataView(b.buffer, b.byteOffset);
    // SIZ: Lsiz(2) Rsiz(2) Xsiz(4) Ysiz(4) XOsiz(4) YOsiz(4)
    expect(dv.getUint32(8) - dv.getUint32(16)).toBe(640);
    expect(dv.getUint32(12) - dv.getUint32(20)).toBe(480);
    expect(Buffer.from(bytes(US_J2K)).indexOf(Buffer.from(b))).toBeGreaterThan(0);
    const got = decodeFrame(b, J2K, { rows: 480, columns: 640, photometric: 'YBR_ICT' });
    expect([got.width, got.height]).toEqual([640, 480]);
    expect(Buffer.from(got.pixels).equals(Buffer.from(decodeOriginal(US_J2K, 1).pixels))).toBe(true);
  });

  it('negotiates frame media types and refuses what it cannot produce', async () => {
    const p = `/dicomweb/studies/${uids[US_JPEG]!.study}/series/${uids[US_JPEG]!.series}/instances/${uids[US_JPEG]!.sop}/frames/1`;
    const uncompressed = await get('tech-a', p, 'multipart/related; type="application/octet-stream"');
    expect(uncompressed.status).toBe(406);
    expect(jsonOf(uncompressed.body).error.code).toBe('DICOMWEB.NOT_ACCEPTABLE');
    const any = await get('tech-a', p, 'multipart/related; type="application/octet-stream"; transfer-syntax=*');
    expect(any.status).toBe(200);
    const [part] = parts(any.type, any.body);
    expect(part!.headers).toMatch(/Content-Type: application\/octet-stream; transfer-syntax=1\.2\.840\.10008\.1\.2\.4\.50/);
    expect([part!.data[0], part!.data[1]]).toEqual([0xff, 0xd8]);
    const outOfRange = await get('tech-a', p.replace(/frames\/1$/, 'frames/31'), 'multipart/related; type="image/jpeg"');
    expect(outOfRange.status).toBe(404);
    expect(jsonOf(outOfRange.body).error.message).toMatch(/30 frame/);
    const zero = await get('tech-a', p.replace(/frames\/1$/, 'frames/0'));
    expect(zero.status).toBe(400);
  });

  it('retrieves a whole study as multipart/related application/dicom parts', async () => {
    const r = await get('rad-reader', `/dicomweb/studies/${uids[DX_B]!.study}`, 'multipart/related; type="application/dicom"');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^multipart\/related; type="application\/dicom"/);
    const ps = parts(r.type, r.body);
    expect(ps).toHaveLength(1);
    expect(Buffer.from(ps[0]!.data).equals(Buffer.from(bytes(DX_B)))).toBe(true);
    const transcode = await get('rad-reader', `/dicomweb/studies/${uids[DX_B]!.study}`, 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50');
    expect(transcode.status).toBe(406);
  });
});

describe('tenancy on DICOMweb', () => {
  it('hides another clinic’s studies from QIDO and answers 404 on WADO', async () => {
    const b = (await client('tech-b').searchForStudies()) as Json[];
    expect(b.map((x) => val(x, '0020000D'))).toEqual([uids[DX_B]!.study]);
    const probe = (await client('tech-b').searchForInstances({ queryParams: { SOPInstanceUID: uids[CR]!.sop } })) as Json[];
    expect(probe).toEqual([]);
    const a = uids[CR]!;
    const base = `/dicomweb/studies/${a.study}`;
    for (const path of [base, `${base}/metadata`, `${base}/series/${a.series}`, `${base}/series/${a.series}/instances/${a.sop}`, `${base}/series/${a.series}/instances/${a.sop}/metadata`, `${base}/series/${a.series}/instances/${a.sop}/frames/1`]) {
      const r = await get('tech-b', path);
      expect(r.status, path).toBe(404);
      expect(jsonOf(r.body).error.code, path).toBe('DICOMWEB.NOT_FOUND');
    }
    // The answer is the same as for a study that does not exist.
    const missing = await get('tech-b', '/dicomweb/studies/1.2.3.4.5/metadata');
    expect(missing.status).toBe(404);
    expect(jsonOf(missing.body)).toEqual(jsonOf((await get('tech-b', `${base}/metadata`)).body));
  });

  it('scopes readers to their pools and lets admins see all', async () => {
    const ecg = (await client('ecg-reader').searchForStudies()) as Json[];
    expect(ecg).toEqual([]);
    expect((await get('ecg-reader', `/dicomweb/studies/${uids[CR]!.study}/metadata`)).status).toBe(404);
    const rad = (await client('rad-reader').searchForStudies()) as Json[];
    expect(rad.map((x) => val(x, '0020000D')).sort()).toEqual(Object.values(uids).map((u) => u.study).sort());
    const admin = (await client('admin').searchForStudies()) as Json[];
    expect(admin).toHaveLength(4);
  });

  it('lists the DICOMweb routes in the OpenAPI description', async () => {
    const d = (await (await fetch(`${srv.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const p of ['/dicomweb/studies', '/dicomweb/studies/{StudyInstanceUID}/metadata', '/dicomweb/studies/{StudyInstanceUID}/series/{SeriesInstanceUID}/instances/{SOPInstanceUID}/frames/{frames}']) {
      expect(d.paths[p]?.get, p).toBeDefined();
    }
  });

  it('refuses anonymous callers with 401', async () => {
    for (const path of ['/dicomweb/studies', `/dicomweb/studies/${uids[CR]!.study}`, `/dicomweb/studies/${uids[CR]!.study}/metadata`]) {
      expect((await get(null, path)).status, path).toBe(401);
    }
  });
});

// Last: its study would change the counts the searches above expect.
describe('UIDs as devices write them', () => {
  it('finds and retrieves an instance whose UIDs have leading zeros, as stored', async () => {
    made[LEADING_ZERO_CR] = crWithLeadingZeroUids();
    await submitAndWait('tech-a', LEADING_ZERO_CR, { id: 'P-DW-A4', name: 'Sun^Li' });
    expect(uids[LEADING_ZERO_CR]).toEqual(LEADING_ZERO);
    const found = (await client('tech-a').searchForStudies({ queryParams: { StudyInstanceUID: LEADING_ZERO.study } })) as Json[];
    expect(found.map((j) => val(j, '0020000D'))).toEqual([LEADING_ZERO.study]);
    const got = await client('tech-a').retrieveInstance({ studyInstanceUID: LEADING_ZERO.study, seriesInstanceUID: LEADING_ZERO.series, sopInstanceUID: LEADING_ZERO.sop });
    expect(Buffer.from(u8(got as ArrayBuffer)).equals(Buffer.from(made[LEADING_ZERO_CR]!))).toBe(true);
  });
});
