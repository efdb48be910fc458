import { SignJWT } from 'jose';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, DEMO_PIN, SAMPLES, startTestServer, type TestServer } from '../support/local-server.ts';

type Caller = 'own' | 'other' | 'readerIn' | 'readerOut' | 'admin' | 'anon' | 'expired' | 'tampered';
const CALLERS: Caller[] = ['own', 'other', 'readerIn', 'readerOut', 'admin', 'anon', 'expired', 'tampered'];

/**
 * Every route × every kind of caller, with the exact status expected. Anything not listed as allowed
 * must be refused: this is the "no unexpected allow" matrix.
 */
describe('tenancy matrix: every route × every kind of caller', () => {
  let srv: TestServer;
  const api = {} as Record<Caller, Api>;
  let signedCase: string;
  let claimedCase: string;

  beforeAll(async () => {
    srv = await startTestServer();
    const [own, other, readerIn, readerOut, admin] = await Promise.all([
      Api.login(srv.url, 'tech-a'),
      Api.login(srv.url, 'tech-b'),
      Api.login(srv.url, 'rad-reader'),
      Api.login(srv.url, 'ecg-reader'),
      Api.login(srv.url, 'admin'),
    ]);
    const secret = Buffer.from((JSON.parse(readFileSync(join(srv.dataDir, 'secrets.json'), 'utf8')) as { token: string }).token, 'base64url');
    const expired = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('admin')
      .setIssuer('teleread-local')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(secret);
    // A technician token whose payload was edited to say admin: the signature no longer matches.
    const [h, p, s] = own.token!.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...payload, role: 'admin' })).toString('base64url');
    Object.assign(api, { own, other, readerIn, readerOut, admin, anon: new Api(srv.url), expired: new Api(srv.url, expired), tampered: new Api(srv.url, `${h}.${forged}.${s}`) });

    const bytes = new Uint8Array(readFileSync(join(SAMPLES, 'xray-dx-8bit-uncompressed-highdicom.dcm')));
    const a = await own.submit([{ name: 'a.dcm', bytes }]);
    await own.waitCase(a.caseId, (c) => c.status === 'QUEUED');
    const next = await readerIn.call('POST', '/api/reads/next', {});
    expect(next.json.case.caseId).toBe(a.caseId);
    await readerIn.call('PUT', `/api/cases/${a.caseId}/report`, { findings: 'f', impression: 'i' });
    expect((await readerIn.call('POST', `/api/cases/${a.caseId}/report/sign`, { pin: DEMO_PIN })).status).toBe(200);
    await own.waitCase(a.caseId, (c) => c.status === 'DELIVERED');
    signedCase = a.caseId;

    const b = await own.submit([{ name: 'b.dcm', bytes: new Uint8Array(readFileSync(join(SAMPLES, 'xray-cr-16x16-16bit-uncompressed-pydicom.dcm'))) }]);
    await own.waitCase(b.caseId, (c) => c.status === 'QUEUED');
    const n2 = await readerIn.call('POST', '/api/reads/next', {});
    expect(n2.json.case.caseId).toBe(b.caseId);
    claimedCase = b.caseId;
  });
  afterAll(async () => srv?.close());

  const unauth = { anon: 401, expired: 401, tampered: 401 } as const;
  // Expected status per caller; routes whose success depends on state use a state that allows it.
  const matrix: Array<{ name: string; call: (a: Api) => Promise<{ status: number; json: any }>; expect: Record<Caller, number> }> = [
    {
      name: 'GET /api/cases/{id}',
      call: (a) => a.call('GET', `/api/cases/${signedCase}`),
      expect: { own: 200, other: 404, readerIn: 200, readerOut: 404, admin: 200, ...unauth },
    },
    {
      name: 'GET /api/cases/{id}/instances/0',
      call: (a) => a.call('GET', `/api/cases/${signedCase}/instances/0`),
      expect: { own: 200, other: 404, readerIn: 200, readerOut: 404, admin: 200, ...unauth },
    },
    {
      name: 'GET /api/cases/{id}/report',
      call: (a) => a.call('GET', `/api/cases/${signedCase}/report`),
      expect: { own: 200, other: 404, readerIn: 200, readerOut: 404, admin: 200, ...unauth },
    },
    {
      name: 'POST /api/submissions',
      call: (a) => a.call('POST', '/api/submissions', { patient: { id: 'X1', name: 'N' }, consent: { obtained: true }, priority: 'routine', files: [{ name: 'x.dcm', size: 100 }] }),
      expect: { own: 201, other: 201, readerIn: 403, readerOut: 403, admin: 403, ...unauth },
    },
    {
      name: 'POST /api/reads/next',
      call: (a) => a.call('POST', '/api/reads/next', {}),
      expect: { own: 403, other: 403, readerIn: 204, readerOut: 204, admin: 403, ...unauth },
    },
    {
      name: 'POST /api/reads/next for a pool outside mine',
      call: (a) => a.call('POST', '/api/reads/next', { pools: ['radiography'] }),
      expect: { own: 403, other: 403, readerIn: 204, readerOut: 403, admin: 403, ...unauth },
    },
    {
      name: 'POST /api/reads/{id}/heartbeat (lease held by readerIn)',
      call: (a) => a.call('POST', `/api/reads/${claimedCase}/heartbeat`),
      expect: { own: 403, other: 403, readerIn: 200, readerOut: 404, admin: 403, ...unauth },
    },
    {
      name: 'PUT /api/cases/{id}/report (lease held by readerIn)',
      call: (a) => a.call('PUT', `/api/cases/${claimedCase}/report`, { findings: 'f', impression: 'i' }),
      expect: { own: 403, other: 403, readerIn: 200, readerOut: 404, admin: 403, ...unauth },
    },
    {
      name: 'POST /api/cases/{id}/report/sign with a wrong PIN',
      call: (a) => a.call('POST', `/api/cases/${claimedCase}/report/sign`, { pin: '999999' }),
      expect: { own: 403, other: 403, readerIn: 403, readerOut: 404, admin: 403, ...unauth },
    },
    {
      name: 'POST /api/reads/{id}/release of a case signed earlier (no lease)',
      call: (a) => a.call('POST', `/api/reads/${signedCase}/release`),
      expect: { own: 403, other: 403, readerIn: 409, readerOut: 404, admin: 403, ...unauth },
    },
    {
      name: 'GET /api/cases (list)',
      call: (a) => a.call('GET', '/api/cases'),
      expect: { own: 200, other: 200, readerIn: 200, readerOut: 200, admin: 200, ...unauth },
    },
    {
      name: 'GET /api/notifications',
      call: (a) => a.call('GET', '/api/notifications'),
      expect: { own: 200, other: 200, readerIn: 200, readerOut: 200, admin: 200, ...unauth },
    },
    {
      name: 'GET /api/keys',
      call: (a) => a.call('GET', '/api/keys'),
      expect: { own: 200, other: 200, readerIn: 200, readerOut: 200, admin: 200, anon: 200, expired: 200, tampered: 200 },
    },
    {
      name: 'POST /api/cases/{id}/acknowledge',
      call: (a) => a.call('POST', `/api/cases/${signedCase}/acknowledge`, {}),
      expect: { own: 200, other: 404, readerIn: 403, readerOut: 403, admin: 403, ...unauth },
    },
  ];

  for (const row of matrix) {
    it(row.name, async () => {
      const got: Record<string, number> = {};
      // Refusals first, so the one allowed state-changing call (ack) runs after every refusal was checked.
      for (const who of [...CALLERS].sort((x, y) => Number(row.expect[x] < 300) - Number(row.expect[y] < 300))) {
        const r = await row.call(api[who]);
        got[who] = r.status;
        if (r.status >= 400) expect(r.json?.error?.code, `${who}: error body`).toMatch(/^[A-Z]+(\.[A-Z_]+)+$/);
      }
      expect(got).toEqual(row.expect);
    });
  }

  it('lists are scoped: other clinic and other pool never see the case', async () => {
    const ids = async (a: Api) => ((await a.call('GET', '/api/cases?limit=200')).json.items as { caseId: string }[]).map((c) => c.caseId);
    expect(await ids(api.own)).toContain(signedCase);
    expect(await ids(api.other)).not.toContain(signedCase);
    expect(await ids(api.readerIn)).toContain(signedCase);
    expect(await ids(api.readerOut)).not.toContain(signedCase);
    expect(await ids(api.admin)).toContain(signedCase);
    const widened = await api.other.call('GET', '/api/cases?clinicId=clinic-a');
    expect(widened.json.items).toEqual([]);
  });
});
