/**
 * Issue 7 end to end on a real local server: per-modality signed reports with their PDF, the API's
 * {report, jws} verified with a plain JOSE library and with `teleread verify` (PDF and printed code
 * included), the audited PDF download, amendments as new versions, and their acknowledgement.
 */
import canonicalizeModule from 'canonicalize';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../local/cli.ts';
import { verifySignedReport } from '../../shared/reports/verify.ts';
import type { Jwks } from '../../shared/signing/verify.ts';
import { Api, DEMO_PIN, SAMPLES, startTestServer, type TestServer } from '../support/local-server.ts';

type Serialize = (v: unknown) => string;
const canonicalize: Serialize =
  typeof canonicalizeModule === 'function' ? (canonicalizeModule as unknown as Serialize) : (canonicalizeModule as unknown as { default: Serialize }).default;

async function joseVerify(report: unknown, jws: string, jwks: JSONWebKeySet) {
  const [h, , s] = jws.split('.');
  const payload = Buffer.from(canonicalize(report), 'utf8').toString('base64url');
  return compactVerify(`${h}.${payload}.${s}`, createLocalJWKSet(jwks), { algorithms: ['ES256'] });
}

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), fetch });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('signed reports with PDFs, amendments and acknowledgements (issue 7)', () => {
  let srv: TestServer;
  let tech: Api;
  let otherTech: Api;
  let ecgReader: Api;
  let radReader: Api;
  let dir: string;
  let jwks: JSONWebKeySet;

  beforeAll(async () => {
    srv = await startTestServer();
    const apis = await Promise.all(['tech-a', 'tech-b', 'ecg-reader', 'rad-reader'].map((u) => Api.login(srv.url, u)));
    [tech, otherTech, ecgReader, radReader] = [apis[0]!, apis[1]!, apis[2]!, apis[3]!];
    dir = mkdtempSync(join(tmpdir(), 'teleread-e2e-reports-'));
  });
  afterAll(async () => {
    await srv?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signedCase(file: string, reader: Api, draft: Record<string, unknown>) {
    const bytes = new Uint8Array(readFileSync(join(SAMPLES, file)));
    const sub = await tech.submit([{ name: file, bytes }], { priority: 'urgent' });
    await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    const next = await reader.call('POST', '/api/reads/next', {});
    expect(next.json.case.caseId).toBe(sub.caseId);
    expect((await reader.call('PUT', `/api/cases/${sub.caseId}/report`, draft)).status).toBe(200);
    const signed = await reader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: DEMO_PIN });
    expect(signed.status, signed.text).toBe(200);
    await tech.waitCase(sub.caseId, (c) => c.status === 'DELIVERED');
    return { caseId: sub.caseId, signed: signed.json };
  }

  const pdfOf = async (api: Api, caseId: string, version?: number) => {
    const r = await fetch(`${srv.url}/api/cases/${caseId}/report?format=pdf${version ? `&version=${version}` : ''}`, { headers: { authorization: `Bearer ${api.token}` } });
    return { status: r.status, headers: r.headers, bytes: new Uint8Array(await r.arrayBuffer()) };
  };

  const cases = [
    {
      file: 'ecg-12lead-mortara-explicit-le.dcm',
      reader: () => ecgReader,
      template: 'ecg',
      draft: { findings: '窦性心律，心率 75 次/分。', impression: '正常心电图', fields: { rhythm: 'sinus', heartRate: 75, axis: 'normal', qrsMs: 90 } },
      expectText: ['心电图诊断报告', '窦性心律', '系统自动测量（仅供参考）'],
    },
    {
      file: 'xray-cr-chest-16bit-uncompressed-explicit-le.dcm',
      reader: () => radReader,
      template: 'xray',
      draft: { findings: '双肺纹理清晰，心影不大。', impression: '心肺膈未见明显异常。', fields: { exam: '胸部正位', projection: 'pa' } },
      expectText: ['X线检查报告', '后前位'],
    },
    {
      file: 'us-rgb-uncompressed-single-frame.dcm',
      reader: () => radReader,
      template: 'ultrasound',
      draft: { findings: '肝脏大小形态正常，包膜光整。', impression: '肝胆胰脾未见明显异常。', fields: { liver: 'normal', gallbladder: 'normal' } },
      expectText: ['超声检查报告', '肝脏', '未见明显异常'],
    },
  ] as const;

  for (const t of cases) {
    it(`${t.template}: {report, jws} verifies with jose; the PDF is bound, audited, verifiable with teleread verify`, async () => {
      const { caseId, signed } = await signedCase(t.file, t.reader(), t.draft);
      expect(signed.report.template).toBe(t.template);
      expect(signed.warnings).toEqual([]);
      jwks = (await (await fetch(`${srv.url}/api/keys`)).json()) as JSONWebKeySet;

      const got = await tech.call('GET', `/api/cases/${caseId}/report`);
      expect(got.status).toBe(200);
      expect(got.json.report).toEqual(signed.report);
      expect(got.json.report.caseId).toBe(caseId);
      expect(got.json.report.signer.licenceNumber).toMatch(/^DEMO-/);
      expect(got.json.history).toHaveLength(1);
      // Any JOSE library: the JWS is over the canonical bytes of `report`.
      expect((await joseVerify(got.json.report, got.json.jws, jwks)).protectedHeader.alg).toBe('ES256');

      const pdf = await pdfOf(tech, caseId);
      expect(pdf.status).toBe(200);
      expect(pdf.headers.get('content-type')).toBe('application/pdf');
      expect(createHash('sha256').update(pdf.bytes).digest('hex')).toBe(got.json.report.pdfSha256);
      const full = await verifySignedReport({ report: got.json.report, jws: got.json.jws, jwks: jwks as Jwks, pdfBytes: pdf.bytes });
      expect(full.ok).toBe(true);
      const code = full.ok ? full.verificationCode! : '';
      expect(code.startsWith(`${caseId}/v1/`)).toBe(true);

      const pdfPath = join(dir, `${caseId}.pdf`);
      writeFileSync(pdfPath, pdf.bytes);
      const text = spawnSync('pdftotext', [pdfPath, '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, '');
      for (const s of [...t.expectText, t.draft.impression, code]) expect(text).toContain(s.replace(/\s+/g, ''));

      // Another clinic cannot get the PDF; the download was recorded.
      expect((await pdfOf(otherTech, caseId)).status).toBe(404);
      const audit = await srv.sys.deps.audit.list({ caseId, limit: 50 });
      expect(audit.some((e) => e.action === 'report.download' && e.actor === 'tech-a' && e.detail?.version === 1)).toBe(true);
      expect(audit.some((e) => e.action === 'report.view' && e.actor === 'tech-a')).toBe(true);

      // teleread verify, offline: report.json (pretty-printed is fine), report.jws, the PDF, the printed code.
      writeFileSync(join(dir, 'report.json'), JSON.stringify(got.json.report, null, 2));
      writeFileSync(join(dir, 'report.jws'), got.json.jws);
      writeFileSync(join(dir, 'jwks.json'), JSON.stringify(jwks));
      const ok = await cli(['verify', join(dir, 'report.json'), join(dir, 'report.jws'), '--pdf', pdfPath, '--keys', join(dir, 'jwks.json'), '--code', code]);
      expect(ok.err).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.out).toContain('PDF matches the signed SHA-256');
      const flipped = Buffer.from(pdf.bytes);
      flipped[flipped.length >> 1]! ^= 0x10;
      writeFileSync(join(dir, 'bad.pdf'), flipped);
      const bad = await cli(['verify', join(dir, 'report.json'), join(dir, 'report.jws'), '--pdf', join(dir, 'bad.pdf'), '--keys', join(dir, 'jwks.json')]);
      expect(bad.code).toBe(1);
      expect(bad.err).toContain('VERIFY.PDF_MISMATCH');
    });
  }

  it('an amendment is version n+1 superseding n with a reason; n is unchanged; the clinic sees latest and history and acknowledges it', async () => {
    const { caseId, signed } = await signedCase('ecg-12lead-eli250-explicit-le-cabolabs.dcm', ecgReader, {
      findings: '窦性心律。',
      impression: '正常心电图',
    });
    expect((await tech.call('POST', `/api/cases/${caseId}/acknowledge`, {})).status).toBe(200);
    const v1 = await tech.call('GET', `/api/cases/${caseId}/report`);

    // Refusals: a technician cannot amend; a reason is required; a wrong PIN signs nothing.
    const body = { pin: DEMO_PIN, kind: 'correction', reason: '复核发现三度房室传导阻滞', findings: 'P 波与 QRS 波无关。', impression: '三度房室传导阻滞', critical: true };
    expect((await tech.call('POST', `/api/cases/${caseId}/report/amend`, body)).status).toBe(403);
    expect((await ecgReader.call('POST', `/api/cases/${caseId}/report/amend`, { ...body, reason: ' ' })).status).toBe(400);
    expect((await ecgReader.call('POST', `/api/cases/${caseId}/report/amend`, { ...body, pin: '000000' })).json.error.code).toBe('SIGN.BAD_PIN');
    expect((await radReader.call('POST', `/api/cases/${caseId}/report/amend`, body)).status).toBe(404);

    const amended = await ecgReader.call('POST', `/api/cases/${caseId}/report/amend`, body);
    expect(amended.status, amended.text).toBe(200);
    expect(amended.json.report).toMatchObject({ version: 2, supersedes: 1, critical: true, amendment: { kind: 'correction', reason: body.reason } });

    const latest = await tech.call('GET', `/api/cases/${caseId}/report`);
    expect(latest.json.version).toBe(2);
    expect(latest.json.history.map((h: { version: number; supersedes: number | null }) => [h.version, h.supersedes])).toEqual([[1, null], [2, 1]]);
    expect(latest.json.history[0].acknowledged).not.toBeNull();
    expect(latest.json.history[1].acknowledged).toBeNull();
    const verdict = await verifySignedReport({ report: latest.json.report, jws: latest.json.jws, jwks: jwks as Jwks, pdfBytes: (await pdfOf(tech, caseId)).bytes });
    expect(verdict.ok && verdict.report.supersedes).toBe(1);

    // Version 1 is exactly as signed.
    const again = await tech.call('GET', `/api/cases/${caseId}/report?version=1`);
    expect(again.json.report).toEqual(signed.report);
    expect(again.json.jws).toBe(v1.json.jws);
    expect((await pdfOf(tech, caseId, 1)).status).toBe(200);

    // The clinic is told (critical amendment) and must read it back to acknowledge.
    await expect.poll(async () => (await tech.call('GET', '/api/notifications')).json.items.some((n: { caseId: string; version?: number; kind: string }) => n.caseId === caseId && n.version === 2 && n.kind === 'report.critical'), { timeout: 10_000 }).toBe(true);
    const noReadBack = await tech.call('POST', `/api/cases/${caseId}/report/versions/2/acknowledge`, {});
    expect(noReadBack.json.error.code).toBe('ACK.READ_BACK_REQUIRED');
    const ack = await tech.call('POST', `/api/cases/${caseId}/report/versions/2/acknowledge`, { receivedBy: '值班医生 张三', readBack: '三度房室传导阻滞' });
    expect(ack.status).toBe(200);
    const after = await tech.call('GET', `/api/cases/${caseId}/report`);
    expect(after.json.history[1].acknowledged.by).toBe('tech-a');
    expect((await admin()).status).toBe(200);

    async function admin() {
      return (await Api.login(srv.url, 'admin')).call('GET', `/api/cases/${caseId}`);
    }
  });

  it('an unsigned case cannot be amended', async () => {
    const bytes = new Uint8Array(readFileSync(join(SAMPLES, 'xray-dx-8bit-uncompressed-highdicom.dcm')));
    const sub = await tech.submit([{ name: 'dx.dcm', bytes }]);
    await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    const r = await radReader.call('POST', `/api/cases/${sub.caseId}/report/amend`, { pin: DEMO_PIN, kind: 'addendum', reason: 'x', findings: '', impression: 'y' });
    expect(r.status).toBe(409);
    expect(r.json.error.code).toBe('REPORT.NOT_SIGNED');
  });
});

describe('delivery to a clinic webhook on a real server (issue 7)', () => {
  it('signing a report POSTs an HMAC-signed notice (ids only) to the clinic webhook', async () => {
    const { createServer } = await import('node:http');
    const { verifyWebhookSignature } = await import('../../shared/reports/webhook.ts');
    const got: { body: string; sig: string | undefined }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        got.push({ body, sig: req.headers['x-teleread-signature'] as string | undefined });
        // The first attempt fails: the notice must come again.
        res.statusCode = got.length === 1 ? 500 : 204;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const port = (receiver.address() as { port: number }).port;
    const dataDir = mkdtempSync(join(tmpdir(), 'teleread-e2e-webhook-'));
    const secret = 'clinic-a-secret-for-the-e2e-test';
    try {
      // First start creates the demo consortium; give clinic-a a webhook; start again on the same data.
      await (await startTestServer({ dataDir })).close();
      const file = join(dataDir, 'consortium.json');
      const consortium = JSON.parse(readFileSync(file, 'utf8')) as { clinics: { id: string; webhook?: unknown }[] };
      consortium.clinics.find((c) => c.id === 'clinic-a')!.webhook = { url: `http://127.0.0.1:${port}/teleread`, secret };
      writeFileSync(file, JSON.stringify(consortium, null, 2));
      const srv = await startTestServer({ dataDir });
      try {
        const tech = await Api.login(srv.url, 'tech-a');
        const reader = await Api.login(srv.url, 'ecg-reader');
        const sub = await tech.submit([{ name: 'ecg.dcm', bytes: new Uint8Array(readFileSync(join(SAMPLES, 'ecg-12lead-mortara-explicit-le.dcm'))) }]);
        await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
        await reader.call('POST', '/api/reads/next', {});
        await reader.call('PUT', `/api/cases/${sub.caseId}/report`, { findings: '窦性心律', impression: '正常心电图' });
        expect((await reader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: DEMO_PIN })).status).toBe(200);
        // Retried after the 5 s back-off of the first failure.
        await expect.poll(() => got.length, { timeout: 20_000, interval: 200 }).toBeGreaterThanOrEqual(2);
        for (const g of got) expect(verifyWebhookSignature(secret, g.body, g.sig)).toBe(true);
        const notice = JSON.parse(got[1]!.body) as Record<string, unknown>;
        expect(notice).toMatchObject({ caseId: sub.caseId, kind: 'report.delivered', version: 1 });
        expect(got[1]!.body).not.toContain('P-TEST-0001'); // ids only, no PHI
        expect(got[1]!.body).not.toContain('Test^Patient');
      } finally {
        await srv.close();
      }
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
