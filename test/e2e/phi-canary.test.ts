import Database from 'better-sqlite3';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonLogger } from '../../shared/adapters/local/json-logger.ts';
import { Api, DEMO_PIN, SAMPLES, startTestServer, type TestServer } from '../support/local-server.ts';

const NAME = 'CANARY王芳Qx7';
const ID = 'CANARY-ID-83170';
const BIRTH = '1931-07-19';

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]));
}

describe('PHI never reaches logs, queue messages, object keys or error texts', () => {
  let srv: TestServer;
  const lines: string[] = [];
  /** Every queue message body as sent (consumed messages are deleted from the tables). */
  const sent: string[] = [];

  beforeAll(async () => {
    srv = await startTestServer({ log: new JsonLogger((l) => lines.push(l)) });
    for (const q of [srv.sys.deps.readQueue, srv.sys.deps.jobQueue] as { send: (...a: any[]) => Promise<unknown> }[]) {
      const send = q.send.bind(q);
      q.send = (queue: string, body: unknown, opts?: unknown) => {
        sent.push(JSON.stringify({ queue, body }));
        return send(queue, body, opts);
      };
    }
  });
  afterAll(async () => srv?.close());

  it('a full workflow plus bad inputs leaves no patient name, id or birth date anywhere but the case record', async () => {
    const tech = await Api.login(srv.url, 'tech-a');
    const reader = await Api.login(srv.url, 'ecg-reader');
    const patient = { id: ID, name: NAME, birthDate: BIRTH, sex: 'M' };
    const ok = await tech.submit([{ name: 'ecg.dcm', bytes: new Uint8Array(readFileSync(join(SAMPLES, 'ecg-12lead-mortara-explicit-le.dcm'))) }], { patient, priority: 'stat' });
    await tech.waitCase(ok.caseId, (c) => c.status === 'QUEUED');
    const next = await reader.call('POST', '/api/reads/next', {});
    await reader.call('PUT', `/api/cases/${next.json.case.caseId}/report`, { findings: 'f', impression: 'i' });
    await reader.call('POST', `/api/cases/${next.json.case.caseId}/report/sign`, { pin: DEMO_PIN });
    const bad = await tech.submit([{ name: 'x.pdf', bytes: new Uint8Array(readFileSync(join(SAMPLES, 'nondicom-ecg-printout.pdf'))) }], { patient });
    const rejected = await tech.waitCase(bad.caseId, (c) => c.status === 'REJECTED');
    // Error texts: a rejection, validation errors that carry the patient in the request.
    const errors = [
      JSON.stringify(rejected.rejection),
      (await tech.call('POST', '/api/submissions', { patient: { ...patient, birthDate: '19310719' }, consent: { obtained: true }, priority: 'routine', files: [{ name: 'a', size: 1 }] })).text,
      (await tech.call('POST', '/api/submissions', { patient: { id: ID, name: NAME }, consent: { obtained: false }, priority: 'routine', files: [] })).text,
      (await tech.call('POST', '/api/submissions', `{"patient":{"id":"${ID}","name":"${NAME}"`)).text,
    ];
    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(5);
    for (const canary of [NAME, ID, BIRTH, '王芳']) {
      expect(log).not.toContain(canary);
      for (const e of errors) expect(e).not.toContain(canary);
    }
    // Object keys: every stored file name under the data directory.
    const keys = walk(srv.dataDir).map((f) => relative(srv.dataDir, f));
    expect(keys.some((k) => k.includes('uploads/clinic-a'))).toBe(true);
    for (const k of keys) for (const canary of [NAME, ID, BIRTH]) expect(k).not.toContain(canary);
    // Queue messages (read and job queues) hold ids only.
    const db = new Database(join(srv.dataDir, 'teleread.db'), { readonly: true });
    try {
      const bodies = [
        ...(db.prepare('SELECT body FROM read_queue').all() as { body: string }[]),
        ...(db.prepare('SELECT body FROM job_queue').all() as { body: string }[]),
      ].map((r) => r.body);
      bodies.push(...sent);
      // A read message and a delivery job at least (uploads of this process are ingested in memory).
      expect(sent.some((m) => m.includes('"caseId"') && m.includes('.stat'))).toBe(true);
      expect(sent.some((m) => m.includes('"deliver"'))).toBe(true);
      for (const b of bodies) for (const canary of [NAME, ID, BIRTH]) expect(b).not.toContain(canary);
      const audit = (db.prepare('SELECT * FROM audit_log').all() as object[]).map((r) => JSON.stringify(r)).join('\n');
      for (const canary of [NAME, ID, BIRTH]) expect(audit).not.toContain(canary);
    } finally {
      db.close();
    }
  });
});
