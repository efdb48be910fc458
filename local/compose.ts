import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { admitListedUsers } from '../shared/application/auth.ts';
import { DEFAULT_SETTINGS, type Deps, type WorkflowSettings } from '../shared/application/deps.ts';
import { deliverReport, repairUnappliedSignatures } from '../shared/application/reports.ts';
import { ingestObject, reconcileUploads, repairUnconfirmedReads } from '../shared/application/ingest.ts';
import { runSweep } from '../shared/application/sweep.ts';
import { removeStaleStowStaging } from '../shared/application/stow.ts';
import { Argon2Hasher } from '../shared/adapters/local/argon2-hasher.ts';
import { FileDirectory } from '../shared/adapters/local/file-directory.ts';
import { FsBlobStore } from '../shared/adapters/local/fs-blob-store.ts';
import { RandomIds } from '../shared/adapters/local/ids.ts';
import { JoseTokenService } from '../shared/adapters/local/jose-token-service.ts';
import { JsonLogger } from '../shared/adapters/local/json-logger.ts';
import { HmacUploadTargetSigner } from '../shared/adapters/local/signed-upload-urls.ts';
import { openSqlite, type Database } from '../shared/adapters/local/sqlite.ts';
import { MemoryAttemptLimiter } from '../shared/adapters/local/memory-attempt-limiter.ts';
import { SqliteAttemptLimiter } from '../shared/adapters/local/sqlite-attempt-limiter.ts';
import { SqliteAuditLog } from '../shared/adapters/local/sqlite-audit-log.ts';
import { SqliteCaseRepository } from '../shared/adapters/local/sqlite-case-repository.ts';
import { SqliteNotifier } from '../shared/adapters/local/sqlite-notifier.ts';
import { SqliteJobQueue, SqliteQueue, SqliteReadQueue } from '../shared/adapters/local/sqlite-queue.ts';
import { WebhookNotifier, WebhookWorker, type WebhookJob } from '../shared/reports/webhook.ts';
import { SqliteSignerKeyStore } from '../shared/adapters/local/sqlite-signer-key-store.ts';
import { SqliteUnitOfWork } from '../shared/adapters/local/sqlite-unit-of-work.ts';
import { OidcIssuer } from '../shared/adapters/oidc/issuer.ts';
import { JwksTokenService } from '../shared/adapters/oidc/jwks-token-service.ts';
import type { LocalConfig } from '../shared/contracts/config.ts';
import { buildParseWorkerCore, createDicomInspector } from '../shared/dicom/inspector.ts';
import { createApp } from '../shared/http/app.ts';
import type { Clock } from '../shared/ports/clock.ts';
import type { JobMessage } from '../shared/ports/queue.ts';
import { systemClock } from '../shared/ports/clock.ts';
import type { Logger } from '../shared/ports/logger.ts';
import { canonicalBytes } from '../shared/signing/canonical.ts';
import { SealedKeyReportSigner } from '../shared/signing/sealed-key-signer.ts';
import type { ReportRenderer } from '../shared/ports/report-renderer.ts';
import { demoConsortium } from './demo.ts';
import { AppError } from '../shared/domain/errors.ts';
import { InProcessDispatcher, JobWorker, WakingQueue } from './workers.ts';
import { createStaticSite, WEB_DIST } from './static.ts';

/** Read-queue messages are redelivered only on lease expiry; releases send a fresh message. */
const READ_MAX_RECEIVES = 50;
const JOB_MAX_RECEIVES = 5;

export interface LocalSystem {
  deps: Deps;
  app: ReturnType<typeof createApp>;
  tokens: JoseTokenService;
  uploads: HmacUploadTargetSigner;
  ingestWorker: JobWorker;
  deliveryWorker: JobWorker;
  dataDir: string;
  /** The SQLite connection every local adapter shares (tests read its durability counters). */
  db: Database;
  /** Demo consortium created on this start (first start of a data directory). */
  createdDemo: boolean;
  start(): void;
  stop(): Promise<void>;
}

interface Secrets {
  token: string;
  upload: string;
}

function loadSecrets(dir: string): Secrets {
  const f = join(dir, 'secrets.json');
  if (!existsSync(f)) {
    const s: Secrets = { token: randomBytes(32).toString('base64url'), upload: randomBytes(32).toString('base64url') };
    writeFileSync(f, JSON.stringify(s), { mode: 0o600, flag: 'wx' });
  }
  return JSON.parse(readFileSync(f, 'utf8')) as Secrets;
}

/** Compose the local adapters over a data directory: what `npm start` runs and what the tests drive. */
export async function composeLocal(
  cfg: LocalConfig,
  opts: {
    clock?: Clock;
    log?: Logger;
    settings?: Partial<WorkflowSettings>;
    publicUrl?: string;
    /** The database could not be made durable (a failed fsync): the process should stop (main exits). */
    onFatal?: (e: Error) => void;
  } = {},
): Promise<LocalSystem> {
  const dataDir = resolve(cfg.TELEREAD_DATA_DIR);
  mkdirSync(join(dataDir, 'objects'), { recursive: true });
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? (cfg.TELEREAD_LOG === 'silent' ? { info() {}, warn() {}, error() {} } : new JsonLogger());
  const hasher = new Argon2Hasher();
  const consortiumFile = join(dataDir, 'consortium.json');
  const secrets = loadSecrets(dataDir);
  const db = openSqlite(join(dataDir, 'teleread.db'), {
    onFsyncFailure: (e) => {
      log.error('the database could not be made durable: no write is acknowledged until TeleRead restarts', { code: 'STORE.FSYNC_FAILED', cause: (e.cause as { code?: string } | undefined)?.code });
      opts.onFatal?.(e);
    },
  });
  const signer = new SealedKeyReportSigner(new SqliteSignerKeyStore(db), { scrypt: { N: 2 ** cfg.TELEREAD_SCRYPT_LOG_N, r: 8, p: 1 } });
  let createdDemo = false;
  if (!existsSync(consortiumFile)) {
    // Readers' keys first, the file last: a crash in between leaves no consortium whose signers cannot sign.
    const demo = await demoConsortium(hasher, cfg.TELEREAD_DEMO_PASSWORD);
    for (const u of demo.users.filter((x) => x.role === 'reader')) await signer.enrol(u.id, cfg.TELEREAD_DEMO_PIN);
    writeFileSync(`${consortiumFile}.tmp`, JSON.stringify(demo, null, 2), { mode: 0o600 });
    renameSync(`${consortiumFile}.tmp`, consortiumFile);
    createdDemo = true;
  }
  const directory = new FileDirectory(consortiumFile);
  // Clinics with a webhook in the consortium get each notification POSTed (HMAC-signed, retried, dead-lettered).
  // The POST leaves the machine: a received job first waits for the fsync of what it reports, which a
  // use case's unit of work may not have run yet.
  const webhookQueue = new SqliteQueue<WebhookJob>(db, 'job_queue', { clock, maxReceiveCount: JOB_MAX_RECEIVES, durableReceive: true });
  const webhookWorker = new WebhookWorker(webhookQueue, directory, { clock, log });
  const publicUrl = opts.publicUrl ?? cfg.TELEREAD_PUBLIC_URL ?? '';
  const uploads = new HmacUploadTargetSigner(Buffer.from(secrets.upload, 'base64url'), clock, publicUrl);
  const tokens = new JoseTokenService(Buffer.from(secrets.token, 'base64url'));
  const settings: WorkflowSettings = { ...DEFAULT_SETTINGS, leaseSeconds: cfg.TELEREAD_LEASE_SECONDS, ...opts.settings };
  const blobs = new FsBlobStore(join(dataDir, 'objects'));
  const jobQueue = new SqliteJobQueue(db, { clock, maxReceiveCount: JOB_MAX_RECEIVES });
  const wakingJobs = new WakingQueue(jobQueue);
  const deps: Deps = {
    cases: new SqliteCaseRepository(db),
    blobs,
    readQueue: new SqliteReadQueue(db, { clock, maxReceiveCount: READ_MAX_RECEIVES }),
    jobQueue: wakingJobs,
    inspector: createDicomInspector({
      workers: cfg.TELEREAD_PARSE_WORKERS,
      // The synthetic-study generator is loaded only when warm-up is on (it is off by default).
      warmup:
        cfg.TELEREAD_PARSE_WARMUP > 0
          ? { bytes: (await import('../shared/synth/studies.ts')).syntheticEcg({ seed: 1 }).bytes, runs: cfg.TELEREAD_PARSE_WARMUP }
          : undefined,
      workerCoreUrl:
        (await buildParseWorkerCore(join(dataDir, 'cache', 'parse-worker-core.mjs')).catch((e: unknown) => {
          log.warn('parse workers compile their code with tsx: the compiled build failed', { error: (e as Error)?.message });
          return null;
        })) ?? undefined,
    }),
    signer,
    attempts: new SqliteAttemptLimiter(db),
    // The CJK face is extracted from Debian's fonts-noto-cjk collection into <dataDir>/fonts on first render.
    renderer: lazyPdfRenderer(join(dataDir, 'fonts')),
    directory,
    uploads,
    notifier: new WebhookNotifier(new SqliteNotifier(db), webhookQueue, directory, () => webhookWorker.wake()),
    audit: new SqliteAuditLog(db),
    uow: new SqliteUnitOfWork(db),
    clock,
    ids: new RandomIds(),
    log,
    settings,
  };

  const ingestWorker = new JobWorker(
    deps,
    deps.jobQueue,
    'ingest',
    async (m) => {
      if (m.type === 'ingest') await ingestObject(deps, m.key, { storedAt: m.storedAt, sha256: m.sha256, size: m.size });
    },
    { concurrency: cfg.TELEREAD_INGEST_WORKERS, visibilitySeconds: settings.ingestVisibilitySeconds, idleMs: 500 },
  );
  const deliveryWorker = new JobWorker(
    deps,
    deps.jobQueue,
    'delivery',
    async (m) => {
      if (m.type === 'deliver') await deliverReport(deps, m.caseId, m.version);
    },
    { concurrency: 1, visibilitySeconds: 60, idleMs: 500 },
  );
  wakingJobs.onSend('ingest', () => ingestWorker.wake());
  // Small uploads go to ingest with the bytes this process has just received, instead of being read
  // back from disk; within a bound, since a burst can leave many waiting for an ingest worker.
  let heldForIngest = 0;
  const uploading = new Map<string, { supersede: () => void; settled: Promise<void> }>();
  const directIngest = new InProcessDispatcher<{ job: Extract<JobMessage, { type: 'ingest' }>; bytes?: Uint8Array }>(
    async ({ job, bytes }) => {
      try {
        await ingestObject(deps, job.key, { storedAt: job.storedAt, sha256: job.sha256, size: job.size, bytes });
      } finally {
        if (bytes) heldForIngest -= bytes.length;
      }
    },
    async ({ job }, e) => {
      log.warn('ingest failed; queued for retry', { error: (e as { code?: string })?.code ?? (e as Error)?.name });
      await deps.jobQueue.send('ingest', job, { deduplicationId: job.key });
    },
    cfg.TELEREAD_INGEST_WORKERS,
  );
  wakingJobs.onSend('delivery', () => deliveryWorker.wake());

  const receiveUpload = async (token: string, body: AsyncIterable<Uint8Array>, contentLength: number | null) => {
    const grant = uploads.verify(token);
    if (contentLength !== null && contentLength > grant.maxBytes) {
      throw new AppError('UPLOAD.TOO_LARGE', 'too_large', `This file is ${contentLength} bytes but ${grant.maxBytes} were declared. Declare the right size and upload again.`);
    }
    // One upload per target at a time, the newest winning: a client that retries after a network
    // error may find the server still waiting on its dead first connection, and two PUTs of one URL
    // would both pass the check below, the later rename replacing the file the first one's ingest is
    // reading. So an older PUT still arriving is aborted (its temp file removed) before this one starts.
    for (let older = uploading.get(grant.key); older; older = uploading.get(grant.key)) {
      older.supersede();
      await older.settled;
    }
    const upload = supersedable(body);
    let settle!: () => void;
    const entry = { supersede: upload.supersede, settled: new Promise<void>((r) => (settle = r)) };
    uploading.set(grant.key, entry);
    try {
      return await storeUpload(grant, upload.body, contentLength);
    } finally {
      if (uploading.get(grant.key) === entry) uploading.delete(grant.key);
      settle();
    }
  };

  const storeUpload = async (grant: { key: string; maxBytes: number }, body: AsyncIterable<Uint8Array>, contentLength: number | null) => {
    if (await deps.blobs.head(grant.key)) {
      throw new AppError('UPLOAD.ALREADY_RECEIVED', 'conflict', 'This file was already received; nothing to do.');
    }
    const keep = contentLength !== null && contentLength <= SMALL_UPLOAD_BYTES && heldForIngest + contentLength <= HELD_FOR_INGEST_BYTES;
    const chunks: Uint8Array[] = [];
    if (keep) heldForIngest += contentLength;
    let stored;
    try {
      stored = await deps.blobs.put(grant.key, keep ? keepChunks(body, chunks) : body, { maxBytes: grant.maxBytes, contentType: 'application/dicom' });
    } catch (e) {
      if (keep) heldForIngest -= contentLength;
      if (e instanceof AppError && e.code === 'BLOB.TOO_LARGE') {
        throw new AppError('UPLOAD.TOO_LARGE', 'too_large', `The file is larger than the ${grant.maxBytes} bytes declared. Declare the right size and upload again.`);
      }
      throw e;
    }
    // The local stand-in for "S3 object created → SQS ingest queue": ingest starts in this process at
    // once; a failure goes to the job queue, and after a crash the start-up reconcile finds the upload.
    const job = { type: 'ingest' as const, key: grant.key, storedAt: clock.now().toISOString(), sha256: stored.sha256, size: stored.size };
    let bytes: Uint8Array | undefined;
    if (keep) {
      bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      // What ingest holds is what it releases (the declared length was reserved).
      heldForIngest += bytes.length - contentLength;
    }
    directIngest.submit({ job, bytes });
    return { size: stored.size };
  };

  // With the consortium's identity provider configured, its ID tokens are the only way in: the
  // password sign-in (and the demo users' published password) is off.
  const oidc = cfg.TELEREAD_OIDC_ISSUER
    ? new OidcIssuer({ issuer: cfg.TELEREAD_OIDC_ISSUER, clientId: cfg.TELEREAD_OIDC_CLIENT_ID!, scope: cfg.TELEREAD_OIDC_SCOPE })
    : null;
  const app = createApp(deps, {
    ...(oidc
      ? { tokens: new JwksTokenService(oidc, { admit: admitListedUsers(deps) }), oidcConfig: () => oidc.authConfig() }
      : { tokens, passwordLogin: { hasher, attempts: new MemoryAttemptLimiter() } }),
    canonicalize: canonicalBytes,
    receiveUpload,
    staticPage: createStaticSite(WEB_DIST),
  });

  let sweeper: NodeJS.Timeout | null = null;
  return {
    deps,
    app,
    tokens,
    uploads,
    ingestWorker,
    deliveryWorker,
    dataDir,
    db,
    createdDemo,
    start() {
      ingestWorker.start();
      webhookWorker.start();
      deliveryWorker.start();
      const fail = (e: unknown) => log.error('sweep failed', { error: (e as { code?: string })?.code ?? (e as Error)?.name });
      // At start nothing of this process is in flight: every stored upload without an outcome needs a
      // job, every QUEUED case without a confirmed read message needs one, and crashed uploads' temp
      // files can go.
      blobs.removeStaleTempFiles(0).catch(fail);
      // So can STOW-RS parts a crashed request had staged (its sender got no answer and still holds them).
      removeStaleStowStaging(deps, 0).catch(fail);
      // One process owns these queues: jobs its predecessor had received can no longer finish.
      Promise.all([jobQueue.releaseInFlight('ingest'), jobQueue.releaseInFlight('delivery')])
        // A job the last run dead-lettered gets one more try per start.
        .then(() => reconcileUploads(deps, 0, { resendRecorded: true }))
        .then(() => repairUnconfirmedReads(deps, 0))
        .then(() => repairUnappliedSignatures(deps))
        .catch(fail);
      let sweeping = false;
      sweeper = setInterval(() => {
        // One sweep at a time: a slow sweep must not pile up behind a short interval.
        if (sweeping) return;
        sweeping = true;
        runSweep(deps, settings.enqueueGraceSeconds)
          .catch(fail)
          .finally(() => (sweeping = false));
      }, cfg.TELEREAD_SWEEP_MS);
      sweeper.unref();
    },
    async stop() {
      if (sweeper) clearInterval(sweeper);
      await directIngest.drain();
      await ingestWorker.stop();
      await deliveryWorker.stop();
      await webhookWorker.stop();
      await deps.inspector.close();
      db.close();
    },
  };
}

/**
 * The PDF stack (pdfkit, fontkit, the CJK face) is loaded on the first signature, not at start: a
 * server that only ingests and queues keeps tens of MB less resident.
 */
function lazyPdfRenderer(fontCacheDir: string): ReportRenderer {
  let loaded: Promise<ReportRenderer> | null = null;
  return {
    render(content, ctx) {
      loaded ??= Promise.all([import('../shared/reports/pdf.ts'), import('../shared/reports/font.ts')]).then(
        ([pdf, font]) => new pdf.PdfReportRenderer({ font: () => font.loadCjkFont({ cacheDir: fontCacheDir }) }),
      );
      return loaded.then((r) => r.render(content, ctx));
    },
  };
}

/** Uploads up to this size are handed to ingest in memory (ECGs, single ultrasound frames). */
const SMALL_UPLOAD_BYTES = 1024 * 1024;
/** At most this much upload data waits in memory for ingest at any time. */
const HELD_FOR_INGEST_BYTES = 16 * 1024 * 1024;

/** The body as it streams to the blob store, with each chunk also kept in `into`. */
async function* keepChunks(body: AsyncIterable<Uint8Array>, into: Uint8Array[]): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    into.push(chunk);
    yield chunk;
  }
}

/**
 * The body, made to fail with UPLOAD.SUPERSEDED when `supersede` is called. A Node request stream (what
 * the route hands over) is destroyed, which fails a pending read at once, even on a connection gone
 * silent, and releases it; no wrapper sits in its way. (Racing each read against a "superseded"
 * promise instead kept every chunk reachable from that never-settled promise: a 477 MiB upload then
 * held all of it in memory.) Any other iterable is checked between chunks.
 */
function supersedable(body: AsyncIterable<Uint8Array>): { body: AsyncIterable<Uint8Array>; supersede: () => void } {
  const reason = () => new AppError('UPLOAD.SUPERSEDED', 'conflict', 'A newer upload of this file replaced this one.');
  const stream = body as AsyncIterable<Uint8Array> & { destroy?: (e?: Error) => void };
  if (typeof stream.destroy === 'function') return { body, supersede: () => stream.destroy!(reason()) };
  let superseded = false;
  return {
    supersede: () => {
      superseded = true;
    },
    body: {
      async *[Symbol.asyncIterator]() {
        for await (const chunk of body) {
          if (superseded) throw reason();
          yield chunk;
        }
      },
    },
  };
}
