/**
 * A signature whose answer was lost (zh-CN): the reader reopens the case, edits the restored draft and
 * signs again. The version signed before stands; the page says the edit is not in it, shows the signed
 * version and opens the amend form on the kept draft; the addendum signs it and the draft goes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PIN, startTestServer, type TestServer } from '../support/local-server.ts';
import { ensureWebBuilt, launch, readNextEcgOnClock, type BrowserSession } from './support.ts';

describe('signing again after a lost answer, in the web UI (zh-CN)', { timeout: 120_000 }, () => {
  let srv: TestServer;
  let browser: BrowserSession;
  beforeAll(async () => {
    await ensureWebBuilt();
    srv = await startTestServer();
    browser = await launch('zh-CN');
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('the earlier version stands, the edit is kept and offered to the amend form, and an addendum signs it', async () => {
    // (The page's timers wait for the test: no heartbeat runs into the rewound lease below.)
    const { page, tech, caseId, submitted } = await readNextEcgOnClock(browser, srv.url, 4711);
    expect(caseId).toBe(submitted);
    await page.locator('textarea[name=findings]').fill('窦性心律');
    await page.locator('textarea[name=impression]').fill('正常心电图');
    await page.locator('input[name=pin]').fill(DEMO_PIN);
    await page.locator('[data-testid=sign]').click();
    await expect.poll(() => page.locator('[data-testid=sign-status]').innerText()).toContain('报告已签发（第 1 版）');

    // As a crash just after storing version 1 leaves it: the case still CLAIMED by this reader at
    // version 0, the draft not yet discarded.
    const { deps } = srv.sys;
    const signed = (await deps.cases.get(caseId))!;
    const claimed = signed.events.findLast((e) => e.status === 'CLAIMED')!;
    await deps.cases.update(
      {
        ...signed,
        status: 'CLAIMED',
        reportVersion: 0,
        events: signed.events.slice(0, signed.events.indexOf(claimed) + 1),
        lease: { id: 'lease-before-the-crash', readerId: 'ecg-reader', expiresAt: new Date(Date.now() + 300_000).toISOString(), queue: 'ecg.routine', receipt: 'gone' },
      },
      signed.version,
    );
    await deps.cases.saveDraft({ caseId: caseId, authorId: 'ecg-reader', body: { findings: '窦性心律', impression: '正常心电图', critical: false, language: 'zh-CN' }, updatedAt: signed.updatedAt });

    // The reader reopens it: the draft is restored, they add to it and sign again.
    await page.goto(`${srv.url}/reader/read/${caseId}`);
    await expect.poll(() => page.locator('[data-testid=report-form]').getAttribute('data-restored')).toBe('1');
    await page.locator('textarea[name=findings]').fill('窦性心律，偶发房性早搏');
    await page.locator('input[name=pin]').fill(DEMO_PIN);
    await page.locator('[data-testid=sign]').click();
    await expect.poll(() => page.locator('[data-testid=reading-notice]').innerText()).toContain('第 1 版已于此前签发');

    // The signed version 1 is shown as it was signed; the amend form holds the edit.
    const panel = page.locator('[data-testid=signed-panel]');
    await panel.waitFor();
    expect(await panel.locator('p.pre').first().innerText()).toBe('窦性心律');
    await page.locator('[data-testid=amend-from-draft]').waitFor();
    const amend = page.locator('[data-testid=amend-form]');
    expect(await amend.locator('textarea[name=findings]').inputValue()).toBe('窦性心律，偶发房性早搏');
    await amend.locator('input[name=reason]').fill('补充签发时遗漏的修改');
    await amend.locator('input[name=pin]').fill(DEMO_PIN);
    await amend.locator('button[type=submit]').click();
    await expect.poll(async () => (await tech.call('GET', `/api/cases/${caseId}/report`)).json.report?.version).toBe(2);
    expect((await tech.call('GET', `/api/cases/${caseId}/report`)).json.report.findings).toBe('窦性心律，偶发房性早搏');
    expect(await deps.cases.getDraft(caseId, 'ecg-reader')).toBeNull();
    await page.close();
  });
});
