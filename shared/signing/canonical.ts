/**
 * RFC 8785 (JSON Canonicalization Scheme) bytes of a JSON document.
 *
 * Serialization is delegated to `canonicalize` (sorted members by UTF-16 code units, ECMAScript
 * number and string serialization, no whitespace). Before that, the value is checked to be plain
 * I-JSON (RFC 7493), because `canonicalize` silently drops `undefined` members, turns `undefined`
 * array elements into `null`, serializes Maps as `{}`, calls `toJSON`, and lets lone surrogates
 * through as `\udXXX` escapes — any of which would make a signature cover something other than
 * what the caller thinks it signed.
 */
import canonicalizeModule from 'canonicalize';
import { AppError } from '../domain/errors.ts';

type Serialize = (input: unknown) => string | undefined;
// `canonicalize` is CommonJS (`module.exports = fn`) but its typings declare `export default`;
// depending on the loader's interop the default import is the function or `{ default: fn }`.
const canonicalize: Serialize =
  typeof canonicalizeModule === 'function'
    ? (canonicalizeModule as Serialize)
    : (canonicalizeModule as unknown as { default: Serialize }).default;

/** Deeper than any report; keeps hostile input from overflowing the stack. */
const MAX_DEPTH = 256;
/** Matches an unpaired UTF-16 surrogate (paired ones are one code point under the `u` flag). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const refuse = (path: string, what: string): never => {
  throw new AppError('CANONICAL.UNSUPPORTED_VALUE', 'invalid', `Cannot canonicalize ${path}: ${what}.`, { path });
};

const memberPath = (path: string, key: string) =>
  /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

function check(value: unknown, path: string, depth: number, open: Set<object>): void {
  switch (typeof value) {
    case 'string':
      if (LONE_SURROGATE.test(value)) refuse(path, 'a string holds an unpaired UTF-16 surrogate');
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) refuse(path, `${String(value)} is not a JSON number`);
      return;
    case 'undefined':
      return refuse(path, 'undefined is not a JSON value (omit the member or use null)');
    case 'bigint':
      return refuse(path, 'a bigint is not a JSON number (use a number or a string)');
    case 'symbol':
    case 'function':
      return refuse(path, `a ${typeof value} is not a JSON value`);
    case 'object':
      break;
  }
  if (value === null) return;
  const obj = value as object;
  if (depth >= MAX_DEPTH) refuse(path, `nesting deeper than ${MAX_DEPTH}`);
  if (open.has(obj)) refuse(path, 'the value refers to itself');
  open.add(obj);
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      if (!(i in obj)) refuse(`${path}[${i}]`, 'a sparse array hole is not a JSON value');
      check(obj[i], `${path}[${i}]`, depth + 1, open);
    }
  } else {
    const proto = Object.getPrototypeOf(obj) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      refuse(path, `a ${name} is not a plain JSON object (convert it first, e.g. a Date to an ISO string)`);
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) refuse(path, 'symbol-keyed members are not JSON');
    for (const key of Object.keys(obj)) {
      const p = memberPath(path, key);
      if (LONE_SURROGATE.test(key)) refuse(p, 'a member name holds an unpaired UTF-16 surrogate');
      check((obj as Record<string, unknown>)[key], p, depth + 1, open);
    }
  }
  open.delete(obj);
}

/** The RFC 8785 canonical form of `doc` as a string; throws CANONICAL.UNSUPPORTED_VALUE for non-JSON values. */
export function canonicalString(doc: unknown): string {
  check(doc, '$', 0, new Set());
  const text = canonicalize(doc);
  if (typeof text !== 'string') refuse('$', 'nothing to serialize');
  return text as string;
}

/** The UTF-8 bytes of the RFC 8785 canonical form of `doc`: exactly what a report signature covers. */
export function canonicalBytes(doc: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalString(doc));
}
