import { expect } from 'vitest';
import { AppError, type ErrorKind } from '../../../shared/domain/errors.ts';

/** Await `p` (or call it) and check it failed with an AppError of this code (and kind). */
export async function expectAppError(
  p: Promise<unknown> | (() => unknown),
  code: string,
  kind?: ErrorKind,
): Promise<AppError> {
  let err: unknown;
  let resolved = false;
  try {
    await (typeof p === 'function' ? p() : p);
    resolved = true;
  } catch (e) {
    err = e;
  }
  expect(resolved, `expected ${code}, but it succeeded`).toBe(false);
  expect(err, `expected AppError ${code}, got ${String(err)}`).toBeInstanceOf(AppError);
  const e = err as AppError;
  expect(e.code).toBe(code);
  if (kind) expect(e.kind).toBe(kind);
  return e;
}
