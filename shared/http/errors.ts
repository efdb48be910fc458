import type { Context } from 'hono';
import { ZodError } from 'zod';
import { describeIssues } from '../contracts/describe.ts';
import { AppError, type ErrorKind } from '../domain/errors.ts';
import type { Logger } from '../ports/logger.ts';

const STATUS: Record<ErrorKind, 400 | 401 | 403 | 404 | 406 | 409 | 410 | 413 | 415 | 422 | 429 | 500 | 503> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  too_large: 413,
  unsupported_media_type: 415,
  not_acceptable: 406,
  unprocessable: 422,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

const CLIENT_GONE = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']);

/** The one place errors become HTTP: `{"error":{"code","message"}}`; 5xx say nothing internal. */
export function errorResponse(c: Context, e: unknown, log: Logger): Response {
  // The path without its capability token (an upload URL's token grants the upload).
  const path = c.req.path.replace(/^(\/api\/uploads\/)[^/]+/, '$1…');
  if (e instanceof AppError) {
    const body = { error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } };
    const retry = e.details?.['retryAfterSeconds'];
    if ((e.kind === 'rate_limited' || e.kind === 'unavailable') && typeof retry === 'number') c.header('Retry-After', String(Math.ceil(retry)));
    if (e.kind === 'unavailable') {
      // A service TeleRead depends on is down or misconfigured: the operator must hear of it, not only users.
      const cause = e.cause as { name?: string; code?: string; status?: number; cause?: { code?: string } } | undefined;
      log.warn('a service TeleRead depends on failed', { code: e.code, cause: cause?.name, causeCode: cause?.code ?? cause?.cause?.code, status: cause?.status, path, method: c.req.method });
    }
    return c.json(body, STATUS[e.kind]);
  }
  if (e instanceof ZodError) {
    return c.json({ error: { code: 'REQUEST.INVALID', message: describeIssues(e) } }, 400);
  }
  // Only the error's class and code reach the log: messages from libraries may quote request data.
  const err = e as { name?: string; code?: string };
  if (CLIENT_GONE.has(err?.code ?? '')) {
    // The client went away mid-request (a dropped link, a cut silent upload): nothing of ours failed.
    log.warn('request ended by the client', { code: err.code, path, method: c.req.method });
  } else {
    log.error('unhandled error', { name: err?.name, code: err?.code, path, method: c.req.method });
  }
  return c.json({ error: { code: 'INTERNAL', message: 'Something went wrong on our side. Try again; if it persists, tell the administrator.' } }, 500);
}
