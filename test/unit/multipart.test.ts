import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/domain/errors.ts';
import { parseMediaType, readMultipart } from '../../shared/http/multipart.ts';

const B = 'b0undary-1234';

function body(parts: { headers?: string; content: Uint8Array }[], opts: { preamble?: string; leadingCrlf?: boolean; epilogue?: string; close?: boolean } = {}): Buffer {
  const out: Buffer[] = [];
  if (opts.preamble) out.push(Buffer.from(`${opts.preamble}\r\n`));
  else if (opts.leadingCrlf) out.push(Buffer.from('\r\n'));
  parts.forEach((p, i) => {
    out.push(Buffer.from(`${i ? '\r\n' : ''}--${B}\r\n${p.headers ?? 'Content-Type: application/dicom\r\n'}\r\n`));
    out.push(Buffer.from(p.content));
  });
  if (opts.close !== false) out.push(Buffer.from(`\r\n--${B}--${opts.epilogue ?? ''}`));
  return Buffer.concat(out);
}

async function* chunks(b: Uint8Array, size: number | number[]): AsyncIterable<Uint8Array> {
  const sizes = Array.isArray(size) ? size : [size];
  let i = 0;
  let k = 0;
  while (i < b.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]!);
    yield b.subarray(i, i + n);
    i += n;
  }
}

async function collect(src: Uint8Array, size: number | number[] = 64 * 1024) {
  const out: { headers: Record<string, string>; bytes: Buffer }[] = [];
  for await (const p of readMultipart(chunks(src, size), B)) {
    const bs: Uint8Array[] = [];
    for await (const c of p.body) bs.push(c);
    out.push({ headers: p.headers, bytes: Buffer.concat(bs) });
  }
  return out;
}

async function failure(b: Uint8Array, size = 7): Promise<AppError> {
  try {
    await collect(b, size);
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected the body to be refused');
}

describe('readMultipart (multipart/related, streaming)', () => {
  const a = randomBytes(5000);
  // Content that holds almost-delimiters: the reader must not cut a part on a prefix of the boundary.
  const tricky = Buffer.concat([Buffer.from(`x\r\n--${B.slice(0, 5)}y\r\n--${B}`.slice(0, -1)), randomBytes(300), Buffer.from('\r\n-')]);

  it('returns every part byte for byte, whatever the chunking', async () => {
    const b = body([{ content: a }, { content: tricky, headers: 'Content-Type: application/dicom\r\nContent-Location: x\r\n' }], { leadingCrlf: true });
    for (const size of [1, 2, 3, 7, 16, 17, 100, 4096, b.length, [1, 50, 3, 999]]) {
      const parts = await collect(b, size);
      expect(parts.map((p) => p.bytes.equals(a) || p.bytes.equals(tricky))).toEqual([true, true]);
      expect(parts[0]!.bytes.equals(a)).toBe(true);
      expect(parts[1]!.bytes.equals(tricky)).toBe(true);
      expect(parts[1]!.headers).toEqual({ 'content-type': 'application/dicom', 'content-location': 'x' });
    }
  });

  it('accepts a body opening with the delimiter, a preamble, an epilogue, padding and parts without headers', async () => {
    expect((await collect(body([{ content: a }]))).map((p) => p.bytes.length)).toEqual([5000]);
    expect((await collect(body([{ content: a }], { preamble: 'This is a preamble', epilogue: '\r\nignored epilogue' }), 13))[0]!.bytes.equals(a)).toBe(true);
    const padded = Buffer.concat([Buffer.from(`--${B} \t\r\n\r\n`), a, Buffer.from(`\r\n--${B}--\r\n`)]);
    const parts = await collect(padded, 5);
    expect(parts).toHaveLength(1);
    expect(parts[0]!.headers).toEqual({});
    expect(parts[0]!.bytes.equals(a)).toBe(true);
  });

  it('skips what a consumer leaves unread and goes on with the next part', async () => {
    const big = randomBytes(200_000);
    const b = body([{ content: big }, { content: a }]);
    const seen: number[] = [];
    for await (const p of readMultipart(chunks(b, 1000), B)) {
      let n = 0;
      for await (const c of p.body) {
        n += c.length;
        if (n > 10_000) break;
      }
      seen.push(n);
    }
    expect(seen[0]).toBeGreaterThan(10_000);
    expect(seen[0]).toBeLessThan(200_000);
    expect(seen[1]).toBe(5000);
  });

  it('refuses broken bodies with a reason', async () => {
    expect((await failure(Buffer.from('just some bytes, no delimiter at all'))).code).toBe('MULTIPART.NO_DELIMITER');
    expect((await failure(body([{ content: a }], { close: false }))).code).toBe('MULTIPART.TRUNCATED');
    expect((await failure(body([{ content: a }]).subarray(0, 3000))).code).toBe('MULTIPART.TRUNCATED');
    const t = await failure(body([{ content: a }, { content: new Uint8Array(0) }]));
    expect(t.code).toBe('MULTIPART.EMPTY_PART');
    expect(t.kind).toBe('invalid');
    expect((await failure(Buffer.from(`--${B}garbage\r\n\r\nx\r\n--${B}--`))).code).toBe('MULTIPART.MALFORMED');
    expect((await failure(Buffer.from(`--${B}\r\nno colon here\r\n\r\nx\r\n--${B}--`))).code).toBe('MULTIPART.MALFORMED');
    expect((await failure(Buffer.from(`--${B}\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\nx\r\n--${B}--`), 1000)).code).toBe('MULTIPART.HEADER_TOO_LARGE');
    const m = await failure(body([{ content: a }], { close: false }));
    expect(m.message).toContain(`--${B}--`);
  });

  it('an empty multipart (only the closing delimiter) has no parts', async () => {
    expect(await collect(Buffer.from(`--${B}--\r\n`))).toEqual([]);
  });
});

describe('parseMediaType', () => {
  it('reads type and parameters, quoted or not, case-insensitive names', () => {
    expect(parseMediaType('multipart/related; type="application/dicom"; boundary="a b:c"')).toEqual({
      type: 'multipart/related',
      params: { type: 'application/dicom', boundary: 'a b:c' },
    });
    expect(parseMediaType('Multipart/Related;Boundary=xyz;TYPE=application/dicom')).toEqual({
      type: 'multipart/related',
      params: { boundary: 'xyz', type: 'application/dicom' },
    });
    expect(parseMediaType('application/dicom')).toEqual({ type: 'application/dicom', params: {} });
    expect(parseMediaType('multipart/related; boundary="a\\"b"')?.params.boundary).toBe('a"b');
  });

  it('returns null for what is not a media type', () => {
    expect(parseMediaType(undefined)).toBeNull();
    expect(parseMediaType('')).toBeNull();
    expect(parseMediaType('dicom')).toBeNull();
    expect(parseMediaType('multipart/related; boundary')).toBeNull();
    expect(parseMediaType('multipart/related; boundary="unterminated')).toBeNull();
  });
});
