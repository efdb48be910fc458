/**
 * The web client's call(): a 401 that refuses the token itself is met by one renewal and the same
 * call again (TeleRead's own codes, and API Gateway's JWT authorizer on AWS, which answers before the
 * function with {"message":"Unauthorized"}); other 401s sign out; an unreachable identity provider
 * keeps the page instead of signing out.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { call, saveSession, setRenewer, setUnauthorizedHandler } from '../../../web/src/api.ts';

const store = new Map<string, string>();
const sent: (string | undefined)[] = [];
let answers: Response[] = [];

beforeEach(() => {
  store.clear();
  sent.length = 0;
  vi.stubGlobal('sessionStorage', {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  });
  vi.stubGlobal('fetch', async (_path: string, init: RequestInit) => {
    sent.push((init.headers as Record<string, string>).authorization);
    return answers.shift()!;
  });
  saveSession({ token: 'old', user: { id: 'r', role: 'reader', displayName: 'R' } });
});
afterEach(() => {
  vi.unstubAllGlobals();
  setRenewer(null);
  setUnauthorizedHandler(() => {});
});

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const renewTo = (token: string) => async () => {
  saveSession({ token, user: { id: 'r', role: 'reader', displayName: 'R' } });
  return true;
};

describe('call() and an expired identity-provider token', () => {
  it.each([
    ['API Gateway’s JWT authorizer (AWS)', { message: 'Unauthorized' }],
    ['TeleRead’s AUTH.TOKEN_EXPIRED', { error: { code: 'AUTH.TOKEN_EXPIRED', message: 'x' } }],
  ])('renews once and makes the call again after %s', async (_, body) => {
    const signedOut = vi.fn();
    setUnauthorizedHandler(signedOut);
    setRenewer(renewTo('new'));
    answers = [json(401, body), json(200, { ok: 1 })];
    expect(await call('POST', '/api/reads/c1/heartbeat', {})).toEqual({ ok: 1 });
    expect(sent).toEqual(['Bearer old', 'Bearer new']);
    expect(signedOut).not.toHaveBeenCalled();
  });

  it('does not make a call again when a route refused it with 401 (it may have run): signs out', async () => {
    const signedOut = vi.fn();
    setUnauthorizedHandler(signedOut);
    const renewer = vi.fn(renewTo('new'));
    setRenewer(renewer);
    answers = [json(401, { error: { code: 'AUTH.UNKNOWN_USER', message: 'gone' } })];
    await expect(call('POST', '/api/cases/c1/report/sign', { pin: '123456' })).rejects.toMatchObject({ status: 401, code: 'AUTH.UNKNOWN_USER' });
    expect(renewer).not.toHaveBeenCalled();
    expect(sent).toHaveLength(1);
    expect(signedOut).toHaveBeenCalledOnce();
  });

  it('keeps the page when the identity provider cannot be reached to renew (503, no sign-out)', async () => {
    const signedOut = vi.fn();
    setUnauthorizedHandler(signedOut);
    setRenewer(async () => {
      throw new TypeError('fetch failed');
    });
    answers = [json(401, { message: 'Unauthorized' })];
    await expect(call('PUT', '/api/cases/c1/report', {})).rejects.toMatchObject({ status: 503, code: 'AUTH.ISSUER_UNREACHABLE' });
    expect(signedOut).not.toHaveBeenCalled();
  });

  it('signs out when the session cannot be renewed', async () => {
    const signedOut = vi.fn();
    setUnauthorizedHandler(signedOut);
    setRenewer(async () => false);
    answers = [json(401, { message: 'Unauthorized' })];
    await expect(call('GET', '/api/cases')).rejects.toMatchObject({ status: 401 });
    expect(signedOut).toHaveBeenCalledOnce();
  });
});
