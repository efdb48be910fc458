/**
 * SQS semantics in both runtimes: at-least-once delivery, a visibility timeout, a receive count,
 * dead-lettering after `maxReceiveCount` receives, delete on success. Consumers are idempotent on a
 * business key, never on the message id.
 */
export interface Queue<T> {
  /**
   * `deduplicationId`: where the queue supports it (the local queues; SQS FIFO), a live message with
   * the same id in the same queue makes this send a no-op. Standard SQS queues ignore it.
   */
  send(queue: string, body: T, opts?: { delaySeconds?: number; deduplicationId?: string }): Promise<{ messageId: string }>;
  /**
   * Receive up to `max` visible messages. `queues` are tried in the given order (callers pass
   * STAT queues before URGENT before ROUTINE); within a queue, oldest first.
   */
  receive(queues: readonly string[], opts: { visibilityTimeoutSeconds: number; max?: number }): Promise<Message<T>[]>;
  /** Extend or shorten the invisibility of a received message (0 makes it visible now). */
  changeVisibility(queue: string, receipt: string, visibilityTimeoutSeconds: number): Promise<void>;
  delete(queue: string, receipt: string): Promise<void>;
  /** Visible + in-flight messages, for backlog figures and tests. */
  depth(queue: string): Promise<{ visible: number; inFlight: number; dead: number }>;
}

export interface Message<T> {
  messageId: string;
  queue: string;
  body: T;
  /** Opaque handle of this receive; a later receive of the same message gets a new one. */
  receipt: string;
  receiveCount: number;
  sentAt: string;
}

/** Messages on the read queues `<pool>.<priority>`: one per case waiting for a reader. */
export interface ReadMessage {
  caseId: string;
}
export type ReadQueue = Queue<ReadMessage>;

/** Background jobs: ingest of a stored object, delivery of a signed report. */
export type JobMessage =
  | {
      type: 'ingest';
      key: string;
      /** When the object was stored (S3 event time); the SLA's start. */
      storedAt?: string;
      /** SHA-256 (hex) computed while storing, where the storer could; saves re-reading the object. */
      sha256?: string;
      /** Its size in bytes, where the notice tells it (with storedAt, spares a HEAD of the object). */
      size?: number;
    }
  | { type: 'deliver'; caseId: string; version: number };
export type JobQueue = Queue<JobMessage>;

export const JOB_QUEUES = { ingest: 'ingest', delivery: 'delivery' } as const;
