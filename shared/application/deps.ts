import type { RoutingTable } from '../domain/routing.ts';
import type { AttemptLimiter } from '../ports/attempt-limiter.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import type { CaseRepository } from '../ports/case-repository.ts';
import type { Clock } from '../ports/clock.ts';
import type { Directory } from '../ports/directory.ts';
import type { IdGenerator } from '../ports/ids.ts';
import type { Logger } from '../ports/logger.ts';
import type { Notifier } from '../ports/notifier.ts';
import type { JobQueue, ReadQueue } from '../ports/queue.ts';
import type { ReportRenderer } from '../ports/report-renderer.ts';
import type { ReportSigner } from '../ports/signer.ts';
import type { StudyInspector } from '../ports/study-inspector.ts';
import type { UnitOfWork } from '../ports/unit-of-work.ts';
import type { UploadTargetSigner } from '../ports/upload-targets.ts';

/** Workflow settings that are policy, not wiring. */
export interface WorkflowSettings {
  /** Reading lease = the read message's visibility timeout. */
  leaseSeconds: number;
  /** Largest single upload accepted. */
  maxUploadBytes: number;
  uploadUrlTtlSeconds: number;
  /** Visibility of an ingest job while it runs; a crashed ingest is retried after it. */
  ingestVisibilitySeconds: number;
  /** A QUEUED case whose read message is not confirmed after this long is re-enqueued by the sweeper. */
  enqueueGraceSeconds: number;
  /** A submission still missing files this long after it was made is closed as REJECTED (its files are kept). */
  incompleteAfterHours: number;
}

export const DEFAULT_SETTINGS: WorkflowSettings = {
  leaseSeconds: 300,
  maxUploadBytes: 2 * 1024 ** 3,
  uploadUrlTtlSeconds: 300,
  ingestVisibilitySeconds: 60,
  enqueueGraceSeconds: 30,
  incompleteAfterHours: 24,
};

/** Everything a use case may touch: ports only, composed by local/ or functions/*.lambda.ts. */
export interface Deps {
  cases: CaseRepository;
  blobs: BlobStore;
  readQueue: ReadQueue;
  jobQueue: JobQueue;
  inspector: StudyInspector;
  signer: ReportSigner;
  /** Counts wrong signing PINs (SIGNING_PIN_POLICY) across instances. */
  attempts: AttemptLimiter;
  /** Renders the PDF of a signed report. */
  renderer: ReportRenderer;
  directory: Directory;
  uploads: UploadTargetSigner;
  notifier: Notifier;
  audit: AuditLog;
  /** Groups a use case's writes so they pay one durability wait (one WAL fsync locally) before it answers. */
  uow: UnitOfWork;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  settings: WorkflowSettings;
}

export const routingOf = (deps: Deps): RoutingTable => deps.directory.consortium().routing;
