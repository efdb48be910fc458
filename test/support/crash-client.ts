import { sleep } from './crash-server.ts';

export type UploadKind = 'ecg' | 'dx' | 'us' | 'pdf' | 'random';

/** One file of the crash run: one submission, one PUT (re-tried on network errors), and what the client saw. */
export interface CrashUpload {
  n: number;
  kind: UploadKind;
  name: string;
  bytes: Uint8Array;
  /** SOPInstanceUID of a good file; null for a bad one. */
  sop: string | null;
  bad: boolean;
  /** Send the body as a slow chunked stream (so a kill can land in the middle of it), or in one piece. */
  slow: boolean;
  state: 'new' | 'submitted' | 'accepted' | 'never-accepted';
  busy: boolean;
  caseId?: string;
  submissionId?: string;
  url?: string;
  headers?: Record<string, string>;
  postNetErrors: number;
  putNetErrors: number;
  /** HTTP statuses of every PUT that got an answer, in order. */
  putStatuses: number[];
  acceptedBy?: 201 | 409;
  neverAcceptedWhy?: string;
}

export interface LaneControl {
  stopped: boolean;
}

/**
 * The technician side of the crash test: lanes that submit the next file and upload it, re-try the
 * PUTs that failed on a network error, and record every HTTP outcome. A network error ends a lane
 * (the server is gone); the caller starts new lanes after the restart.
 */
export class CrashClient {
  readonly inFlight = { post: 0, put: 0 };
  readonly stats = { posts: 0, postNetErrors: 0, puts: 0, putNetErrors: 0, put201: 0, put409: 0, put410: 0, reput201: 0 };
  /** Answers the client did not expect (any is a test failure). */
  readonly unexpected: string[] = [];

  constructor(
    readonly items: CrashUpload[],
    private readonly base: string,
    private readonly token: string,
    private readonly rand: () => number,
    private readonly pace: { minMs: number; maxMs: number },
  ) {}

  /** Work left: a file not yet submitted, or a submitted one whose PUT has no definite answer yet. */
  pending(): number {
    return this.items.filter((i) => i.state === 'new' || i.state === 'submitted').length;
  }

  /** Files not yet submitted. */
  unsubmitted(): number {
    return this.items.filter((i) => i.state === 'new').length;
  }

  /**
   * Run lanes until stopped or out of work. `maxNewFiles` caps the new submissions of this run (re-tries
   * are not capped), so the files spread over all cycles however fast the machine is.
   */
  run(lanes: number, ctl: LaneControl, opts: { stopOnNetError: boolean; pace: boolean; maxNewFiles?: number }): Promise<void> {
    const budget = { left: opts.maxNewFiles ?? Infinity };
    return Promise.all(Array.from({ length: lanes }, () => this.lane(ctl, opts, budget))).then(() => undefined);
  }

  private pick(budget: { left: number }): CrashUpload | undefined {
    // Re-try interrupted uploads first, then take the next new file.
    const retry = this.items.find((i) => !i.busy && i.state === 'submitted');
    if (retry || budget.left <= 0) return retry;
    const next = this.items.find((i) => !i.busy && i.state === 'new');
    if (next) budget.left--;
    return next;
  }

  private async lane(ctl: LaneControl, opts: { stopOnNetError: boolean; pace: boolean }, budget: { left: number }): Promise<void> {
    while (!ctl.stopped) {
      const it = this.pick(budget);
      if (!it) return;
      it.busy = true;
      let net = false;
      try {
        if (it.state === 'new') net = (await this.post(it)) === 'net';
        if (!net && !ctl.stopped && it.state === 'submitted') net = (await this.put(it)) === 'net';
      } finally {
        it.busy = false;
      }
      if (net) {
        if (opts.stopOnNetError) return;
        await sleep(100);
      } else if (opts.pace) {
        await sleep(this.pace.minMs + Math.floor(this.rand() * (this.pace.maxMs - this.pace.minMs)));
      }
    }
  }

  private async post(it: CrashUpload): Promise<'ok' | 'net' | 'failed'> {
    this.stats.posts++;
    this.inFlight.post++;
    let status: number;
    let json: any;
    try {
      const r = await fetch(`${this.base}/api/submissions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          patient: { id: `P-CRASH-${String(it.n).padStart(3, '0')}`, name: 'Crash^Test', sex: 'M', birthDate: '1960-02-03' },
          consent: { obtained: true },
          priority: 'routine',
          files: [{ name: it.name, size: it.bytes.length }],
        }),
      });
      status = r.status;
      json = await r.json().catch(() => null);
      // Killed while the answer was on its way: we cannot know the case, so it is as if it failed.
      if (status === 201 && !json?.caseId) throw new Error('answer cut off');
    } catch {
      it.postNetErrors++;
      this.stats.postNetErrors++;
      return 'net';
    } finally {
      this.inFlight.post--;
    }
    if (status !== 201) {
      this.unexpected.push(`file ${it.n}: POST /api/submissions answered ${status} ${JSON.stringify(json)}`);
      it.state = 'never-accepted';
      it.neverAcceptedWhy = `submission refused ${status}`;
      return 'failed';
    }
    const u = json.uploads?.[0];
    it.caseId = json.caseId;
    it.submissionId = json.submissionId;
    it.url = u.url;
    it.headers = u.headers ?? {};
    it.state = 'submitted';
    return 'ok';
  }

  private async put(it: CrashUpload): Promise<'ok' | 'net' | 'failed'> {
    this.stats.puts++;
    this.inFlight.put++;
    const retry = it.putNetErrors > 0;
    let status: number;
    let json: any = null;
    try {
      // Re-tries go in one piece: a 409 may be answered before a streamed body is fully sent.
      const body = it.slow && !retry ? slowStream(it.bytes, 16 * 1024, 12) : it.bytes;
      const r = await fetch(it.url!, { method: 'PUT', headers: it.headers, body, duplex: 'half' } as RequestInit);
      status = r.status;
      if (status === 201) {
        // The status is sent after the bytes are stored and the ingest job queued: it is the answer.
        await r.arrayBuffer().catch(() => undefined);
      } else {
        json = await r.json();
      }
    } catch {
      it.putNetErrors++;
      this.stats.putNetErrors++;
      return 'net';
    } finally {
      this.inFlight.put--;
    }
    it.putStatuses.push(status);
    if (status === 201) {
      this.stats.put201++;
      if (retry) this.stats.reput201++;
      it.state = 'accepted';
      it.acceptedBy = 201;
      return 'ok';
    }
    if (status === 409 && json?.error?.code === 'UPLOAD.ALREADY_RECEIVED') {
      this.stats.put409++;
      if (!retry) this.unexpected.push(`file ${it.n}: first PUT answered 409 UPLOAD.ALREADY_RECEIVED`);
      it.state = 'accepted';
      it.acceptedBy = 409;
      return 'ok';
    }
    if (status === 410) {
      this.stats.put410++;
      it.state = 'never-accepted';
      it.neverAcceptedWhy = 'upload URL expired';
      return 'ok';
    }
    this.unexpected.push(`file ${it.n}: PUT answered ${status} ${JSON.stringify(json)}`);
    it.state = 'never-accepted';
    it.neverAcceptedWhy = `PUT ${status}`;
    return 'failed';
  }
}

/** The bytes as a chunked request body, `chunk` bytes every `gapMs`: a kill can land mid-body. */
function slowStream(bytes: Uint8Array, chunk: number, gapMs: number): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      if (off >= bytes.length) {
        ctrl.close();
        return;
      }
      if (off > 0) await sleep(gapMs);
      ctrl.enqueue(bytes.slice(off, off + chunk));
      off += chunk;
    },
  });
}
