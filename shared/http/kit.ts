import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import type { Principal } from '../contracts/auth.ts';
import type { Deps } from '../application/deps.ts';
import { AppError } from '../domain/errors.ts';
import type { HttpExtras } from './app.ts';
import type { RouteDoc } from './openapi.ts';

export type Env = { Variables: { principal: Principal } };

/** What a route module needs: the app, the use-case deps, adapter extras and the shared request helpers. */
export interface RouteKit {
  app: Hono<Env>;
  deps: Deps;
  x: HttpExtras;
  /** Record a route for /api/openapi.json. */
  doc(d: RouteDoc): void;
  /** Parse and validate a JSON body (empty body = {}); REQUEST.INVALID_JSON / REQUEST.INVALID. */
  body<T>(c: Context, schema: z.ZodType<T>): Promise<T>;
  /** The authenticated caller (routes under the auth middleware only). */
  me(c: Context<Env>): Principal;
  /** The caseId path parameter; anything not shaped like one is simply not found. */
  caseId(c: Context): string;
}

export async function parseBody<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const text = await c.req.text();
  let raw: unknown = {};
  if (text.trim()) {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new AppError('REQUEST.INVALID_JSON', 'invalid', 'The request body is not valid JSON.');
    }
  }
  return schema.parse(raw);
}

export function caseIdParam(c: Context): string {
  const id = c.req.param('caseId') ?? '';
  if (!/^case-[A-Za-z0-9_-]{6,64}$/.test(id)) throw new AppError('CASE.NOT_FOUND', 'not_found', 'No such case.');
  return id;
}

/** A Web stream over bytes the use cases stream (blob reads), for a streamed Response body. */
export function toWebStream(src: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = src[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      const r = await it.next();
      if (r.done) ctrl.close();
      else ctrl.enqueue(r.value);
    },
    async cancel() {
      await it.return?.();
    },
  });
}
