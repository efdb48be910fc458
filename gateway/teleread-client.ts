/**
 * The gateway's side of TeleRead's HTTP API v1: sign in as the clinic technician, declare a
 * submission, PUT each file to its upload target, read the case. A 401 signs in again once.
 */
import { pipeline } from 'node:stream';
import { createReadStream } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { z } from 'zod';
import { CaseStatusSchema, CreateSubmissionResponseSchema, type CreateSubmission } from '../shared/contracts/api.ts';

export type SubmissionAnswer = z.infer<typeof CreateSubmissionResponseSchema>;

/** A failure talking to TeleRead; `retryable` is false for answers a retry cannot change. */
export class TeleReadError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: string | null,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'TeleReadError';
  }
}

const CaseBriefSchema = z.object({
  caseId: z.string(),
  status: CaseStatusSchema,
  pool: z.string().nullable().optional(),
  rejection: z.object({ code: z.string(), message: z.string() }).nullable().optional(),
});
export type CaseBrief = z.infer<typeof CaseBriefSchema>;

const REQUEST_TIMEOUT_MS = 30_000;
/**
 * After TeleRead refuses the gateway's password, how long before it signs in again. Every refused
 * sign-in counts towards TeleRead's lock-out of the username (10 in a row lock it for 5 minutes), and
 * each study waiting in the spool would otherwise try again on its own: a gateway left with an old
 * password would keep the clinic's technician account locked.
 */
const REFUSED_SIGN_IN_PAUSE_MS = 5 * 60_000;

export class TeleReadClient {
  private token: string | null = null;
  /** Sign-in refused: no new attempt before this (performance.now() ms: a clock stepped back does not stretch it), and why. */
  private signInPausedUntil = 0;
  private signInRefusal: TeleReadError | null = null;
  /** The sign-in in flight, shared by the senders that need one at the same moment. */
  private signingIn: Promise<void> | null = null;

  constructor(
    private readonly base: string,
    private readonly username: string,
    private readonly password: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  private async raw(method: string, path: string, body?: unknown, token?: string | null): Promise<Response> {
    try {
      return await this.fetchImpl(new URL(path, this.base), {
        method,
        headers: {
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      throw new TeleReadError(`TeleRead is unreachable (${cause}).`, null, null, true);
    }
  }

  private static async fail(res: Response, what: string): Promise<never> {
    let code: string | null = null;
    let message = '';
    try {
      const j = (await res.json()) as { error?: { code?: string; message?: string } };
      code = j.error?.code ?? null;
      message = j.error?.message ?? '';
    } catch {}
    // Messages of TeleRead's errors never carry PHI (DESIGN.md), so they may be logged and shown.
    const retryable = res.status >= 500 || res.status === 401 || res.status === 408 || res.status === 429;
    throw new TeleReadError(`${what}: HTTP ${res.status}${code ? ` ${code}` : ''}${message ? ` (${message})` : ''}`, res.status, code, retryable);
  }

  /** Sign in (one request at a time for the whole gateway; none while paused after a refusal). */
  login(): Promise<void> {
    this.signingIn ??= this.signIn().finally(() => {
      this.signingIn = null;
    });
    return this.signingIn;
  }

  private async signIn(): Promise<void> {
    const left = this.signInPausedUntil - performance.now();
    if (left > 0 && this.signInRefusal) {
      const r = this.signInRefusal;
      const hint = r.code === 'AUTH.NO_PASSWORD_SIGN_IN' ? '' : " (check the gateway's username and password)";
      throw new TeleReadError(`${r.message}; not signing in again for ${Math.ceil(left / 1000)} s${hint}`, r.status, r.code, true);
    }
    const res = await this.raw('POST', '/api/auth/login', { username: this.username, password: this.password });
    const body = res.status === 404 || res.status === 401 ? ((await res.clone().json().catch(() => null)) as { error?: { code?: string }; message?: string } | null) : null;
    // A TeleRead that signs in through an identity provider has no password sign-in: one machine with
    // TELEREAD_OIDC_ISSUER has no such route; on AWS, API Gateway's JWT authorizer refuses the request
    // before any function runs. Asking again every few seconds would change nothing.
    const noPasswordSignIn =
      (res.status === 404 && body?.error?.code === 'ROUTE.NOT_FOUND') || (res.status === 401 && body?.error === undefined && body?.message === 'Unauthorized');
    if (noPasswordSignIn) {
      this.signInRefusal = new TeleReadError(
        'this TeleRead has no password sign-in (its users sign in through an identity provider), so the gateway cannot send to it yet',
        404,
        'AUTH.NO_PASSWORD_SIGN_IN',
        true,
      );
      this.signInPausedUntil = performance.now() + REFUSED_SIGN_IN_PAUSE_MS;
      throw this.signInRefusal;
    }
    if (res.status === 401 || res.status === 429) {
      const retryAfter = Number(res.headers.get('retry-after'));
      const pause = res.status === 429 && retryAfter > 0 ? retryAfter * 1000 : REFUSED_SIGN_IN_PAUSE_MS;
      try {
        await TeleReadClient.fail(res, 'sign-in as the clinic technician was refused');
      } catch (e) {
        this.signInRefusal = e as TeleReadError;
        this.signInPausedUntil = performance.now() + pause;
        throw e;
      }
    }
    if (res.status !== 200) await TeleReadClient.fail(res, 'sign-in as the clinic technician failed');
    this.signInPausedUntil = 0;
    this.signInRefusal = null;
    this.token = z.object({ token: z.string() }).parse(await res.json()).token;
  }

  /** An authenticated call; on 401 (expired token, or a server restarted with new keys) sign in again once. */
  private async authed(method: string, path: string, body?: unknown): Promise<Response> {
    if (!this.token) await this.login();
    let res = await this.raw(method, path, body, this.token);
    if (res.status === 401) {
      await this.login();
      res = await this.raw(method, path, body, this.token);
    }
    return res;
  }

  /** POST /api/submissions (idempotent with a clientReference). */
  async createSubmission(input: CreateSubmission): Promise<SubmissionAnswer> {
    const res = await this.authed('POST', '/api/submissions', input);
    if (res.status !== 201 && res.status !== 200) await TeleReadClient.fail(res, 'creating the submission failed');
    return CreateSubmissionResponseSchema.parse(await res.json());
  }

  async getCase(caseId: string): Promise<CaseBrief> {
    const res = await this.authed('GET', `/api/cases/${encodeURIComponent(caseId)}`);
    if (res.status !== 200) await TeleReadClient.fail(res, 'reading the case failed');
    return CaseBriefSchema.parse(await res.json());
  }

  /** Streams a file to an upload target with its exact length (presigned URLs sign Content-Length). */
  upload(target: { url: string; headers: Record<string, string> }, path: string, size: number): Promise<void> {
    const url = new URL(target.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method: 'PUT', headers: { ...target.headers, 'content-length': String(size) }, timeout: 10 * 60_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.length < 64 && chunks.push(c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve();
          let code: string | null = null;
          try {
            code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string } }).error?.code ?? null;
          } catch {}
          // Every upload failure is retried: the next attempt asks for fresh targets.
          reject(new TeleReadError(`upload failed: HTTP ${status}${code ? ` ${code}` : ''}`, status, code, true));
        });
        res.on('error', (e) => reject(new TeleReadError(`upload failed (${e.message})`, null, null, true)));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => reject(new TeleReadError(`upload failed: TeleRead is unreachable (${(e as NodeJS.ErrnoException).code ?? e.message})`, null, null, true)));
      // pipeline closes the file when the request fails (pipe would leave it open on every retry).
      pipeline(createReadStream(path), req, () => undefined);
    });
  }
}
