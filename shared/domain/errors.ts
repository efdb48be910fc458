/**
 * Typed failures with stable codes. The HTTP layer maps each code's kind to a status once
 * (shared/http/errors.ts); messages say what the caller can do and never carry PHI.
 */
export type ErrorKind =
  | 'invalid' // 400: the request is malformed or breaks a rule the caller can fix
  | 'unauthenticated' // 401
  | 'forbidden' // 403: authenticated, but the role may not do this at all
  | 'not_found' // 404: also what another clinic's resource answers
  | 'conflict' // 409: state does not allow it (already claimed, lease lost, …)
  | 'too_large' // 413
  | 'unsupported_media_type' // 415: the body is not in a media type this route takes
  | 'not_acceptable' // 406: no representation the Accept header allows can be produced
  | 'gone' // 410: an expired upload URL or lease
  | 'unprocessable' // 422: the content itself was refused (a rejected study)
  | 'rate_limited' // 429: too many attempts; details.retryAfterSeconds says when to try again
  | 'unavailable' // 503: a service TeleRead depends on cannot be reached; try again later
  | 'internal'; // 500: says nothing internal

export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    readonly details?: Record<string, unknown>,
    /** What went wrong underneath (logged by the HTTP layer by class and code only; never answered). */
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AppError';
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

export const invalid = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(code, 'invalid', message, details);
export const notFound = (code: string, message: string) => new AppError(code, 'not_found', message);
export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(code, 'conflict', message, details);
export const forbidden = (code: string, message: string) => new AppError(code, 'forbidden', message);
export const unauthenticated = (code: string, message: string) => new AppError(code, 'unauthenticated', message);
