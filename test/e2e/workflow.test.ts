import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalString } from '../../shared/signing/canonical.ts';
import { syntheticCrDx, syntheticEcg } from '../../shared/synth/studies.ts';
import { Api, DEMO_PIN, SAMPLES, startTestServer, type TestServer } from '../support/local-server.ts';

const enc = new TextEncoder();

/** Re-attach the canonical payload to a detached compact JWS and verify it with jose against the JWKS. */
async function verifyDetached(report: unknown, jws: string, jwks: JSONWebKeySet) {
  const [h, , s] = jws.split('.');
  const payload = Buffer.from(enc.encode(canonicalString(report))).toString('base64url');
  return compactVerify(`${h}.${payload}.${s}`, createLocalJWKSet(jwks));
}

describe('the whole workflow through the HTTP API, three roles, real samples', () => {
  let srv: TestServer;
  let tech: Api;
  let otherTech: Api;
  let ecgReader: Api;
  let radReader: Api;
  let admin: Api;

  beforeAll(async () => {
    srv = await startTestServer();
    [tech, otherTech, ecgReader, radReader, admin] = await Promise.all([
      Api.login(srv.url, 'tech-a'),
      Api.login(srv.url, 'tech-b'),
      Api.login(srv.url, 'ecg-reader'),
      Api.login(srv.url, 'rad-reader'),
      Api.login(srv.url, 'admin'),
    ]);
  });
  afterAll(async () => srv?.close());

  const studies = [
    { file: 'ecg-12lead-mortara-explicit-le.dcm', pool: 'ecg', reader: () => ecgReader, modality: 'ECG' },
    { file: 'xray-cr-chest-16bit-uncompressed-explicit-le.dcm', pool: 'radiography', reader: () => radReader, modality: 'CR' },
    { file: 'xray-dx-8bit-uncompressed-highdicom.dcm', pool: 'radiography', reader: () => radReader, modality: 'DX' },
    { file: 'us-rgb-uncompressed-single-frame.dcm', pool: 'ultrasound', reader: () => radReader, modality: 'US' },
    { file: 'us-multiframe-30f-jpeg-baseline-ybr422.dcm', pool: 'ultrasound', reader: () => radReader, modality: 'US' },
  ];

  for (const s of studies) {
    it(`${s.file}: submission → upload → QUEUED in ${s.pool} → read → sign → delivered → acknowledged`, async () => {
      const bytes = new Uint8Array(readFileSync(join(SAMPLES, s.file)));
      const sub = await tech.submit([{ name: s.file, bytes }], { priority: 'urgent' });
      const queued = await tech.waitCase(sub.caseId, (c) => c.status !== 'AWAITING_FILES');
      expect(queued.status).toBe('QUEUED');
      expect(queued.pool).toBe(s.pool);
      expect(queued.modality).toBe(s.modality);
      expect(queued.timeline.AWAITING_FILES).toBeTruthy();
      expect(queued.timeline.QUEUED).toBeTruthy();
      expect(queued.study.instance.SOPInstanceUID).toMatch(/^[0-9.]+$/);
      if (s.pool === 'ecg') {
        expect(queued.ecg.advisory).toBe(true);
        expect(queued.ecg.measurements.heartRate).toBeGreaterThan(30);
      }

      // Another clinic cannot see it; a reader of another pool cannot either.
      expect((await otherTech.call('GET', `/api/cases/${sub.caseId}`)).status).toBe(404);
      const wrongReader = s.pool === 'ecg' ? radReader : ecgReader;
      expect((await wrongReader.call('GET', `/api/cases/${sub.caseId}`)).status).toBe(404);

      const reader = s.reader();
      const next = await reader.call('POST', '/api/reads/next', {});
      expect(next.status).toBe(200);
      expect(next.json.case.caseId).toBe(sub.caseId);
      expect(next.json.case.status).toBe('CLAIMED');
      expect(Date.parse(next.json.lease.expiresAt)).toBeGreaterThan(Date.now());

      const dicom = await fetch(`${srv.url}/api/cases/${sub.caseId}/instances/0`, { headers: { authorization: `Bearer ${reader.token}` } });
      expect(dicom.status).toBe(200);
      expect(Buffer.from(await dicom.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);

      expect((await reader.call('POST', `/api/reads/${sub.caseId}/heartbeat`)).status).toBe(200);
      const draft = await reader.call('PUT', `/api/cases/${sub.caseId}/report`, {
        findings: '所见：未见明显异常。',
        impression: '印象：正常。',
        critical: false,
      });
      expect(draft.status).toBe(200);
      expect((await reader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: '000000' })).json.error.code).toBe('SIGN.BAD_PIN');
      const signed = await reader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: DEMO_PIN });
      expect(signed.status).toBe(200);
      expect(signed.json.version).toBe(1);

      const delivered = await tech.waitCase(sub.caseId, (c) => c.status === 'DELIVERED');
      expect(delivered.report.version).toBe(1);
      const got = await tech.call('GET', `/api/cases/${sub.caseId}/report`);
      expect(got.status).toBe(200);
      expect(got.json.report.caseId).toBe(sub.caseId);
      expect(got.json.report.instances[0].sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(got.json.report.StudyInstanceUID).toBe(queued.study.study.StudyInstanceUID);

      const jwks = (await (await fetch(`${srv.url}/api/keys`)).json()) as JSONWebKeySet;
      const ok = await verifyDetached(got.json.report, got.json.jws, jwks);
      expect(ok.protectedHeader.alg).toBe('ES256');
      // Any change to the report breaks the signature.
      const tampered = { ...got.json.report, impression: got.json.report.impression + ' ' };
      await expect(verifyDetached(tampered, got.json.jws, jwks)).rejects.toThrow();
      const otherBytes = JSON.parse(JSON.stringify(got.json.report));
      otherBytes.instances[0].sha256 = otherBytes.instances[0].sha256.replace(/^./, (ch: string) => (ch === '0' ? '1' : '0'));
      await expect(verifyDetached(otherBytes, got.json.jws, jwks)).rejects.toThrow();

      const ack = await tech.call('POST', `/api/cases/${sub.caseId}/acknowledge`, {});
      expect(ack.status).toBe(200);
      expect(ack.json.status).toBe('ACKNOWLEDGED');
      const final = await admin.call('GET', `/api/cases/${sub.caseId}`);
      expect(Object.keys(final.json.timeline)).toEqual(['AWAITING_FILES', 'QUEUED', 'CLAIMED', 'SIGNED', 'DELIVERED', 'ACKNOWLEDGED']);
    });
  }

  it('a critical report needs a read-back to be acknowledged', async () => {
    const bytes = new Uint8Array(readFileSync(join(SAMPLES, 'ecg-12lead-eli250-explicit-le-cabolabs.dcm')));
    const sub = await tech.submit([{ name: 'ecg.dcm', bytes }], { priority: 'stat' });
    await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    const next = await ecgReader.call('POST', '/api/reads/next', {});
    expect(next.json.case.caseId).toBe(sub.caseId);
    expect((await ecgReader.call('GET', `/api/cases/${sub.caseId}/report/draft`)).status).toBe(404);
    await ecgReader.call('PUT', `/api/cases/${sub.caseId}/report`, { findings: '三度房室传导阻滞', impression: '危急值：三度房室传导阻滞', critical: true });
    const draft = await ecgReader.call('GET', `/api/cases/${sub.caseId}/report/draft`);
    expect(draft.json.body.impression).toBe('危急值：三度房室传导阻滞');
    expect((await radReader.call('GET', `/api/cases/${sub.caseId}/report/draft`)).status).toBe(404);
    expect((await ecgReader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: DEMO_PIN })).status).toBe(200);
    // The signed version is the record: the draft is gone.
    const afterSigning = await ecgReader.call('GET', `/api/cases/${sub.caseId}/report/draft`);
    expect([afterSigning.status, afterSigning.json.error.code]).toEqual([404, 'REPORT.NO_DRAFT']);
    await tech.waitCase(sub.caseId, (c) => c.status === 'DELIVERED');
    const delivered = await tech.call('GET', `/api/cases/${sub.caseId}`);
    expect(delivered.json.critical).toBe(true);
    expect(delivered.json.criticalResult).toMatchObject({ finding: '危急值：三度房室传导阻滞', readerId: 'ecg-reader', reportVersion: 1 });
    const noReadBack = await tech.call('POST', `/api/cases/${sub.caseId}/acknowledge`, {});
    expect(noReadBack.status).toBe(400);
    expect(noReadBack.json.error.code).toBe('ACK.READ_BACK_REQUIRED');
    const ok = await tech.call('POST', `/api/cases/${sub.caseId}/acknowledge`, { receivedBy: '值班医生 张三', readBack: '三度房室传导阻滞' });
    expect(ok.json.status).toBe('ACKNOWLEDGED');
    expect(ok.json.acknowledgement.readBack).toBe('三度房室传导阻滞');
    const notes = await tech.call('GET', '/api/notifications');
    expect(notes.json.items.some((n: { kind: string; caseId: string }) => n.kind === 'report.critical' && n.caseId === sub.caseId)).toBe(true);
  });

  it('a draft that cannot be discarded after signing does not fail the signature', async () => {
    const sub = await tech.submit([{ name: 'ecg.dcm', bytes: syntheticEcg({ seed: 515_151 }).bytes }]);
    await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    let next = await ecgReader.call('POST', '/api/reads/next', {});
    while (next.status === 200 && next.json.case.caseId !== sub.caseId) next = await ecgReader.call('POST', '/api/reads/next', {});
    expect(next.json.case.caseId).toBe(sub.caseId);
    const leaseId = next.json.lease.id as string;
    expect((await ecgReader.call('PUT', `/api/cases/${sub.caseId}/report`, { findings: '窦性心律', impression: '正常心电图', leaseId })).status).toBe(200);
    const cases = srv.sys.deps.cases;
    const discard = cases.discardDraft.bind(cases);
    cases.discardDraft = async () => {
      throw new Error('disk full');
    };
    try {
      const signed = await ecgReader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: DEMO_PIN, leaseId });
      expect(signed.status, signed.text).toBe(200);
      expect(signed.json.warnings).toEqual([]);
    } finally {
      cases.discardDraft = discard;
    }
    expect((await tech.waitCase(sub.caseId, (c) => c.status === 'DELIVERED')).report.version).toBe(1);
    // The draft stays behind (clutter, not a loss): the signed version holds the same text.
    const left = (await cases.getDraft(sub.caseId, 'ecg-reader'))?.body;
    expect(left).toMatchObject({ findings: '窦性心律', impression: '正常心电图' });
    expect(left).not.toHaveProperty('leaseId');
  });

  it('the consortium directory: clinics and pools for all, users without secrets for admins only', async () => {
    const mine = await tech.call('GET', '/api/consortium');
    expect(mine.json.clinics.map((c: { id: string }) => c.id)).toEqual(['clinic-a', 'clinic-b', 'clinic-c']);
    expect(mine.json.users).toBeUndefined();
    const all = await admin.call('GET', '/api/consortium');
    expect(all.json.users.map((u: { id: string }) => u.id)).toContain('rad-reader');
    expect(JSON.stringify(all.json)).not.toContain('argon2');
    expect((await new Api(srv.url).call('GET', '/api/consortium')).status).toBe(401);
  });

  it('priors: a patient\'s earlier cases, within the caller\'s scope', async () => {
    const bytes = new Uint8Array(readFileSync(join(SAMPLES, 'xray-cr-16x16-16bit-uncompressed-pydicom.dcm')));
    const sub = await tech.submit([{ name: 'cr.dcm', bytes }], { patient: { id: 'P-PRIOR-7', name: 'Prior' } });
    await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    const priors = await radReader.call('GET', '/api/cases?patientId=P-PRIOR-7');
    expect(priors.json.items.map((c: { caseId: string }) => c.caseId)).toEqual([sub.caseId]);
    expect((await ecgReader.call('GET', '/api/cases?patientId=P-PRIOR-7')).json.items).toEqual([]);
    expect((await otherTech.call('GET', '/api/cases?patientId=P-PRIOR-7')).json.items).toEqual([]);
  });

  it('files of different pools in one submission: REJECTED STUDY.MIXED_POOLS; each sent again alone is read (not a duplicate)', async () => {
    const ecg = syntheticEcg({ seed: 424_242 }).bytes;
    const cr = syntheticCrDx({ seed: 424_242, modality: 'CR', rows: 64, columns: 64 }).bytes;
    const mixed = await tech.submit([
      { name: 'ecg.dcm', bytes: ecg },
      { name: 'cr.dcm', bytes: cr },
    ]);
    const rejected = await tech.waitCase(mixed.caseId, (c) => c.status === 'REJECTED');
    expect(rejected.rejection.code).toBe('STUDY.MIXED_POOLS');
    expect(rejected.rejection.message).toMatch(/different reading pools/);
    // The rejected case is never read, so its images may be submitted again, each where it belongs.
    const again = await Promise.all([tech.submit([{ name: 'cr.dcm', bytes: cr }]), tech.submit([{ name: 'ecg.dcm', bytes: ecg }])]);
    const [crCase, ecgCase] = await Promise.all(again.map((a) => tech.waitCase(a.caseId, (c) => c.status === 'QUEUED')));
    expect([crCase.pool, ecgCase.pool]).toEqual(['radiography', 'ecg']);
    // A third submission of the same image, while the second case holds it, is the duplicate.
    const third = await tech.submit([{ name: 'cr.dcm', bytes: cr }]);
    const dup = await tech.waitCase(third.caseId, (c) => c.status === 'REJECTED');
    expect(dup.rejection.code).toBe('STUDY.DUPLICATE_INSTANCE');
  });

  it('a submission without consent is refused and nothing is created', async () => {
    const before = (await tech.call('GET', '/api/cases?limit=200')).json.items.length;
    const r = await tech.call('POST', '/api/submissions', {
      patient: { id: 'P1', name: 'X' },
      priority: 'routine',
      files: [{ name: 'a.dcm', size: 10 }],
    });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('REQUEST.INVALID');
    expect(r.json.error.message).toMatch(/consent/);
    const r2 = await tech.call('POST', '/api/submissions', {
      patient: { id: 'P1', name: 'X' },
      consent: { obtained: false },
      priority: 'routine',
      files: [{ name: 'a.dcm', size: 10 }],
    });
    expect(r2.status).toBe(400);
    expect((await tech.call('GET', '/api/cases?limit=200')).json.items.length).toBe(before);
  });

  it('the OpenAPI description lists every route of the API v1', async () => {
    const doc = (await (await fetch(`${srv.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const [m, p] of [
      ['post', '/api/auth/login'],
      ['post', '/api/submissions'],
      ['get', '/api/cases'],
      ['get', '/api/cases/{caseId}'],
      ['get', '/api/cases/{caseId}/instances/{n}'],
      ['post', '/api/reads/next'],
      ['post', '/api/reads/{caseId}/heartbeat'],
      ['post', '/api/reads/{caseId}/release'],
      ['put', '/api/cases/{caseId}/report'],
      ['post', '/api/cases/{caseId}/report/sign'],
      ['get', '/api/cases/{caseId}/report'],
      ['get', '/api/keys'],
      ['post', '/api/cases/{caseId}/acknowledge'],
    ] as const) {
      expect(doc.paths[p]?.[m], `${m} ${p}`).toBeTruthy();
    }
  });
});

describe('the ECG viewer route', () => {
  let srv: TestServer;
  afterAll(async () => srv?.close());

  it('GET …/instances/0/waveform answers calibrated leads in mV, and refuses images', async () => {
    srv = await startTestServer();
    const tech = await Api.login(srv.url, 'tech-a');
    const reader = await Api.login(srv.url, 'ecg-reader');
    const other = await Api.login(srv.url, 'tech-b');
    const sub = await tech.submit([{ name: 'ecg.dcm', bytes: new Uint8Array(readFileSync(join(SAMPLES, 'ecg-12lead-mortara-explicit-le.dcm'))) }]);
    await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    const w = await reader.call('GET', `/api/cases/${sub.caseId}/instances/0/waveform`);
    expect(w.status).toBe(200);
    expect(w.json.advisory).toBe(true);
    const rhythm = w.json.groups.find((g: { label: string }) => /RHYTHM/i.test(g.label));
    expect(rhythm.samplingFrequency).toBe(1000);
    expect(rhythm.leads.map((l: { name: string }) => l.name)).toEqual(['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6']);
    expect(rhythm.leads[1].mv).toHaveLength(10000);
    const peak = Math.max(...rhythm.leads[1].mv.map(Math.abs));
    expect(peak).toBeGreaterThan(0.3);
    expect(peak).toBeLessThan(10);
    expect(w.json.measurements.heartRate).toBeGreaterThan(40);
    expect((await other.call('GET', `/api/cases/${sub.caseId}/instances/0/waveform`)).status).toBe(404);
    const cr = await tech.submit([{ name: 'cr.dcm', bytes: new Uint8Array(readFileSync(join(SAMPLES, 'xray-cr-16x16-16bit-uncompressed-pydicom.dcm'))) }]);
    await tech.waitCase(cr.caseId, (c) => c.status === 'QUEUED');
    const notEcg = await tech.call('GET', `/api/cases/${cr.caseId}/instances/0/waveform`);
    expect(notEcg.status).toBe(400);
    expect(notEcg.json.error.code).toBe('INSTANCE.NOT_A_WAVEFORM');
  });
});
