import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { parseQidoQuery, retrieveFrames, retrieveInstances, retrieveMetadata, searchDicom, type QidoScope, type WadoTarget } from '../../application/dicomweb.ts';
import { dicomObjectReader } from '../../dicom/dicom-json.ts';
import { AppError } from '../../domain/errors.ts';
import type { ByteRun } from '../../ports/dicom-reader.ts';
import { toWebStream, type Env, type RouteKit } from '../kit.ts';
import { parseMediaType, type MediaType } from '../multipart.ts';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
/**
 * Where bytes can be fetched directly (AWS), the app runs in Lambda, whose responses are capped at 6 MB
 * and carry binary bodies base64-encoded (×4/3). A multipart answer cannot be a redirect to S3, so
 * larger ones are refused with a pointer to the per-file link.
 */
const LAMBDA_BODY_LIMIT = 4 * 1024 * 1024;
const CHUNK = 1024 * 1024;

/** Media types of compressed frames (PS3.18 Table 8.7.3-5), with the aliases clients send. */
const FRAME_MEDIA_TYPES: Record<string, string[]> = {
  '1.2.840.10008.1.2.4.50': ['image/jpeg'],
  '1.2.840.10008.1.2.4.51': ['image/jpeg'],
  '1.2.840.10008.1.2.4.57': ['image/jpeg'],
  '1.2.840.10008.1.2.4.70': ['image/jpeg'],
  '1.2.840.10008.1.2.4.80': ['image/jls', 'image/x-jls'],
  '1.2.840.10008.1.2.4.81': ['image/jls', 'image/x-jls'],
  '1.2.840.10008.1.2.4.90': ['image/jp2'],
  '1.2.840.10008.1.2.4.91': ['image/jp2'],
  '1.2.840.10008.1.2.5': ['image/dicom-rle', 'image/x-dicom-rle'],
};

interface AcceptRange {
  /** The media type asked for: the `type` parameter of multipart/related, or the type itself. */
  type: string;
  multipart: boolean;
  transferSyntax: string | undefined;
  q: number;
}

/** The Accept header as ranges, best first; absent = anything. */
function acceptRanges(header: string | undefined): AcceptRange[] {
  if (!header?.trim()) return [{ type: '*/*', multipart: true, transferSyntax: undefined, q: 1 }];
  const out: AcceptRange[] = [];
  // Commas separate ranges; quoted parameter values hold none in practice (type="application/dicom").
  for (const item of header.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)) {
    const m: MediaType | null = parseMediaType(item);
    if (!m) continue;
    const q = m.params.q !== undefined ? Number(m.params.q) : 1;
    if (!(q > 0)) continue;
    const multipart = m.type === 'multipart/related' || m.type === 'multipart/*';
    out.push({ type: multipart ? (m.params.type?.toLowerCase() ?? '*/*') : m.type, multipart: multipart || m.type === '*/*', transferSyntax: m.params['transfer-syntax'], q });
  }
  return out.sort((a, b) => b.q - a.q);
}

const typeMatches = (range: string, type: string) => range === '*/*' || range === type || (range.endsWith('/*') && type.startsWith(range.slice(0, -1)));

const notAcceptable = (message: string) => new AppError('DICOMWEB.NOT_ACCEPTABLE', 'not_acceptable', message);

/** QIDO-RS and metadata answer DICOM JSON only (no PS3.19 XML). */
function requireJson(c: Context): void {
  const ok = acceptRanges(c.req.header('accept')).some(
    (r) => (!r.multipart || r.type === '*/*') && ['application/dicom+json', 'application/json'].some((t) => typeMatches(r.type, t)),
  );
  if (!ok) throw notAcceptable('TeleRead answers searches and metadata as application/dicom+json only; send "Accept: application/dicom+json".');
}

/** Which representation of a frame to send: its media type and the transfer syntax it is in. */
function frameRepresentation(c: Context, native: boolean, storedTs: string): { mediaType: string; transferSyntax: string } {
  const offers = native
    ? [{ types: ['application/octet-stream'], ts: EXPLICIT_LE }]
    : [
        { types: FRAME_MEDIA_TYPES[storedTs] ?? ['application/octet-stream'], ts: storedTs },
        { types: ['application/octet-stream'], ts: storedTs },
      ];
  for (const r of acceptRanges(c.req.header('accept'))) {
    if (!r.multipart) continue;
    for (const o of offers) {
      const type = o.types.find((t) => typeMatches(r.type, t)) ?? (r.type === '*/*' ? o.types[0] : undefined);
      if (!type) continue;
      // application/octet-stream without a transfer syntax means uncompressed (Explicit VR Little Endian).
      const wanted = r.transferSyntax ?? (type === 'application/octet-stream' ? EXPLICIT_LE : undefined);
      if (wanted === undefined || wanted === '*' || wanted === o.ts) return { mediaType: type, transferSyntax: o.ts };
    }
  }
  throw notAcceptable(
    native
      ? 'These frames are uncompressed: ask for multipart/related; type="application/octet-stream".'
      : `These frames are stored compressed (transfer syntax ${storedTs}) and TeleRead does not transcode: ask for multipart/related; type="${(FRAME_MEDIA_TYPES[storedTs] ?? ['application/octet-stream'])[0]}" or type="application/octet-stream"; transfer-syntax=*.`,
  );
}

interface Part {
  contentType: string;
  length: number;
  body: () => AsyncIterable<Uint8Array>;
}

const enc = new TextEncoder();

/** A multipart/related response streamed part by part, with its exact Content-Length. */
function multipartResponse(parts: Part[], type: string, limit: number | null): Response {
  const boundary = `teleread-${randomBytes(16).toString('hex')}`;
  const heads = parts.map((p) => enc.encode(`--${boundary}\r\nContent-Type: ${p.contentType}\r\nContent-Length: ${p.length}\r\n\r\n`));
  const tail = enc.encode(`--${boundary}--\r\n`);
  const total = parts.reduce((n, p, i) => n + heads[i]!.length + p.length + 2, tail.length);
  if (limit !== null && total > limit)
    throw new AppError(
      'DICOMWEB.ANSWER_TOO_LARGE',
      'too_large',
      `This answer would be ${Math.ceil(total / 1024 / 1024)} MB, more than this deployment can send in one response: retrieve the instances one at a time, or fetch the file through its case (/api/cases/{caseId}/instances/{n} gives a short-lived direct link).`,
    );
  async function* body() {
    for (const [i, p] of parts.entries()) {
      yield heads[i]!;
      yield* p.body();
      yield enc.encode('\r\n');
    }
    yield tail;
  }
  return new Response(toWebStream(body()), {
    headers: {
      'content-type': `multipart/related; type="${type}"; boundary=${boundary}`,
      'content-length': String(total),
      'cache-control': 'private, no-store',
    },
  });
}


/** Frame numbers from the path ("1" or "1,3,5"): 1-based, at most 1000. */
function frameNumbers(raw: string): number[] {
  if (!/^\d{1,9}(,\d{1,9}){0,999}$/.test(raw)) throw new AppError('DICOMWEB.BAD_FRAME_LIST', 'invalid', 'Frames are given as 1-based numbers separated by commas, e.g. /frames/1 or /frames/1,2,3.');
  const n = raw.split(',').map(Number);
  if (n.some((x) => x < 1)) throw new AppError('DICOMWEB.BAD_FRAME_LIST', 'invalid', 'Frame numbers start at 1.');
  return n;
}

/** DICOMweb QIDO-RS and WADO-RS under /dicomweb (PS3.18), scoped like the rest of the API. */
export function registerDicomwebRoutes({ app, deps, x, doc, me }: RouteKit): void {
  const limit = x.objectUrl ? LAMBDA_BODY_LIMIT : null;
  const base = (c: Context) => `${new URL(c.req.url).origin}/dicomweb`;
  const params = (c: Context): Array<[string, string]> => [...new URL(c.req.url).searchParams.entries()];
  const target = (c: Context): WadoTarget => ({ studyInstanceUID: c.req.param('study')!, seriesInstanceUID: c.req.param('series'), sopInstanceUID: c.req.param('sop') });

  const qido = (level: 'study' | 'series' | 'instance', scoped: (c: Context) => QidoScope) => async (c: Context<Env>) => {
    requireJson(c);
    const q = parseQidoQuery(params(c), level);
    const r = await searchDicom(deps, me(c), level, scoped(c), q, base(c));
    // PS3.18 8.3.4.4.1: a server that returns fewer than matched says so in a Warning header.
    if (r.truncated) c.header('warning', '299 TeleRead: "The number of results exceeded the maximum supported by the server. Additional results can be requested."');
    c.header('cache-control', 'private, no-store');
    return c.body(JSON.stringify(r.items), 200, { 'content-type': 'application/dicom+json' });
  };
  const none = () => ({});
  const study = (c: Context) => ({ studyInstanceUID: c.req.param('study') });
  const series = (c: Context) => ({ studyInstanceUID: c.req.param('study'), seriesInstanceUID: c.req.param('series') });
  const qidoDoc = (path: string, summary: string) =>
    doc({ method: 'get', path, summary: `QIDO-RS: ${summary} (application/dicom+json; keys by keyword or tag, includefield, limit, offset)`, roles: 'all, scoped', responses: { '400': 'Unknown key or bad value', '406': 'Accept is not application/dicom+json' } });

  app.get('/dicomweb/studies', qido('study', none));
  qidoDoc('/dicomweb/studies', 'search for studies');
  app.get('/dicomweb/series', qido('series', none));
  qidoDoc('/dicomweb/series', 'search for series');
  app.get('/dicomweb/instances', qido('instance', none));
  qidoDoc('/dicomweb/instances', 'search for instances');
  app.get('/dicomweb/studies/:study/series', qido('series', study));
  qidoDoc('/dicomweb/studies/{StudyInstanceUID}/series', 'search for series of a study');
  app.get('/dicomweb/studies/:study/instances', qido('instance', study));
  qidoDoc('/dicomweb/studies/{StudyInstanceUID}/instances', 'search for instances of a study');
  app.get('/dicomweb/studies/:study/series/:series/instances', qido('instance', series));
  qidoDoc('/dicomweb/studies/{StudyInstanceUID}/series/{SeriesInstanceUID}/instances', 'search for instances of a series');

  const retrieve = async (c: Context<Env>) => {
    const asked = acceptRanges(c.req.header('accept')).find((r) => r.multipart && typeMatches(r.type, 'application/dicom'));
    if (!asked) throw notAcceptable('TeleRead sends instances as multipart/related; type="application/dicom" (as stored; it does not transcode).');
    const located = await retrieveInstances(deps, me(c), dicomObjectReader, target(c), asked.transferSyntax);
    return multipartResponse(
      located.map((i) => ({ contentType: 'application/dicom', length: i.size, body: () => deps.blobs.stream(i.key) })),
      'application/dicom',
      limit,
    );
  };
  app.get('/dicomweb/studies/:study', retrieve);
  app.get('/dicomweb/studies/:study/series/:series', retrieve);
  app.get('/dicomweb/studies/:study/series/:series/instances/:sop', retrieve);
  const wadoDoc = (path: string, summary: string) =>
    doc({ method: 'get', path, summary: `WADO-RS: ${summary}`, roles: 'reader of the pool, owning clinic, admin', responses: { '404': 'Not found or not visible to the caller', '406': 'Accept cannot be satisfied' } });
  wadoDoc('/dicomweb/studies/{StudyInstanceUID}', 'the study’s instances as stored (multipart/related; type="application/dicom")');
  wadoDoc('/dicomweb/studies/{StudyInstanceUID}/series/{SeriesInstanceUID}', 'the series’ instances as stored');
  wadoDoc('/dicomweb/studies/{StudyInstanceUID}/series/{SeriesInstanceUID}/instances/{SOPInstanceUID}', 'the instance as stored, byte-identical');

  const metadata = async (c: Context<Env>) => {
    requireJson(c);
    const items = await retrieveMetadata(deps, me(c), dicomObjectReader, target(c));
    c.header('cache-control', 'private, no-store');
    return c.body(JSON.stringify(items), 200, { 'content-type': 'application/dicom+json' });
  };
  app.get('/dicomweb/studies/:study/metadata', metadata);
  app.get('/dicomweb/studies/:study/series/:series/metadata', metadata);
  app.get('/dicomweb/studies/:study/series/:series/instances/:sop/metadata', metadata);
  wadoDoc('/dicomweb/studies/{StudyInstanceUID}/metadata', 'DICOM JSON of every instance’s header (PixelData and binary values over 64 KiB left out)');
  wadoDoc('/dicomweb/studies/{StudyInstanceUID}/series/{SeriesInstanceUID}/metadata', 'DICOM JSON of the series’ instances');
  wadoDoc('/dicomweb/studies/{StudyInstanceUID}/series/{SeriesInstanceUID}/instances/{SOPInstanceUID}/metadata', 'DICOM JSON of the instance');

  app.get('/dicomweb/studies/:study/series/:series/instances/:sop/frames/:frames', async (c) => {
    const numbers = frameNumbers(c.req.param('frames'));
    const r = await retrieveFrames(deps, me(c), dicomObjectReader, target(c), numbers);
    const native = r.layout.kind === 'native';
    const rep = frameRepresentation(c, native, r.layout.kind === 'encapsulated' ? r.layout.transferSyntaxUID : EXPLICIT_LE);
    const swap = r.layout.kind === 'native' ? r.layout.swapBytes : 0;
    const contentType = `${rep.mediaType}; transfer-syntax=${rep.transferSyntax}`;
    const parts = r.frames.map((runs) => ({
      contentType,
      length: runs.reduce((n, run) => n + run.length, 0),
      body: () => readRuns(r.key, runs, swap),
    }));
    return multipartResponse(parts, rep.mediaType, limit);
  });
  wadoDoc(
    '/dicomweb/studies/{StudyInstanceUID}/series/{SeriesInstanceUID}/instances/{SOPInstanceUID}/frames/{frames}',
    'frames (1-based, comma-separated): uncompressed as application/octet-stream, compressed as their bitstream (image/jpeg, image/jls, image/jp2, image/dicom-rle, or application/octet-stream with transfer-syntax=*)',
  );

  /** The bytes of a frame, read by range in bounded chunks (a frame of a large cine is never held whole). */
  async function* readRuns(key: string, runs: ByteRun[], swapWords: number): AsyncIterable<Uint8Array> {
    for (const run of runs) {
      for (let o = 0; o < run.length; o += CHUNK) {
        const b = await deps.blobs.readRange(key, run.offset + o, Math.min(CHUNK, run.length - o));
        yield swapWords ? swapped(b, swapWords) : b;
      }
    }
  }
}

/** Big-endian words to little-endian (frames travel in Explicit VR Little Endian byte order). */
function swapped(b: Uint8Array, word: number): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i + word <= b.length; i += word) for (let j = 0; j < word; j++) out[i + j] = b[i + word - 1 - j]!;
  return out;
}
