/**
 * A small upload is ingested from the bytes the upload route has just received (no HEAD, no read
 * back from disk); a large one is read back from the blob store as before. Either way the case is
 * the same, and the stored object is the one the SHA-256 describes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonLogger } from '../../shared/adapters/local/json-logger.ts';
import { durabilityStats } from '../../shared/adapters/local/sqlite.ts';
import { syntheticEcg } from '../../shared/synth/studies.ts';
import { Api, SAMPLES, startTestServer, type TestServer } from '../support/local-server.ts';

let srv: TestServer;
let tech: Api;
const calls = { head: 0, readRange: 0 };

beforeAll(async () => {
  srv = await startTestServer();
  const blobs = srv.sys.deps.blobs;
  const head = blobs.head.bind(blobs);
  const readRange = blobs.readRange.bind(blobs);
  blobs.head = (key) => (calls.head++, head(key));
  blobs.readRange = (key, o, l) => (calls.readRange++, readRange(key, o, l));
  tech = await Api.login(srv.url, 'tech-a');
});
afterAll(async () => srv?.close());

async function ingestCalls(file: string) {
  const bytes = new Uint8Array(readFileSync(join(SAMPLES, file)));
  calls.head = 0;
  calls.readRange = 0;
  const sub = await tech.submit([{ name: file, bytes }]);
  const c = await tech.waitCase(sub.caseId, (x) => x.status === 'QUEUED');
  return { c, bytes, ...calls };
}

describe('ingest of what the upload route has just received', () => {
  it('a small ECG is inspected from memory: the only HEAD is the route refusing a second upload', async () => {
    const r = await ingestCalls('ecg-12lead-mortara-explicit-le.dcm');
    expect(r.bytes.length).toBeLessThan(1024 * 1024);
    expect(r.readRange).toBe(0);
    expect(r.head).toBe(1);
    expect(r.c.modality).toBe('ECG');
  });

  it("ingest's writes share the unit of work's fsync: most durability waits are deferred", async () => {
    const before = durabilityStats(srv.sys.db)!;
    await ingestCalls('ecg-12lead-eli250-explicit-le-cabolabs.dcm');
    const after = durabilityStats(srv.sys.db)!;
    const requests = after.requests - before.requests;
    const deferred = after.deferred - before.deferred;
    // Submission (case, audit) and ingest (instance, projection, outcome, QUEUED, read message, its
    // confirmation) write inside units; the status polls' audit entries do not.
    expect(deferred).toBeGreaterThanOrEqual(8);
    expect(after.fsyncs - before.fsyncs).toBeLessThan(requests - deferred + 4);
  });

  it('a file over 1 MiB is read back from the blob store', async () => {
    const r = await ingestCalls('xray-dx-16bit-jpeg2000-lossless.dcm');
    expect(r.bytes.length).toBeGreaterThan(1024 * 1024);
    expect(r.readRange).toBeGreaterThan(0);
  });
});

/** Declare a submission of one ECG file without uploading it (the tests send the bytes themselves). */
const declareOne = (api: Api, patientId: string, size: number) =>
  api.call('POST', '/api/submissions', {
    patient: { id: patientId, name: 'Test^Patient', sex: 'F', birthDate: '1970-01-01' },
    consent: { obtained: true },
    priority: 'routine',
    files: [{ name: 'ecg.dcm', size }],
  });

describe('one upload per target at a time, the newest winning', () => {
  it('a retry while the first PUT still hangs on a dead connection replaces it: the first is cut, the retry stored', async () => {
    const bytes = syntheticEcg({ seed: 20261123 }).bytes;
    const r = await declareOne(tech, 'P-TEST-0002', bytes.length);
    expect(r.status).toBe(201);
    const u = r.json.uploads[0] as { url: string; headers: Record<string, string> };
    // The first body sends half of the file, then nothing more: a connection gone quiet.
    const stalled = new ReadableStream<Uint8Array>({
      start(ctrl) {
        ctrl.enqueue(bytes.slice(0, bytes.length >> 1));
      },
    });
    const first = fetch(u.url, { method: 'PUT', headers: u.headers, body: stalled, duplex: 'half' } as RequestInit).then(
      async (res) => ({ status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code }),
      () => ({ status: 0, code: 'connection closed' }),
    );
    await new Promise((res) => setTimeout(res, 100));
    const retry = await fetch(u.url, { method: 'PUT', headers: u.headers, body: bytes as Uint8Array<ArrayBuffer> });
    expect(retry.status).toBe(201);
    const f = await first;
    expect([409, 0]).toContain(f.status);
    if (f.status === 409) expect(f.code).toBe('UPLOAD.SUPERSEDED');
    // Once it is in, a repeat is told so; and the case has the retry's bytes.
    const again = await fetch(u.url, { method: 'PUT', headers: u.headers, body: bytes as Uint8Array<ArrayBuffer> });
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('UPLOAD.ALREADY_RECEIVED');
    await tech.waitCase(r.json.caseId, (x) => x.status === 'QUEUED');
    const key = `uploads/clinic-a/${r.json.submissionId}/0`;
    expect(await srv.sys.deps.blobs.head(key)).toMatchObject({ size: bytes.length });
    // No temp file of the aborted upload is left behind (the store's listing would hide one).
    expect(readdirSync(join(srv.dataDir, 'objects', 'uploads', 'clinic-a', r.json.submissionId))).toEqual(['0']);
  });
});

describe('a client that goes silent', () => {
  it('is cut after the idle limit, not after a whole-request deadline: a slow but steady upload goes through', async () => {
    const IDLE = 1000;
    const logged: string[] = [];
    const quiet = await startTestServer({ idleBodyMs: IDLE, log: new JsonLogger((l) => logged.push(l)) });
    try {
      const api = await Api.login(quiet.url, 'tech-a');
      const bytes = syntheticEcg({ seed: 20261124 }).bytes;
      const r = await declareOne(api, 'P-TEST-0003', bytes.length);
      const u = r.json.uploads[0] as { url: string; headers: Record<string, string> };
      const t0 = Date.now();
      const stalled = new ReadableStream<Uint8Array>({
        start(ctrl) {
          ctrl.enqueue(bytes.slice(0, 1000));
        },
      });
      const first = await fetch(u.url, { method: 'PUT', headers: u.headers, body: stalled, duplex: 'half' } as RequestInit).then(
        (res) => res.status,
        () => 0,
      );
      const waited = Date.now() - t0;
      // Cut (the connection closed, no answer), and not before the idle limit.
      expect(first).toBe(0);
      expect(waited).toBeGreaterThanOrEqual(IDLE - 50);
      expect(waited).toBeLessThan(IDLE + 4000);
      // A client that keeps sending, however slowly, is not cut: 8 slices 250 ms apart (2 s > 1 s).
      const slices = 8;
      const step = Math.ceil(bytes.length / slices);
      const trickle = new ReadableStream<Uint8Array>({
        async start(ctrl) {
          for (let i = 0; i < bytes.length; i += step) {
            ctrl.enqueue(bytes.slice(i, i + step));
            await new Promise((res) => setTimeout(res, 250));
          }
          ctrl.close();
        },
      });
      const slow = await fetch(u.url, { method: 'PUT', headers: u.headers, body: trickle, duplex: 'half' } as RequestInit);
      expect(slow.status).toBe(201);
      await api.waitCase(r.json.caseId, (x) => x.status === 'QUEUED');
      // The cut is the client's doing, not an error of ours, and the upload URL's token (a capability)
      // is in no log line.
      const token = new URL(u.url).pathname.split('/').pop()!;
      expect(logged.join('')).not.toContain(token);
      const lines = logged.map((l) => JSON.parse(l) as { level: string; msg: string; path?: string });
      expect(lines.filter((l) => l.level === 'error')).toEqual([]);
      expect(lines.filter((l) => l.msg === 'request ended by the client').map((l) => l.path)).toEqual(['/api/uploads/…']);
    } finally {
      await quiet.close();
    }
  });

  it('a request whose body is in is not cut while the server works on the answer (a STOW filing many parts)', async () => {
    const IDLE = 300;
    const quiet = await startTestServer({ idleBodyMs: IDLE });
    const inspector = quiet.sys.deps.inspector;
    const inspect = inspector.inspect.bind(inspector);
    // Each part's inspection takes longer than the idle limit: the server is silent, the client waits.
    inspector.inspect = async (src) => (await new Promise((res) => setTimeout(res, IDLE * 2)), inspect(src));
    try {
      const api = await Api.login(quiet.url, 'tech-a');
      const boundary = 'TeleRead-idle-test';
      const part = syntheticEcg({ seed: 20261125 }).bytes;
      const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), Buffer.from(part), Buffer.from(`\r\n--${boundary}--\r\n`)]);
      const res = await fetch(`${quiet.url}/dicomweb/studies`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, 'x-teleread-consent': 'obtained' },
        body,
      });
      expect(res.status).toBe(200);
    } finally {
      inspector.inspect = inspect;
      await quiet.close();
    }
  });
});
