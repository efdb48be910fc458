/**
 * A small upload is ingested from the bytes the upload route has just received (no HEAD, no read
 * back from disk); a large one is read back from the blob store as before. Either way the case is
 * the same, and the stored object is the one the SHA-256 describes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('one upload per target at a time', () => {
  it('a second PUT of a URL whose first PUT is still arriving is refused (409 UPLOAD.IN_PROGRESS), not raced', async () => {
    const bytes = syntheticEcg({ seed: 20261123 }).bytes;
    const r = await tech.call('POST', '/api/submissions', {
      patient: { id: 'P-TEST-0002', name: 'Test^Patient', sex: 'F', birthDate: '1970-01-01' },
      consent: { obtained: true },
      priority: 'routine',
      files: [{ name: 'ecg.dcm', size: bytes.length }],
    });
    expect(r.status).toBe(201);
    const u = r.json.uploads[0] as { url: string; headers: Record<string, string> };
    let finish!: () => void;
    const gate = new Promise<void>((res) => (finish = res));
    const half = bytes.length >> 1;
    // The first body stops halfway until the second PUT has been answered.
    const slow = new ReadableStream<Uint8Array>({
      async start(ctrl) {
        ctrl.enqueue(bytes.slice(0, half));
        await gate;
        ctrl.enqueue(bytes.slice(half));
        ctrl.close();
      },
    });
    const first = fetch(u.url, { method: 'PUT', headers: u.headers, body: slow, duplex: 'half' } as RequestInit);
    await new Promise((res) => setTimeout(res, 100));
    const second = await fetch(u.url, { method: 'PUT', headers: u.headers, body: bytes as Uint8Array<ArrayBuffer> });
    expect(second.status).toBe(409);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('UPLOAD.IN_PROGRESS');
    finish();
    expect((await first).status).toBe(201);
    // Once it is in, a repeat is told so.
    const third = await fetch(u.url, { method: 'PUT', headers: u.headers, body: bytes as Uint8Array<ArrayBuffer> });
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe('UPLOAD.ALREADY_RECEIVED');
    await tech.waitCase(r.json.caseId, (x) => x.status === 'QUEUED');
  });
});
