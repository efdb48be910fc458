/**
 * The two public ways into TeleRead for the same ECGs, each into a fresh server with the same 4 clients:
 * the submission API (declare, then PUT the file: two requests per study, what the upload page and the
 * gateway use) and STOW-RS (one multipart request per study, answered once ingest has decided, what
 * DICOMweb senders use). Wall: first request → the last study QUEUED (the API: from the cases'
 * timelines; STOW: its last answer, which comes after ingest). Not a target of issue 8: it shows what
 * the one-request path costs against the declare-then-upload contract the ingest comparison drives.
 */
import { ingestThroughput } from './ingest.ts';
import { Client, httpRequest, now } from './lib/client.ts';
import { warmupFiles, type BenchFile } from './lib/files.ts';
import { startServerProcess } from './lib/server-process.ts';
import { round } from './lib/stats.ts';

export interface PathLeg {
  path: 'submission API' | 'STOW-RS';
  files: number;
  wallMs: number;
  filesPerSec: number;
  /** Server CPU (all threads) per file. */
  cpuMsPerFile: number;
  notQueued: number;
}

const BOUNDARY = 'TeleRead-bench-7f3a9c';

function stowBody(bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), Buffer.from(bytes), Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]);
}

async function stowLeg(files: BenchFile[], concurrency: number): Promise<PathLeg> {
  const srv = await startServerProcess();
  try {
    const tech = await Client.login(srv.url, 'tech-a');
    const store = (bytes: Uint8Array) =>
      httpRequest(`${srv.url}/dicomweb/studies`, 'POST', {
        headers: {
          authorization: `Bearer ${tech.token}`,
          'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`,
          accept: 'application/dicom+json',
          'x-teleread-consent': 'obtained',
        },
        body: stowBody(bytes),
      });
    // The same warm-up ECGs the other legs get, seeds no measured file uses.
    for (const f of warmupFiles(4_440_000).filter((w) => w.kind === 'ecg')) await store(f.bytes);
    await srv.resetPeak();
    let notQueued = 0;
    let next = 0;
    const t0 = now();
    let last = t0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < files.length; i = next++) {
          const r = await store(files[i]!.bytes);
          // 200: every instance stored, its case decided (QUEUED, or REJECTED with a failure in the answer).
          if (r.status !== 200) notQueued++;
          last = Math.max(last, r.doneAt);
        }
      }),
    );
    const st = await srv.stats();
    const wallMs = last - t0;
    return {
      path: 'STOW-RS',
      files: files.length,
      wallMs: round(wallMs, 1),
      filesPerSec: round(files.length / (wallMs / 1000), 2),
      cpuMsPerFile: round((st.cpuUserMs + st.cpuSystemMs) / files.length, 1),
      notQueued,
    };
  } finally {
    await srv.stop();
  }
}

export async function ingestPaths(files: BenchFile[], concurrency: number): Promise<{ legs: PathLeg[]; stowToApi: number }> {
  const api = await ingestThroughput('ECGs by the submission API', files, { concurrency });
  const legs: PathLeg[] = [
    {
      path: 'submission API',
      files: api.files,
      wallMs: api.wallMs,
      filesPerSec: api.filesPerSec,
      cpuMsPerFile: api.server.cpuMsPerFile,
      notQueued: api.files - api.accepted,
    },
    await stowLeg(files, concurrency),
  ];
  return { legs, stowToApi: round(legs[1]!.filesPerSec / legs[0]!.filesPerSec, 3) };
}
