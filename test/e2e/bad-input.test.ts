import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../support/fake-clock.ts';
import { Api, SAMPLES, startTestServer, type TestServer } from '../support/local-server.ts';

/** Every malformed or non-DICOM sample (MANIFEST.md e1, e2), the refusal it must get, and the empty HL7 aECG (f1). */
const EXPECTED: Record<string, string> = {
  'bad-claims-3gb-pixel-data-truncated.dcm': 'DICOM.PIXEL_DATA_TRUNCATED',
  'bad-deeply-nested-sequences.dcm': 'DICOM.TOO_DEEP',
  'bad-encapsulated-pixel-data-truncated.dcm': 'DICOM.PIXEL_DATA_TRUNCATED',
  'bad-header-only-no-patient-no-study.dcm': 'DICOM.MISSING_ATTRIBUTE',
  'bad-invalid-is-value-number-of-frames.dcm': 'DICOM.INVALID_VALUE',
  'bad-invalid-vr-blank.dcm': 'DICOM.INVALID_VR',
  'bad-meta-missing-transfer-syntax.dcm': 'DICOM.FILE_META_INVALID',
  'bad-meta-no-group-length-dcmjs.dcm': 'DICOM.PIXEL_DATA_MISSING',
  'bad-meta-no-group-length.dcm': 'DICOM.UNSUPPORTED_SOP_CLASS',
  'bad-missing-seq-delimiter-at-eof.dcm': 'DICOM.PIXEL_DATA_TRUNCATED',
  'bad-no-preamble-dicm-at-offset-128.dcm': 'DICOM.NO_PART10_HEADER',
  'bad-no-preamble-raw-dataset.dcm': 'DICOM.UNSUPPORTED_SOP_CLASS',
  'bad-private-sequence-wrong-length.dcm': 'DICOM.PIXEL_DATA_MISSING',
  'bad-rows-cols-65535-tiny-file.dcm': 'DICOM.INVALID_GEOMETRY',
  // Structurally valid DICOM whose JPEG 2000 codestream is broken; it is an NM image, refused by routing.
  'bad-seq-delimiter-bytes-inside-j2k-fragment.dcm': 'STUDY.UNSUPPORTED_MODALITY',
  'bad-truncated-inside-sequence-rtplan.dcm': 'DICOM.TRUNCATED',
  'bad-truncated-pixel-data-mr.dcm': 'DICOM.PIXEL_DATA_TRUNCATED',
  'bad-ts-mismatch-implicit-body-declared-jpeg.dcm': 'DICOM.TRANSFER_SYNTAX_MISMATCH',
  'nondicom-ecg-printout.pdf': 'FILE.NOT_DICOM',
  'nondicom-empty-file.dcm': 'FILE.EMPTY',
  'nondicom-gzipped-dicom.dcm.gz': 'FILE.NOT_DICOM',
  'nondicom-small-photo.jpeg': 'FILE.NOT_DICOM',
  'other-ct-small.dcm': 'STUDY.UNSUPPORTED_MODALITY',
  'other-mr-small.dcm': 'STUDY.UNSUPPORTED_MODALITY',
  'other-dicomdir.dcm': 'DICOM.UNSUPPORTED_SOP_CLASS',
  'other-encapsulated-pdf.dcm': 'DICOM.UNSUPPORTED_SOP_CLASS',
  'other-seg-liver-single-frame.dcm': 'DICOM.UNSUPPORTED_SOP_CLASS',
  'other-sr-structured-report.dcm': 'DICOM.UNSUPPORTED_SOP_CLASS',
  // HL7 aECG and SCP-ECG files are read as ECGs (test/e2e/aecg-scp.test.ts); an aECG without waveforms is refused.
  'aecg-empty-annotatedecg.xml': 'ECG.AECG_EMPTY',
};

describe('bad input: refused with a reason, nothing lost, nothing half-written', () => {
  let srv: TestServer;
  let tech: Api;
  const clock = new FakeClock();

  beforeAll(async () => {
    srv = await startTestServer({ clock });
    tech = await Api.login(srv.url, 'tech-a');
  });
  afterAll(async () => srv?.close());

  it('covers all 22 malformed and non-DICOM samples of the manifest', () => {
    const manifest = readFileSync(join(SAMPLES, 'MANIFEST.md'), 'utf8');
    const bad = new Set([...manifest.matchAll(/^\| `((?:bad|nondicom)-[^`]+)`/gm)].map((m) => m[1]!));
    expect(bad.size).toBe(22);
    for (const f of bad) expect(EXPECTED[f], f).toBeTruthy();
  });

  for (const [file, code] of Object.entries(EXPECTED)) {
    it(`${file} → REJECTED ${code}, original byte-identical in quarantine`, async () => {
      const bytes = new Uint8Array(readFileSync(join(SAMPLES, file)));
      const sub = await tech.submit([{ name: file, bytes }]);
      const c = await tech.waitCase(sub.caseId, (x) => x.status !== 'AWAITING_FILES').catch((e: Error) => e);
      const view = (await tech.call('GET', `/api/cases/${sub.caseId}`)).json;
      expect(view.status, String(c)).toBe('REJECTED');
      expect(view.rejection.code).toBe(code);
      expect(view.rejection.message.length).toBeGreaterThan(30);
      expect(view.files[0]).toMatchObject({ index: 0, outcome: 'rejected', code });
      const q = readFileSync(join(srv.dataDir, 'objects', 'quarantine', 'clinic-a', sub.submissionId, '0'));
      expect(Buffer.compare(q, Buffer.from(bytes))).toBe(0);
    });
  }

  it('wrong JSON, unknown fields of the wrong type, unknown ids → clear 4xx', async () => {
    const bad = await tech.call('POST', '/api/submissions', '{"patient":');
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('REQUEST.INVALID_JSON');
    const wrong = await tech.call('POST', '/api/submissions', { patient: { id: 5 }, consent: { obtained: true }, priority: 'soon', files: [] });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error.message).toMatch(/patient\.id/);
    expect(wrong.json.error.message).toMatch(/priority/);
    expect((await tech.call('GET', '/api/cases/case-doesnotexist01')).status).toBe(404);
    // A case id that tries to climb out (encoded so fetch keeps it in the path) is just an unknown case.
    expect((await tech.call('GET', '/api/cases/..%2F..%2Fetc%2Fpasswd')).status).toBe(404);
    // fetch normalises the dotted form to /etc/passwd: the web app's SPA route (its index.html once
    // web/dist is built, else 404/503), never the file.
    const dotted = await tech.call('GET', '/api/cases/../../etc/passwd');
    expect(dotted.text).not.toMatch(/root:/);
    expect((await tech.call('GET', '/api/nope')).json.error.code).toBe('ROUTE.NOT_FOUND');
  });

  it('tampered, expired and oversized uploads are refused and store nothing', async () => {
    const bytes = new Uint8Array(readFileSync(join(SAMPLES, 'xray-cr-16x16-16bit-uncompressed-pydicom.dcm')));
    const r = await tech.call('POST', '/api/submissions', {
      patient: { id: 'P2', name: 'N' },
      consent: { obtained: true },
      priority: 'routine',
      files: [{ name: 'a.dcm', size: bytes.length }, { name: 'b.dcm', size: bytes.length }],
    });
    const [u0, u1] = r.json.uploads as { url: string; headers: Record<string, string> }[];
    const tokenOf = (u: string) => u.split('/api/uploads/')[1]!;
    // Point upload 0's token at upload 1's key: the HMAC no longer matches.
    const [p0, mac0] = tokenOf(u0!.url).split('.');
    const payload = JSON.parse(Buffer.from(p0!, 'base64url').toString()) as { k: string };
    const forged = Buffer.from(JSON.stringify({ ...payload, k: payload.k.replace(/\/0$/, '/1') })).toString('base64url');
    const t1 = await fetch(`${srv.url}/api/uploads/${forged}.${mac0}`, { method: 'PUT', body: bytes });
    expect(t1.status).toBe(403);
    expect(((await t1.json()) as { error: { code: string } }).error.code).toBe('UPLOAD.INVALID_URL');
    // Bigger than declared.
    const big = new Uint8Array(bytes.length + 1);
    const t2 = await fetch(u0!.url, { method: 'PUT', body: big });
    expect(t2.status).toBe(413);
    expect(((await t2.json()) as { error: { code: string } }).error.code).toBe('UPLOAD.TOO_LARGE');
    // Nothing was stored by either.
    const view = await tech.call('GET', `/api/cases/${r.json.caseId}`);
    expect(view.json.status).toBe('AWAITING_FILES');
    expect(await srv.sys.deps.blobs.head(`uploads/clinic-a/${r.json.submissionId}/0`)).toBeNull();
    expect(await srv.sys.deps.blobs.head(`uploads/clinic-a/${r.json.submissionId}/1`)).toBeNull();
    // A good upload, then the same URL again → already received.
    expect((await fetch(u0!.url, { method: 'PUT', body: bytes })).status).toBe(201);
    const again = await fetch(u0!.url, { method: 'PUT', body: bytes });
    expect(again.status).toBe(409);
    // After the URL's expiry (5 minutes) it is refused.
    clock.advance(301_000);
    const late = await fetch(u1!.url, { method: 'PUT', body: bytes });
    expect(late.status).toBe(410);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe('UPLOAD.URL_EXPIRED');
    // Fresh targets for what has not arrived (file 1 only), bound to the declared size again.
    const other = await Api.login(srv.url, 'tech-b');
    expect((await other.call('POST', `/api/submissions/${r.json.submissionId}/uploads`)).status).toBe(404);
    const renewed = await tech.call('POST', `/api/submissions/${r.json.submissionId}/uploads`);
    expect(renewed.status).toBe(200);
    expect(renewed.json.uploads.map((u: { index: number }) => u.index)).toEqual([1]);
    expect(renewed.json.uploads[0].maxBytes).toBe(bytes.length);
    expect((await fetch(renewed.json.uploads[0].url, { method: 'PUT', body: bytes })).status).toBe(201);
    await tech.waitCase(r.json.caseId, (x) => x.status === 'QUEUED');
    expect((await tech.call('POST', `/api/submissions/${r.json.submissionId}/uploads`)).json.error.code).toBe('SUBMISSION.COMPLETE');
  });

  it('a declared file larger than the per-file limit is refused at submission', async () => {
    const r = await tech.call('POST', '/api/submissions', {
      patient: { id: 'P3', name: 'N' },
      consent: { obtained: true },
      priority: 'routine',
      files: [{ name: 'ok.dcm', size: 10 }, { name: 'WANG-FANG-chest.dcm', size: 3 * 1024 ** 3 }],
    });
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('SUBMISSION.FILE_TOO_LARGE');
    // Names the file by its number: file names often carry the patient's name.
    expect(r.json.error.message).toMatch(/^File 2 of the submission is 3221225472 bytes/);
    expect(r.text).not.toContain('WANG');
  });
});
