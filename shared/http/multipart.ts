/**
 * A streaming reader of MIME multipart bodies (RFC 2046) with any boundary, for STOW-RS
 * `multipart/related`. The maintained parsers at hand either handle only multipart/form-data
 * (busboy) or buffer each part whole (@remix-run/multipart-parser); a DICOM part may be a 500 MB
 * cine, so parts are handed out as streams and at most one delimiter's length is held back.
 */
import { AppError } from '../domain/errors.ts';

export interface MultipartPart {
  /** Part headers, names lower-cased. */
  headers: Record<string, string>;
  /**
   * The part's bytes. Read it once; what is left unread (a consumer that stops early, e.g. on a size
   * limit) is skipped when the next part is requested.
   */
  body: AsyncIterable<Uint8Array>;
}

export interface MultipartLimits {
  /** Largest header block of one part (default 16 KiB). */
  maxHeaderBytes?: number;
  /** Bytes scanned for the first delimiter before giving up (default 64 KiB). */
  maxPreambleBytes?: number;
}

const bad = (code: string, message: string) => new AppError(code, 'invalid', message);

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
/** RFC 2046 bchars, 1 to 70 of them, not ending in a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

export interface MediaType {
  /** type/subtype, lower-cased. */
  type: string;
  /** Parameters, names lower-cased, quoted values unquoted. */
  params: Record<string, string>;
}

/** Parses a Content-Type value (RFC 9110 media-type with parameters); null when it is not one. */
export function parseMediaType(value: string | undefined): MediaType | null {
  if (!value) return null;
  const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/.exec(value);
  if (!m) return null;
  const params: Record<string, string> = {};
  let rest = value.slice(m[0].length);
  // Unquoted values are read leniently (type=application/dicom is common though "/" is not a token char).
  const param = /^;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)=(?:"((?:[^"\\]|\\.)*)"|([^;\s"]+))\s*/;
  while (rest.length) {
    if (/^;\s*$/.test(rest)) break;
    const p = param.exec(rest);
    if (!p) return null;
    const name = p[1]!.toLowerCase();
    if (!(name in params)) params[name] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
    rest = rest.slice(p[0].length);
  }
  return { type: m[1]!.toLowerCase(), params };
}

/** Checks a multipart boundary parameter: 1 to 70 RFC 2046 characters. */
export function assertBoundary(boundary: string | undefined): string {
  if (!boundary) {
    throw bad('MULTIPART.NO_BOUNDARY', 'Content-Type has no boundary parameter: send multipart/related; type="application/dicom"; boundary=<the delimiter used in the body>.');
  }
  if (!BOUNDARY.test(boundary)) {
    throw bad('MULTIPART.BAD_BOUNDARY', 'The boundary parameter must be 1 to 70 characters of letters, digits and \'()+_,-./:=? (RFC 2046), not ending in a space.');
  }
  return boundary;
}

/**
 * Reads the parts of a multipart body one at a time, as streams. Throws MULTIPART.* AppErrors
 * (kind `invalid`) for a body without the boundary, a body cut short before the closing delimiter,
 * a part without content, an oversized header block or bytes that break the delimiter syntax.
 */
export async function* readMultipart(source: AsyncIterable<Uint8Array>, boundary: string, limits: MultipartLimits = {}): AsyncGenerator<MultipartPart, void, undefined> {
  const r = new Reader(source, assertBoundary(boundary), limits.maxHeaderBytes ?? 16 * 1024);
  await r.skipPreamble(limits.maxPreambleBytes ?? 64 * 1024);
  while (await r.startPart()) {
    const headers = await r.readHeaders();
    const reader = r;
    yield {
      headers,
      body: {
        [Symbol.asyncIterator]: () => ({
          next: async (): Promise<IteratorResult<Uint8Array>> => {
            const chunk = await reader.bodyChunk();
            return chunk ? { done: false, value: chunk } : { done: true, value: undefined };
          },
          // Stopping early leaves the rest for `skipBody`: the stream is shared with the next part.
          return: async (): Promise<IteratorResult<Uint8Array>> => ({ done: true, value: undefined }),
        }),
      },
    };
    await r.skipBody();
  }
  await r.drainEpilogue();
}

class Reader {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private readonly it: AsyncIterator<Uint8Array>;
  private readonly delimiter: Buffer;
  private inBody = false;
  /** The current part's closing delimiter was consumed together with its last bytes. */
  private pendingEnd = false;
  private partBytes = 0;

  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly boundary: string,
    private readonly maxHeaderBytes: number,
  ) {
    this.it = source[Symbol.asyncIterator]();
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  /** Appends the next chunk of the source; false at its end. */
  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }

  private async need(n: number): Promise<boolean> {
    while (this.buf.length < n) if (!(await this.fill())) return false;
    return true;
  }

  private truncated(): AppError {
    return bad(
      'MULTIPART.TRUNCATED',
      `The body ended before the closing delimiter "--${this.boundary}--": the request was cut short or not closed. Send the whole request again.`,
    );
  }

  /** The first delimiter may open the body or follow a preamble and CRLF: a virtual CRLF covers both. */
  async skipPreamble(maxBytes: number): Promise<void> {
    this.buf = Buffer.from(CRLF);
    let scanned = 0;
    for (;;) {
      const i = this.buf.indexOf(this.delimiter);
      if (i >= 0) {
        this.buf = this.buf.subarray(i + this.delimiter.length);
        return;
      }
      const keep = Math.min(this.buf.length, this.delimiter.length - 1);
      scanned += this.buf.length - keep;
      this.buf = this.buf.subarray(this.buf.length - keep);
      if (scanned > maxBytes || !(await this.fill())) {
        throw bad(
          'MULTIPART.NO_DELIMITER',
          `The body does not start with the boundary given in Content-Type ("--${this.boundary}"): every part must be preceded by that delimiter.`,
        );
      }
    }
  }

  /** Just after a delimiter: true if a part follows, false after the closing "--". */
  async startPart(): Promise<boolean> {
    if (!(await this.need(2))) throw this.truncated();
    if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) {
      this.buf = this.buf.subarray(2);
      return false;
    }
    // Transport padding (spaces, tabs) may follow the boundary before its CRLF.
    for (;;) {
      if (!(await this.need(1))) throw this.truncated();
      if (this.buf[0] !== 0x20 && this.buf[0] !== 0x09) break;
      this.buf = this.buf.subarray(1);
    }
    if (!(await this.need(2))) throw this.truncated();
    if (this.buf[0] !== 0x0d || this.buf[1] !== 0x0a) {
      throw bad('MULTIPART.MALFORMED', `A boundary delimiter must be followed by a line break or by "--" (RFC 2046); check the boundary "${this.boundary}".`);
    }
    this.buf = this.buf.subarray(2);
    return true;
  }

  async readHeaders(): Promise<Record<string, string>> {
    const headers: Record<string, string> = {};
    if (!(await this.need(2))) throw this.truncated();
    let block: string;
    if (this.buf[0] === 0x0d && this.buf[1] === 0x0a) {
      this.buf = this.buf.subarray(2);
      block = '';
    } else {
      let i: number;
      while ((i = this.buf.indexOf(HEADER_END)) < 0) {
        if (this.buf.length > this.maxHeaderBytes) throw bad('MULTIPART.HEADER_TOO_LARGE', `A part's headers are larger than ${this.maxHeaderBytes} bytes.`);
        if (!(await this.fill())) throw this.truncated();
      }
      if (i > this.maxHeaderBytes) throw bad('MULTIPART.HEADER_TOO_LARGE', `A part's headers are larger than ${this.maxHeaderBytes} bytes.`);
      block = this.buf.subarray(0, i).toString('latin1');
      this.buf = this.buf.subarray(i + HEADER_END.length);
    }
    for (const line of block ? block.split('\r\n') : []) {
      const c = line.indexOf(':');
      if (c <= 0) throw bad('MULTIPART.MALFORMED', 'A part header line is not "Name: value"; each part starts with its headers, an empty line, then its content.');
      headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
    }
    this.inBody = true;
    this.partBytes = 0;
    return headers;
  }

  /** The next bytes of the current part, or null at its closing delimiter. */
  async bodyChunk(): Promise<Uint8Array | null> {
    if (!this.inBody) return null;
    if (this.pendingEnd) return this.endBody();
    for (;;) {
      const i = this.buf.indexOf(this.delimiter);
      if (i >= 0) {
        const out = this.buf.subarray(0, i);
        this.buf = this.buf.subarray(i + this.delimiter.length);
        this.partBytes += out.length;
        if (out.length) {
          // The delimiter is consumed; the next call reports the end.
          this.pendingEnd = true;
          return out;
        }
        return this.endBody();
      }
      // Everything but a possible start of the delimiter can go out now.
      const keep = Math.min(this.buf.length, this.delimiter.length - 1);
      if (this.buf.length > keep) {
        const out = this.buf.subarray(0, this.buf.length - keep);
        this.buf = this.buf.subarray(this.buf.length - keep);
        this.partBytes += out.length;
        return out;
      }
      if (!(await this.fill())) throw this.truncated();
    }
  }

  private endBody(): null {
    this.inBody = false;
    this.pendingEnd = false;
    if (this.partBytes === 0) {
      throw bad('MULTIPART.EMPTY_PART', 'A part has no content: every part must carry one DICOM instance (a Part 10 file). Remove the empty part and send again.');
    }
    return null;
  }

  async skipBody(): Promise<void> {
    while ((await this.bodyChunk()) !== null) {
      /* discard what the consumer left unread */
    }
  }

  /** Text after the closing delimiter carries no meaning; read a little so the client is not cut off mid-send. */
  async drainEpilogue(): Promise<void> {
    let seen = this.buf.length;
    this.buf = Buffer.alloc(0);
    while (seen < 1024 * 1024 && (await this.fill())) {
      seen += this.buf.length;
      this.buf = Buffer.alloc(0);
    }
  }
}
