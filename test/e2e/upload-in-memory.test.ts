/**
 * A small upload is ingested from the bytes the upload route has just received (no HEAD, no read
 * back from disk); a large one is read back from the blob store as before. Either way the case is
 * the same, and the stored object is the one the SHA-256 describes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('a file over 1 MiB is read back from the blob store', async () => {
    const r = await ingestCalls('xray-dx-16bit-jpeg2000-lossless.dcm');
    expect(r.bytes.length).toBeGreaterThan(1024 * 1024);
    expect(r.readRange).toBeGreaterThan(0);
  });
});
