/**
 * The lock-outs in the browser (zh-CN): five wrong signing PINs lock signing, the reader is told until
 * when in local time, the case leaves their screen (it went back to the queue) and the sign button is
 * gone with it; a lock set elsewhere (another window, an amendment) is met at the next heartbeat: the
 * page saves what was typed, gives the case back and says so; ten wrong passwords lock a username and
 * the sign-in page says until when.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_PIN_POLICY, signingPinSubject } from '../../shared/domain/attempts.ts';
import { syntheticEcg } from '../../shared/synth/studies.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { Api, startTestServer, type TestServer } from '../support/local-server.ts';
import { ensureWebBuilt, launch, login, readNextEcgOnClock, type BrowserSession } from './support.ts';

describe('lock-outs in the web UI (zh-CN)', { timeout: 120_000 }, () => {
  let srv: TestServer;
  let browser: BrowserSession;
  // The server's clock: a lock must be older than a heartbeat's grace for a right PIN being checked.
  const clock = new FakeClock();
  beforeAll(async () => {
    await ensureWebBuilt();
    srv = await startTestServer({ clock });
    browser = await launch('zh-CN');
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('five wrong signing PINs: locked until a local time, the case goes back to the queue', async () => {
    const tech = await Api.login(srv.url, 'tech-a');
    const sub = await tech.submit([{ name: 'ecg.dcm', bytes: syntheticEcg({ seed: 777 }).bytes }]);
    await tech.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    const page = await browser.ctx.newPage();
    await login(page, srv.url, 'ecg-reader');
    await page.locator('[data-testid=read-next]').click();
    await page.locator('[data-testid=reading]').waitFor();
    await page.locator('select[name=template]').selectOption('ecg-normal');
    const form = page.locator('[data-testid=report-form]');
    for (let left = 4; left >= 1; left--) {
      await page.locator('input[name=pin]').fill('000000');
      await page.locator('[data-testid=sign]').click();
      await expect.poll(() => form.locator('[data-code="SIGN.BAD_PIN"]').innerText()).toContain(`再错 ${left} 次将锁定签名 15 分钟`);
    }
    await page.locator('input[name=pin]').fill('111111');
    await page.locator('[data-testid=sign]').click();
    const locked = page.locator('[data-code="SIGN.PIN_LOCKED"]').first();
    await locked.waitFor();
    const text = await locked.innerText();
    expect(text).toMatch(/签名已锁定至 \d{2}:\d{2}/);
    expect(text).toContain('病例已退回队列');
    // The case is no longer held here: no report form, no sign button.
    await expect.poll(() => page.locator('[data-testid=report-form]').count()).toBe(0);
    expect((await tech.call('GET', `/api/cases/${sub.caseId}`)).json.status).toBe('QUEUED');
    await page.close();
  });

  it('a lock set elsewhere: the next heartbeat is refused, the page saves what was typed, gives the case back and says so', async () => {
    // The reader starts unlocked (the test before locked them).
    await srv.sys.deps.attempts.clear(signingPinSubject('ecg-reader'));
    const { page, tech, caseId } = await readNextEcgOnClock(browser, srv.url, 778);
    expect((await tech.call('GET', `/api/cases/${caseId}`)).json.lease.readerId).toBe('ecg-reader');
    await page.locator('textarea[name=findings]').fill('窦性心律，ST 段无明显改变（未保存）');
    await page.locator('textarea[name=impression]').fill('正常心电图');
    // Five wrong PINs in another window, long enough ago that the lock is not a right PIN's being checked.
    for (let i = 0; i < SIGNING_PIN_POLICY.maxFailures; i++) await srv.sys.deps.attempts.take(signingPinSubject('ecg-reader'), clock.now(), SIGNING_PIN_POLICY);
    clock.advance(31_000);
    const refused = page.waitForResponse((r) => r.url().endsWith(`/api/reads/${caseId}/heartbeat`) && r.status() === 429);
    await page.clock.fastForward(61_000);
    await refused;
    const locked = page.locator('[data-code="SIGN.PIN_LOCKED"]').first();
    await locked.waitFor();
    expect(await locked.innerText()).toMatch(/签名已锁定至 \d{2}:\d{2}。病例已退回队列由其他医师阅片，您的草稿已保存。/);
    await expect.poll(() => page.locator('[data-testid=report-form]').count()).toBe(0);
    expect((await tech.call('GET', `/api/cases/${caseId}`)).json.status).toBe('QUEUED');
    // What was typed is the reader's draft, for them or a colleague to go on from.
    const draft = await srv.sys.deps.cases.getDraft(caseId, 'ecg-reader');
    expect(draft?.body).toMatchObject({ findings: '窦性心律，ST 段无明显改变（未保存）', impression: '正常心电图' });
    await page.close();
  });

  it('a heartbeat that fails on the way (a network blip, a busy gateway) is tried again; the reading goes on', async () => {
    await srv.sys.deps.attempts.clear(signingPinSubject('ecg-reader'));
    const { page, tech, caseId } = await readNextEcgOnClock(browser, srv.url, 779);
    // The first heartbeat meets a 503 from the way there; the next one goes through.
    let failed = 0;
    await page.route(`**/api/reads/${caseId}/heartbeat`, (route) => (failed++ === 0 ? route.fulfill({ status: 503, body: 'Service Unavailable' }) : route.continue()));
    const through = page.waitForResponse((r) => r.url().endsWith(`/api/reads/${caseId}/heartbeat`) && r.status() === 200);
    await page.clock.fastForward(2_000);
    await page.clock.fastForward(6_000);
    await through;
    expect(failed).toBe(2);
    expect(await page.locator('[role=alert]').count()).toBe(0);
    expect(await page.locator('[data-testid=sign]').isDisabled()).toBe(false);
    expect((await tech.call('GET', `/api/cases/${caseId}`)).json.status).toBe('CLAIMED');
    await page.close();
  });

  it('ten wrong passwords: the sign-in page says the username is locked until a local time', async () => {
    const page = await browser.ctx.newPage();
    await page.goto(`${srv.url}/login`);
    for (let i = 0; i < 10; i++) {
      await page.locator('input[name=username]').fill('tech-b');
      await page.locator('input[name=password]').fill('not-the-password');
      const answered = page.waitForResponse((r) => r.url().endsWith('/api/auth/login'));
      await page.locator('form.login button[type=submit]').click();
      expect((await answered).status()).toBe(i < 9 ? 401 : 429);
    }
    await expect.poll(() => page.locator('[role=alert]').first().innerText()).toMatch(/该用户名登录失败次数过多，请在 \d{2}:\d{2} 之后再试/);
    await page.close();
  });
});
