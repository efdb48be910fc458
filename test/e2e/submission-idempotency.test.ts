import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticCrDx } from '../../shared/synth/index.ts';
import { Api, startTestServer, type TestServer } from '../support/local-server.ts';

// Two instances of one synthetic CR study (small, so the test is quick).
const files = [1, 2].map((n) => {
  const s = syntheticCrDx({ seed: 900 + n, studySeed: 900, modality: 'CR', rows: 64, columns: 64, instanceNumber: n });
  return { name: s.metadata.fileName, bytes: s.bytes };
});

const body = (clientReference: string | undefined, f = files) => ({
  patient: { id: 'P-IDEM-0001', name: 'Idem^Potent', sex: 'F' },
  consent: { obtained: true },
  priority: 'routine',
  files: f.map((x) => ({ name: x.name, size: x.bytes.length })),
  ...(clientReference === undefined ? {} : { clientReference }),
});

async function put(u: { url: string; headers: Record<string, string> }, bytes: Uint8Array) {
  const r = await fetch(u.url, { method: 'PUT', headers: u.headers, body: bytes as Uint8Array<ArrayBuffer> });
  expect(r.status).toBe(201);
}

describe('POST /api/submissions with a clientReference is idempotent', () => {
  let srv: TestServer;
  let techA: Api;
  let techB: Api;
  let admin: Api;

  beforeAll(async () => {
    srv = await startTestServer();
    [techA, techB, admin] = await Promise.all([Api.login(srv.url, 'tech-a'), Api.login(srv.url, 'tech-b'), Api.login(srv.url, 'admin')]);
  });
  afterAll(async () => {
    await srv?.close();
  });

  const casesOf = async (submissionId: string) => {
    const r = await admin.call('GET', '/api/cases?limit=200');
    expect(r.status).toBe(200);
    return (r.json.items as { submissionId: string }[]).filter((c) => c.submissionId === submissionId);
  };

  it('answers the same submission, with targets only for the files not yet received, then none', async () => {
    const first = await techA.call('POST', '/api/submissions', body('gw-entry-0001'));
    expect(first.status).toBe(201);
    expect(first.json.status).toBe('AWAITING_FILES');
    expect(first.json.uploads).toHaveLength(2);
    expect(first.json.submissionId).toMatch(/^sub-[A-Za-z0-9_-]{22,}$/);

    // A crash before the client recorded the answer: the same call again.
    const again = await techA.call('POST', '/api/submissions', body('gw-entry-0001'));
    expect(again.status).toBe(201);
    expect(again.json.submissionId).toBe(first.json.submissionId);
    expect(again.json.caseId).toBe(first.json.caseId);
    expect(again.json.uploads.map((u: { index: number }) => u.index)).toEqual([0, 1]);

    await put(again.json.uploads[0], files[0]!.bytes);
    const third = await techA.call('POST', '/api/submissions', body('gw-entry-0001'));
    expect(third.json.caseId).toBe(first.json.caseId);
    expect(third.json.uploads.map((u: { index: number }) => u.index)).toEqual([1]);
    await put(third.json.uploads[0], files[1]!.bytes);

    const done = await techA.waitCase(first.json.caseId, (c) => c.status === 'QUEUED');
    expect(done.declaredFiles).toBe(2);
    const fourth = await techA.call('POST', '/api/submissions', body('gw-entry-0001'));
    expect(fourth.status).toBe(201);
    expect(fourth.json).toMatchObject({ caseId: first.json.caseId, uploads: [], status: 'QUEUED' });

    expect(await casesOf(first.json.submissionId)).toHaveLength(1);
  });

  it('is scoped to the clinic: the same reference from another clinic is another submission', async () => {
    const a = await techA.call('POST', '/api/submissions', body('shared-ref-7'));
    const b = await techB.call('POST', '/api/submissions', body('shared-ref-7'));
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.json.caseId).not.toBe(a.json.caseId);
    expect((await techB.call('GET', `/api/cases/${a.json.caseId}`)).status).toBe(404);
  });

  it('refuses a reference reused for other files with 409, and concurrent repeats make one case', async () => {
    const a = await techA.call('POST', '/api/submissions', body('ref-reused'));
    expect(a.status).toBe(201);
    const other = await techA.call('POST', '/api/submissions', body('ref-reused', files.slice(0, 1)));
    expect(other.status).toBe(409);
    expect(other.json.error.code).toBe('SUBMISSION.CLIENT_REFERENCE_REUSED');

    const burst = await Promise.all(Array.from({ length: 6 }, () => techA.call('POST', '/api/submissions', body('ref-burst'))));
    expect(burst.map((r) => r.status)).toEqual(Array(6).fill(201));
    expect(new Set(burst.map((r) => r.json.caseId)).size).toBe(1);
    expect(await casesOf(burst[0]!.json.submissionId)).toHaveLength(1);
  });

  it('without a reference every call is a new submission; a bad reference is a 400', async () => {
    const a = await techA.call('POST', '/api/submissions', body(undefined));
    const b = await techA.call('POST', '/api/submissions', body(undefined));
    expect(a.json.caseId).not.toBe(b.json.caseId);
    const long = await techA.call('POST', '/api/submissions', body('x'.repeat(129)));
    expect(long.status).toBe(400);
    expect(long.text).toContain('clientReference');
  });
});
