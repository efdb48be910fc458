/**
 * Wrong signing PINs on a real local server: counted per reader, answered with the attempts left,
 * locked for 15 minutes after 5 in a row (the case goes back to the queue, no case is handed to the
 * locked reader, even the right PIN signs nothing), audited and logged without the PIN, and signing
 * works again once the lock has run out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonLogger } from '../../shared/adapters/local/json-logger.ts';
import { SIGNING_PIN_POLICY } from '../../shared/domain/attempts.ts';
import { syntheticEcg } from '../../shared/synth/studies.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { Api, DEMO_PIN, startTestServer, type TestServer } from '../support/local-server.ts';

describe('signing PIN lock-out', () => {
  let srv: TestServer;
  let tech: Api;
  let reader: Api;
  const clock = new FakeClock();
  const logLines: string[] = [];

  beforeAll(async () => {
    srv = await startTestServer({ clock, log: new JsonLogger((l) => logLines.push(l)) });
    tech = await Api.login(srv.url, 'tech-a');
    reader = await Api.login(srv.url, 'ecg-reader');
  });
  afterAll(async () => srv?.close());

  const claim = async (caseId: string) => {
    const next = await reader.call('POST', '/api/reads/next', {});
    expect(next.status, next.text).toBe(200);
    expect(next.json.case.caseId).toBe(caseId);
  };
  const sign = (caseId: string, pin: string) =>
    fetch(`${srv.url}/api/cases/${caseId}/report/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reader.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pin }),
    });

  it('5 wrong PINs in a row lock signing for 15 minutes; then the right PIN signs', async () => {
    const sub = await tech.submit([{ name: 'ecg.dcm', bytes: syntheticEcg({ seed: 4242 }).bytes }]);
    await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    await claim(sub.caseId);
    expect((await reader.call('PUT', `/api/cases/${sub.caseId}/report`, { findings: '窦性心律。', impression: '正常心电图' })).status).toBe(200);

    for (let left = SIGNING_PIN_POLICY.maxFailures - 1; left >= 1; left--) {
      const r = await sign(sub.caseId, '000000');
      const body = (await r.json()) as { error: { code: string; message: string; details: { attemptsLeft: number } } };
      expect([r.status, body.error.code, body.error.details.attemptsLeft]).toEqual([403, 'SIGN.BAD_PIN', left]);
      expect(body.error.message).toContain(`${left} more wrong PIN`);
    }
    const fifth = await sign(sub.caseId, '111111');
    const fifthBody = (await fifth.json()) as { error: { code: string; message: string; details: { lockedUntil: string; retryAfterSeconds: number; released: boolean } } };
    expect([fifth.status, fifthBody.error.code, fifthBody.error.details.released]).toEqual([429, 'SIGN.PIN_LOCKED', true]);
    expect(fifth.headers.get('retry-after')).toBe(String(SIGNING_PIN_POLICY.lockMinutes * 60));
    expect(Date.parse(fifthBody.error.details.lockedUntil)).toBe(clock.now().getTime() + SIGNING_PIN_POLICY.lockMinutes * 60_000);
    expect(fifthBody.error.message).toMatch(/not correct.*locked for 15 minutes.*gone back to the queue/);

    // The case went back to the queue (a colleague could take it now); the locked reader gets no case,
    // and the right PIN signs nothing.
    expect((await tech.call('GET', `/api/cases/${sub.caseId}`)).json.status).toBe('QUEUED');
    clock.advance(4 * 60_000);
    const refused = await reader.call('POST', '/api/reads/next', {});
    expect([refused.status, refused.json.error.code, refused.json.error.details.retryAfterSeconds]).toEqual([429, 'SIGN.PIN_LOCKED', 11 * 60]);
    const locked = await sign(sub.caseId, DEMO_PIN);
    expect(locked.status).toBe(409); // no lease any more: nothing to sign
    expect((await tech.call('GET', `/api/cases/${sub.caseId}`)).json.status).toBe('QUEUED');

    // The lock runs out: the reader takes the case again; the draft is still there.
    clock.advance(11 * 60_000);
    await claim(sub.caseId);
    const signed = await sign(sub.caseId, DEMO_PIN);
    expect(signed.status, await signed.clone().text()).toBe(200);
    expect((await tech.waitCase(sub.caseId, (c) => c.status === 'DELIVERED')).report.version).toBe(1);

    // Audited by reader id, never with a PIN.
    const audit = await srv.sys.deps.audit.list({ limit: 200 });
    const mine = audit.filter((e) => e.action.startsWith('signing.'));
    expect(mine.map((e) => `${e.actor} ${e.action}`).sort()).toEqual([
      'ecg-reader signing.locked',
      ...Array.from({ length: 4 }, () => 'ecg-reader signing.wrong_pin'),
    ]);
    const all = JSON.stringify(audit);
    expect(logLines.length).toBeGreaterThan(0);
    for (const pin of ['000000', '111111', DEMO_PIN]) {
      expect(all).not.toContain(pin);
      expect(logLines.join('\n')).not.toContain(pin);
    }
  });

  it('a right PIN clears the count: earlier wrong PINs do not add up', async () => {
    const sub = await tech.submit([{ name: 'ecg.dcm', bytes: syntheticEcg({ seed: 4243 }).bytes }]);
    await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    await claim(sub.caseId);
    expect((await reader.call('PUT', `/api/cases/${sub.caseId}/report`, { findings: '窦性心律。', impression: '正常心电图' })).status).toBe(200);
    const r = await sign(sub.caseId, '000000');
    expect(((await r.json()) as { error: { details: { attemptsLeft: number } } }).error.details.attemptsLeft).toBe(SIGNING_PIN_POLICY.maxFailures - 1);
    expect((await sign(sub.caseId, DEMO_PIN)).status).toBe(200);
  });

  it('locked by wrong PINs elsewhere (an amendment), the reader\'s lease is not extended any more: the case goes back', async () => {
    // A signed case to amend, then the case the reader holds.
    const signedSub = await tech.submit([{ name: 'ecg.dcm', bytes: syntheticEcg({ seed: 4245 }).bytes }]);
    await tech.waitCase(signedSub.caseId, (c) => c.status === 'QUEUED');
    await claim(signedSub.caseId);
    expect((await reader.call('PUT', `/api/cases/${signedSub.caseId}/report`, { findings: '窦性心律。', impression: '正常心电图' })).status).toBe(200);
    expect((await sign(signedSub.caseId, DEMO_PIN)).status).toBe(200);
    const sub = await tech.submit([{ name: 'ecg.dcm', bytes: syntheticEcg({ seed: 4244 }).bytes }]);
    await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    await claim(sub.caseId);

    const amend = { kind: 'addendum', reason: '补充', findings: '窦性心律。', impression: '正常心电图', pin: '000000' };
    const codes: string[] = [];
    for (let i = 0; i < SIGNING_PIN_POLICY.maxFailures; i++) codes.push((await reader.call('POST', `/api/cases/${signedSub.caseId}/report/amend`, amend)).json.error.code);
    expect(codes).toEqual([...Array.from({ length: SIGNING_PIN_POLICY.maxFailures - 1 }, () => 'SIGN.BAD_PIN'), 'SIGN.PIN_LOCKED']);
    // A lock set moments ago may still be cleared by a right PIN being checked: the heartbeat goes through.
    expect((await reader.call('POST', `/api/reads/${sub.caseId}/heartbeat`)).status).toBe(200);
    clock.advance(31_000);
    const beat = await reader.call('POST', `/api/reads/${sub.caseId}/heartbeat`);
    expect([beat.status, beat.json.error.code, beat.json.error.details.released]).toEqual([429, 'SIGN.PIN_LOCKED', undefined]);
    // Not extended: still the reader's until the lease runs out, and they may give it back (the web does, after saving).
    expect((await tech.call('GET', `/api/cases/${sub.caseId}`)).json.status).toBe('CLAIMED');
    expect((await reader.call('POST', `/api/reads/${sub.caseId}/release`)).status).toBe(200);
    expect((await tech.call('GET', `/api/cases/${sub.caseId}`)).json.status).toBe('QUEUED');
    clock.advance(SIGNING_PIN_POLICY.lockMinutes * 60_000);
  });
});
