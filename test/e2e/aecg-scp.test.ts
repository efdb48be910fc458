import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, DEMO_PIN, SAMPLES, startTestServer, type TestServer } from '../support/local-server.ts';

/**
 * HL7 aECG (XML) and SCP-ECG (EN 1064) uploads are ECG studies end to end: accepted, routed to the
 * ecg pool with measurements, shown by the waveform viewer route, read and signed; the same file sent
 * again is a duplicate instance (their UIDs are a hash of the bytes).
 */
describe('HL7 aECG and SCP-ECG through the HTTP API', () => {
  let srv: TestServer;
  let tech: Api;
  let ecgReader: Api;

  beforeAll(async () => {
    srv = await startTestServer();
    [tech, ecgReader] = await Promise.all([Api.login(srv.url, 'tech-a'), Api.login(srv.url, 'ecg-reader')]);
  });
  afterAll(async () => srv?.close());

  const files = [
    { file: 'aecg-hl7-example-mortara.xml', source: 'hl7-aecg', sop: 'urn:hl7-org:v3:aECG', ts: 'application/xml' },
    { file: 'scpecg-12lead-example-ecgtoolkit.scp', source: 'scp-ecg', sop: 'EN1064:SCP-ECG', ts: 'SCP-ECG' },
  ];

  for (const f of files) {
    it(`${f.file}: QUEUED in ecg with measurements → 12-lead waveform route → read and signed`, async () => {
      const bytes = new Uint8Array(readFileSync(join(SAMPLES, f.file)));
      const sub = await tech.submit([{ name: f.file, bytes }], { priority: 'urgent' });
      const queued = await tech.waitCase(sub.caseId, (c) => c.status !== 'AWAITING_FILES');
      expect(queued.status, JSON.stringify(queued.rejection)).toBe('QUEUED');
      expect(queued.pool).toBe('ecg');
      expect(queued.modality).toBe('ECG');
      expect(queued.study.instance.SOPClassUID).toBe(f.sop);
      expect(queued.study.TransferSyntaxUID).toBe(f.ts);
      expect(queued.study.instance.SOPInstanceUID).toMatch(/^2\.25\.\d+$/);
      expect(queued.study.patient).toMatchObject({ id: 'SBJ-123', sex: 'M' });
      expect(queued.study.waveform.groups[0]).toMatchObject({ channels: 12, samples: 5000, samplingFrequency: 500 });
      expect(queued.ecg.advisory).toBe(true);
      expect(queued.ecg.measurements.heartRate).toBeGreaterThanOrEqual(60);
      expect(queued.ecg.measurements.heartRate).toBeLessThanOrEqual(85);

      const w = await ecgReader.call('GET', `/api/cases/${sub.caseId}/instances/0/waveform`);
      expect(w.status, w.text.slice(0, 300)).toBe(200);
      expect(w.json.source).toBe(f.source);
      const rhythm = w.json.groups.find((g: { label: string }) => /RHYTHM/i.test(g.label));
      expect(rhythm.samplingFrequency).toBe(500);
      expect(rhythm.leads.map((l: { name: string }) => l.name)).toEqual(['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6']);
      expect(rhythm.leads[1].mv).toHaveLength(5000);
      const peak = Math.max(...rhythm.leads[1].mv.map(Math.abs));
      expect(peak).toBeGreaterThan(0.3);
      expect(peak).toBeLessThan(10);
      expect(w.json.measurements.heartRate).toBeGreaterThan(60);
      expect(w.json.deviceMeasurements).toMatchObject({ qrsMs: 120, prMs: 148 });

      // The original bytes are what the instance route serves.
      const raw = await fetch(`${srv.url}/api/cases/${sub.caseId}/instances/0`, { headers: { authorization: `Bearer ${ecgReader.token}` } });
      expect(Buffer.from(await raw.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);

      const next = await ecgReader.call('POST', '/api/reads/next', {});
      expect(next.json.case.caseId).toBe(sub.caseId);
      expect((await ecgReader.call('PUT', `/api/cases/${sub.caseId}/report`, { findings: '窦性心律，QRS 120 ms。', impression: '室内传导延迟。', critical: false })).status).toBe(200);
      const signed = await ecgReader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: DEMO_PIN });
      expect(signed.status, signed.text.slice(0, 300)).toBe(200);
      await tech.waitCase(sub.caseId, (c) => c.status === 'DELIVERED');
      const got = await tech.call('GET', `/api/cases/${sub.caseId}/report`);
      expect(got.json.report.StudyInstanceUID).toBe(queued.study.study.StudyInstanceUID);

      // The same file sent again is the same instance: the second case is refused.
      const again = await tech.submit([{ name: `again-${f.file}`, bytes }]);
      const dup = await tech.waitCase(again.caseId, (c) => c.status !== 'AWAITING_FILES');
      expect(dup.status).toBe('REJECTED');
      expect(dup.rejection.code).toBe('STUDY.DUPLICATE_INSTANCE');
    });
  }

  it('the other aECG and SCP-ECG samples: accepted once, and the same file sent again → REJECTED STUDY.DUPLICATE_INSTANCE', async () => {
    for (const file of ['aecg-calecg2-amps.xml', 'scpecg-contec-ecg90a.scp']) {
      const bytes = new Uint8Array(readFileSync(join(SAMPLES, file)));
      const first = await tech.submit([{ name: file, bytes }]);
      const a = await tech.waitCase(first.caseId, (c) => c.status !== 'AWAITING_FILES');
      expect(a.status, `${file}: ${JSON.stringify(a.rejection)}`).toBe('QUEUED');
      expect(a.pool).toBe('ecg');
      expect(a.ecg.measurements.heartRate).toBeGreaterThan(30);
      const second = await tech.submit([{ name: `again-${file}`, bytes }]);
      const b = await tech.waitCase(second.caseId, (c) => c.status !== 'AWAITING_FILES');
      expect(b.status).toBe('REJECTED');
      expect(b.rejection.code).toBe('STUDY.DUPLICATE_INSTANCE');
      expect(b.files[0]).toMatchObject({ index: 0, outcome: 'rejected', code: 'STUDY.DUPLICATE_INSTANCE' });
    }
  });
});
