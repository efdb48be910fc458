/**
 * Signing in through the consortium's OpenID Connect provider, in a real browser against a real
 * provider (oidc-provider on loopback): the sign-in page sends the user there, the code comes back
 * with PKCE, the ID token becomes the session, the user lands on their home; signing out ends the
 * provider's session too; an account without a TeleRead role is told so, not let in.
 */
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOidcIssuer, type TestOidcIssuer } from '../support/oidc-issuer.ts';
import { Api, startTestServer, type TestServer } from '../support/local-server.ts';
import type { Page } from 'playwright-core';
import { ensureWebBuilt, launch, type BrowserSession } from './support.ts';

const CLIENT = 'teleread-web';

/** From TeleRead's sign-in page through the provider's form, as `username`. */
async function signInAtProvider(page: Page, base: string, username: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByRole('button', { name: 'Sign in with your consortium account' }).click();
  await page.locator('input[name=login]').fill(username);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Sign out, through the provider's sign-out page, back to TeleRead's sign-in page. */
async function signOutThroughProvider(page: Page, base: string, issuer: string): Promise<void> {
  const endSession = page.waitForRequest((r) => r.url().startsWith(`${issuer}/session/end`));
  await page.getByRole('button', { name: 'Sign out' }).click();
  await endSession;
  await page.waitForURL(`${base}/login`, { waitUntil: 'load' });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = serve({ fetch: () => new Response(''), port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => probe.close(() => resolve(info.port)));
  });
}

describe('sign-in through an OpenID Connect provider (browser)', { timeout: 120_000 }, () => {
  let idp: TestOidcIssuer;
  let srv: TestServer;
  let browser: BrowserSession;
  beforeAll(async () => {
    await ensureWebBuilt();
    // The provider must know TeleRead's redirect URI and TeleRead the provider: the port comes first.
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    idp = await startOidcIssuer({
      clientId: CLIENT,
      redirectUris: [`${base}/auth/callback`],
      postLogoutRedirectUris: [`${base}/login`],
      accounts: [
        { username: 'tech-a', claims: { groups: ['technician'], clinicId: 'clinic-a', preferred_username: 'tech-a' } },
        { username: 'visitor', claims: { preferred_username: 'visitor' } },
      ],
      // Short, so that the renewal (at 80 % of the lifetime) happens within a test.
      idTokenTtlSeconds: 10,
    });
    srv = await startTestServer({ port, env: { TELEREAD_OIDC_ISSUER: idp.issuer, TELEREAD_OIDC_CLIENT_ID: CLIENT } });
    browser = await launch('en');
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
    await idp?.stop();
  });

  it('signs a technician in at the provider and back, works with the ID token, and signs out of both', async () => {
    const page = await browser.ctx.newPage();
    await page.goto(`${srv.url}/login`);
    // No password form on this machine: only the way to the provider.
    await page.getByRole('button', { name: 'Sign in with your consortium account' }).click();
    await page.waitForURL((u) => u.origin === new URL(idp.issuer).origin);
    await page.locator('input[name=login]').fill('tech-a');
    await page.locator('input[name=password]').fill('anything');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${srv.url}/tech`);
    const who = await page.locator('[data-testid=who]').innerText();
    const name = (await srv.sys.deps.directory.getUser('tech-a'))!.displayName;
    expect(who).toContain(name);
    expect(who).toContain('clinic-a');
    // The session's bearer token is the provider's ID token, and the API takes it.
    const token = await page.evaluate(() => (JSON.parse(sessionStorage.getItem('teleread.session')!) as { token: string }).token);
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).toMatchObject({ iss: idp.issuer, aud: CLIENT, sub: 'tech-a' });
    const cases = await new Api(srv.url, token).call('GET', '/api/cases');
    expect(cases.status).toBe(200);
    // The code and state do not stay in the address bar or the history's current entry.
    expect(page.url()).not.toContain('code=');

    // The round trip through the provider's sign-out page, back to TeleRead's sign-in page.
    const endSession = page.waitForRequest((r) => r.url().startsWith(`${idp.issuer}/session/end`));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await endSession;
    await page.waitForURL(`${srv.url}/login`, { waitUntil: 'load' });
    await page.getByRole('button', { name: 'Sign in with your consortium account' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('teleread.session'))).toBeNull();
    // The provider's session ended too: signing in again asks for the username again.
    await page.getByRole('button', { name: 'Sign in with your consortium account' }).click();
    await page.locator('input[name=login]').waitFor();
    await page.close();
  });

  it('renews the ID token before it expires, without leaving the page or losing what was typed', async () => {
    const page = await browser.ctx.newPage();
    await signInAtProvider(page, srv.url, 'tech-a');
    await page.waitForURL(`${srv.url}/tech`);
    const stored = () => page.evaluate(() => JSON.parse(sessionStorage.getItem('teleread.session') ?? 'null') as { token: string; renewal?: { at: number } } | null);
    const first = (await stored())!;
    expect(first.renewal).toBeDefined();
    const claims = (t: string) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number; sub: string };
    // Something typed on the page must survive the renewal (it changes only the stored token).
    const typed = page.locator('input, textarea').first();
    await typed.fill('typed before the renewal');
    await expect.poll(async () => (await stored())?.token, { timeout: 20_000, interval: 500 }).not.toBe(first.token);
    const second = (await stored())!;
    expect(claims(second.token).sub).toBe('tech-a');
    expect(claims(second.token).exp).toBeGreaterThan(claims(first.token).exp);
    // Renewed before the first token expired (8 s of its 10).
    expect(claims(second.token).iat).toBeLessThan(claims(first.token).exp);
    expect(page.url()).toBe(`${srv.url}/tech`);
    expect(await typed.inputValue()).toBe('typed before the renewal');
    expect((await new Api(srv.url, second.token).call('GET', '/api/cases')).status).toBe(200);

    // A token the API refuses (as after a computer slept past its expiry) is renewed once and the call
    // made again, instead of sending the user to the sign-in page.
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('teleread.session')!) as { token: string; renewal: { at: number } };
      s.token = 'expired-while-asleep';
      s.renewal.at = Date.now() + 3600_000;
      sessionStorage.setItem('teleread.session', JSON.stringify(s));
    });
    await page.reload();
    await expect.poll(async () => (await stored())?.token.split('.').length, { timeout: 10_000 }).toBe(3);
    expect(page.url()).toBe(`${srv.url}/tech`);
    expect(claims((await stored())!.token).sub).toBe('tech-a');

    await signOutThroughProvider(page, srv.url, idp.issuer);
    await page.close();
  });

  it('an account without a TeleRead role is told so and stays out', async () => {
    const page = await browser.ctx.newPage();
    await signInAtProvider(page, srv.url, 'visitor');
    const alert = page.locator('[role=alert]');
    await alert.waitFor();
    expect(await alert.innerText()).toContain('no single TeleRead role');
    expect(await page.evaluate(() => sessionStorage.getItem('teleread.session'))).toBeNull();
    // The provider still holds the refused account's session: the way out asks it for its form again.
    await page.getByRole('button', { name: 'Sign in as someone else' }).click();
    await page.locator('input[name=login]').fill('tech-a');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${srv.url}/tech`);
    await signOutThroughProvider(page, srv.url, idp.issuer);
    await page.close();
  });

  it('a callback page opened without a sign-in started in this tab says so', async () => {
    const page = await browser.ctx.newPage();
    await page.goto(`${srv.url}/auth/callback?code=stolen&state=whatever`);
    const alert = page.locator('[role=alert]');
    await alert.waitFor();
    expect(await alert.innerText()).toContain('without a sign-in started here');
    await page.close();
  });
});
