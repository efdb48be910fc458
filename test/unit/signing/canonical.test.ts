import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalString } from '../../../shared/signing/canonical.ts';
import { AppError } from '../../../shared/domain/errors.ts';

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

describe('canonicalBytes (RFC 8785)', () => {
  it('sorts members by UTF-16 code units and drops whitespace (RFC 8785 §3.2.3 sample)', () => {
    const doc = JSON.parse('{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}');
    expect(canonicalString(doc)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('serializes numbers like ECMAScript (RFC 8785 Appendix B samples)', () => {
    const samples: [string, string][] = [
      ['0000000000000000', '0'], ['8000000000000000', '0'], ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'], ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'], ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'], ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'], ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'], ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'], ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'], ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'], ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'], ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'], ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [hex, expected] of samples) {
      expect(canonicalString(Buffer.from(hex, 'hex').readDoubleBE(0)), hex).toBe(expected);
    }
  });

  it('matches the RFC 8785 reference vectors shipped with canonicalize', () => {
    const dir = join(dirname(createRequire(import.meta.url).resolve('canonicalize')), '..', 'test', 'testdata');
    const files = readdirSync(join(dir, 'input'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const input = JSON.parse(readFileSync(join(dir, 'input', f), 'utf8')) as unknown;
      expect(canonicalString(input), f).toBe(readFileSync(join(dir, 'output', f), 'utf8').trimEnd());
    }
  });

  it('escapes only what RFC 8785 escapes and writes the rest as UTF-8', () => {
    const bytes = canonicalBytes({ s: '\u0000\u001f\u007f\u2028"\\/é心😀' });
    expect(decode(bytes)).toBe('{"s":"\\u0000\\u001f\u007f\u2028\\"\\\\/é心😀"}');
    expect(Buffer.from(bytes).includes(Buffer.from('心', 'utf8'))).toBe(true);
  });

  it('ignores insertion order and formatting', () => {
    const a = canonicalBytes({ b: [1, { d: 2, c: 3 }], a: 'x' });
    const b = canonicalBytes(JSON.parse('{ "a" : "x",\n  "b": [ 1.0, {"c":3,"d":2e0} ] }'));
    expect(decode(a)).toBe('{"a":"x","b":[1,{"c":3,"d":2}]}');
    expect(decode(b)).toBe(decode(a));
  });

  it.each([
    ['undefined member', { a: 1, b: undefined }, '$.b'],
    ['undefined element', { a: [1, undefined] }, '$.a[1]'],
    ['top-level undefined', undefined, '$'],
    ['NaN', { x: { y: NaN } }, '$.x.y'],
    ['Infinity', [Infinity], '$[0]'],
    ['-Infinity', { 'odd key': -Infinity }, '$["odd key"]'],
    ['bigint', { n: 1n }, '$.n'],
    ['function', { f: () => 1 }, '$.f'],
    ['Date', { d: new Date(0) }, '$.d'],
    ['Map', { m: new Map() }, '$.m'],
    ['lone surrogate', { s: 'a\ud800b' }, '$.s'],
    ['sparse array', { a: [1, , 3] }, '$.a[1]'],
  ])('refuses %s with a clear error naming the path', (_, doc, path) => {
    let error: unknown;
    try {
      canonicalBytes(doc);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('CANONICAL.UNSUPPORTED_VALUE');
    expect((error as AppError).message).toContain(path);
  });

  it('refuses cycles instead of overflowing the stack', () => {
    const doc: Record<string, unknown> = { a: 1 };
    doc.self = doc;
    expect(() => canonicalBytes(doc)).toThrow(/refers to itself/);
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(() => canonicalBytes(deep)).toThrow(/nesting deeper/);
  });

  it('accepts -0 as 0 and paired surrogates', () => {
    expect(canonicalString({ z: -0, e: '😀' })).toBe('{"e":"😀","z":0}');
  });
});
