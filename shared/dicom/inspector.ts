/**
 * The StudyInspector adapter: reads as little of an upload as routing needs (a growing prefix up to
 * PixelData for images, the whole object for ECG waveforms, HL7 aECG and SCP-ECG files — all under
 * `maxWaveformBytes`), parses it in a worker_threads pool with
 * resource limits and a per-file timeout, and checks encapsulated pixel data through the ByteSource.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ByteSource, InspectOutcome, StudyInspector, WaveformOutcome } from '../ports/study-inspector.ts';
import { REEXPORT } from './codes.ts';
import { walkEncapsulated, windowedReader } from './pixel-check.ts';
import { analyzeBuffer, readWaveformBuffer, type AnalyzeOptions, type AnalyzeResult, type WaveformResult } from './worker-core.ts';

export interface DicomInspectorOptions {
  /** Parse workers (default: min(2, cores)). */
  workers?: number;
  /** Time one file may spend in the parser before the worker is killed (default 10 s). */
  timeoutMs?: number;
  /** Largest header prefix read for an image (default 8 MiB). */
  maxHeaderBytes?: number;
  /** Largest waveform (or deflated) object read whole (default 32 MiB). */
  maxWaveformBytes?: number;
  /** Largest inflated size of a deflated dataset (default 64 MiB). */
  maxInflatedBytes?: number;
  /** Largest file accepted at all (default 4 GiB). */
  maxFileBytes?: number;
  /** First prefix read (default 256 KiB). */
  initialPrefixBytes?: number;
  /** Worker heap cap (old generation, MiB; default 256). */
  maxOldGenerationSizeMb?: number;
  /** Worker stack size (MiB; default 4). */
  stackSizeMb?: number;
  /** Run the ECG module on waveforms (default true). */
  ecg?: boolean;
  /**
   * A compiled JavaScript build of worker-core.ts for the workers to load (see `buildParseWorkerCore`);
   * without it each worker compiles the TypeScript with tsx (slower to start, ~30 MiB more resident).
   */
  workerCoreUrl?: string;
  /**
   * A file each new worker analyses `runs` times while it has nothing else to do, so that V8 has
   * compiled the ECG analysis before real uploads arrive (a cold worker spends about twice the CPU
   * per ECG for its first few dozen). Real files always go first.
   */
  warmup?: { bytes: Uint8Array; runs: number; /** Called after each warm-up run (tests). */ onRun?: () => void };
  /**
   * Tests only: the worker hangs on a file starting with 'TELEREAD-TEST-HANG' and exhausts its heap
   * on 'TELEREAD-TEST-OOM', so timeouts and crashes can be tested deterministically. Off by default.
   */
  testHooks?: boolean;
}

type Analyze = (bytes: Uint8Array, fileSize: number, timeoutMs: number) => Promise<AnalyzeResult>;

const MiB = 1024 * 1024;

interface Resolved {
  timeoutMs: number;
  maxHeaderBytes: number;
  maxWaveformBytes: number;
  maxFileBytes: number;
  initialPrefixBytes: number;
}

function resolve(o: DicomInspectorOptions): Resolved {
  return {
    timeoutMs: o.timeoutMs ?? 10_000,
    maxHeaderBytes: o.maxHeaderBytes ?? 8 * MiB,
    maxWaveformBytes: o.maxWaveformBytes ?? 32 * MiB,
    maxFileBytes: o.maxFileBytes ?? 4 * 1024 * MiB,
    initialPrefixBytes: o.initialPrefixBytes ?? 256 * 1024,
  };
}

const refusal = (code: string, message: string): InspectOutcome => ({ ok: false, code, message });

const mib = (n: number) => `${Math.round((n / MiB) * 10) / 10} MiB`;

/** The read / analyse / grow loop shared by the worker pool and the in-process inspector. */
export async function runInspection(source: ByteSource, analyze: Analyze, r: Resolved): Promise<InspectOutcome> {
  const size = source.size;
  if (!Number.isSafeInteger(size) || size < 0) return refusal('FILE.READ_FAILED', 'The uploaded file could not be read. Upload it again.');
  if (size === 0)
    return refusal('FILE.EMPTY', 'The file is empty (0 bytes). The export or the copy failed: export the study from the device again.');
  if (size > r.maxFileBytes)
    return refusal('FILE.TOO_LARGE', `The file is ${mib(size)}, more than the ${mib(r.maxFileBytes)} TeleRead accepts. Export fewer frames or a compressed (JPEG) version.`);
  // The timeout budget is parse time only (slow storage reads do not count against the file).
  let budget = r.timeoutMs;
  let len = Math.min(size, r.initialPrefixBytes, r.maxHeaderBytes);
  for (let round = 0; round < 64; round++) {
    let bytes: Uint8Array;
    try {
      bytes = await source.readRange(0, len);
    } catch {
      return refusal('FILE.READ_FAILED', 'The uploaded file could not be read from storage. Upload it again.');
    }
    if (bytes.length !== len) return refusal('FILE.READ_FAILED', 'The uploaded file could not be read completely. Upload it again.');
    if (budget <= 0) return timeoutRefusal();
    const started = Date.now();
    const res = await analyze(bytes, size, budget);
    budget -= Date.now() - started;
    if (res.kind === 'refused') return refusal(res.code, res.message);
    if (res.kind === 'ok') {
      if (res.pixelCheck) {
        const w = await walkEncapsulated(windowedReader(source), size, res.pixelCheck.offset, res.pixelCheck.frames).catch(() => null);
        if (!w) return refusal('FILE.READ_FAILED', 'The uploaded file could not be read from storage. Upload it again.');
        if (!w.ok) return refusal(w.code, w.message);
      }
      return { ok: true, metadata: res.metadata, ecg: res.ecg };
    }
    if (len >= size) return refusal('DICOM.MALFORMED', `The DICOM file's structure is damaged and cannot be read safely. ${REEXPORT}`);
    const cap = res.whole ? r.maxWaveformBytes : r.maxHeaderBytes;
    let next = Math.min(size, Math.max(res.atLeast, len * 2));
    if (next > cap) {
      if (res.whole && res.deflated)
        return refusal(
          'FILE.TOO_LARGE',
          `This file is compressed as a whole (Deflated transfer syntax) and is ${mib(size)}; TeleRead reads such files up to ${mib(cap)}. Re-export from the device as uncompressed or JPEG.`,
        );
      if (res.whole)
        return refusal(
          'FILE.TOO_LARGE',
          `This ECG (waveform) file is ${mib(size)}; TeleRead reads ECG files of up to ${mib(cap)}. Export a single 10-second 12-lead ECG.`,
        );
      if (len >= cap)
        return refusal(
          'DICOM.HEADER_TOO_LARGE',
          `The DICOM header (everything before the image data) is larger than ${mib(cap)}, which no X-ray or ultrasound device writes; the file is damaged. ${REEXPORT}`,
        );
      next = cap;
    }
    len = next;
  }
  return refusal('DICOM.MALFORMED', `The DICOM file's structure is damaged and cannot be read safely. ${REEXPORT}`);
}

const timeoutRefusal = () =>
  refusal(
    'FILE.PARSE_TIMEOUT',
    `Reading this file took too long and was stopped; the file is probably damaged. ${REEXPORT}`,
  );

/** Inspect in the calling thread (tests, fuzzing, tools). No isolation: use createDicomInspector for uploads. */
export function inspectInProcess(source: ByteSource, opts: DicomInspectorOptions = {}): Promise<InspectOutcome> {
  const analyzeOpts: AnalyzeOptions = { ecg: opts.ecg ?? true, maxInflatedBytes: opts.maxInflatedBytes ?? 64 * MiB };
  return runInspection(source, (b, size) => analyzeBuffer(b, size, analyzeOpts), resolve(opts));
}

/** A ByteSource over bytes in memory. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    async readRange(offset, length) {
      if (offset < 0 || length < 0 || offset + length > bytes.length) throw new RangeError('read past end');
      return bytes.subarray(offset, offset + length);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Worker pool.

interface Task {
  op: 'analyze' | 'waveform';
  bytes: Uint8Array;
  fileSize: number;
  timeoutMs: number;
  resolve: (r: AnalyzeResult | WaveformResult) => void;
  /** A warm-up run: nobody waits for it, and it must not keep the process alive. */
  warm?: boolean;
}

interface Slot {
  worker: Worker;
  /** The worker has loaded its code and answered 'ready': timeouts only run from then on. */
  ready: boolean;
  task: Task | null;
  timer: NodeJS.Timeout | null;
  taskId: number;
  /** Warm-up runs this worker still has to do when idle. */
  warmLeft: number;
}

const WORKER_URL = new URL('./worker.mjs', import.meta.url);
/** A worker that has not loaded within this time is killed. */
const STARTUP_TIMEOUT_MS = 60_000;

const crashed = (message: string): AnalyzeResult => ({ kind: 'refused', code: 'FILE.PARSE_CRASHED', message });
const shutDown = () => crashed('The DICOM reader is shut down. Upload the file again.');

class ParsePool {
  private slots: Slot[] = [];
  private queue: Task[] = [];
  private closed = false;
  private nextId = 1;

  constructor(
    private readonly size: number,
    private readonly analyzeOpts: AnalyzeOptions & { testHooks?: boolean },
    private readonly limits: { maxOldGenerationSizeMb: number; stackSizeMb: number },
    private readonly coreUrl: string | undefined,
    private readonly warmup: { bytes: Uint8Array; runs: number; onRun?: () => void } | undefined,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, {
      execArgv: [],
      workerData: { options: this.analyzeOpts, ...(this.coreUrl ? { coreUrl: this.coreUrl } : {}) },
      resourceLimits: {
        maxOldGenerationSizeMb: this.limits.maxOldGenerationSizeMb,
        maxYoungGenerationSizeMb: 32,
        stackSizeMb: this.limits.stackSizeMb,
      },
    });
    const slot: Slot = { worker, ready: false, task: null, timer: null, taskId: 0, warmLeft: this.warmup?.runs ?? 0 };
    slot.timer = setTimeout(() => this.crash(slot), STARTUP_TIMEOUT_MS);
    slot.timer.unref();
    worker.on('message', (msg: { ready?: boolean; id?: number; result?: AnalyzeResult | WaveformResult }) => {
      if (msg.ready) {
        if (slot.timer) clearTimeout(slot.timer);
        slot.timer = null;
        slot.ready = true;
        this.pump();
        return;
      }
      if (msg.id !== slot.taskId || !slot.task || !msg.result) return;
      this.finish(slot, msg.result, false);
    });
    worker.on('error', () => this.crash(slot));
    worker.on('exit', () => this.crash(slot));
    return slot;
  }

  private remove(slot: Slot) {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    void slot.worker.terminate().catch(() => undefined);
  }

  private crash(slot: Slot) {
    if (!this.slots.includes(slot)) return;
    if (!slot.ready) {
      // Failed to start: drop it and fail the oldest waiting file, so a worker that can never start
      // costs one refusal per file instead of a respawn loop.
      this.remove(slot);
      this.queue.shift()?.resolve(crashed('The DICOM reader could not start. Upload the file again later.'));
      this.pump();
      return;
    }
    if (!slot.task) {
      this.remove(slot);
      this.pump();
      return;
    }
    this.finish(
      slot,
      crashed(`Reading this file exhausted the reader's memory or stack and was stopped; the file is probably damaged or hostile. ${REEXPORT}`),
      true,
    );
  }

  private finish(slot: Slot, result: AnalyzeResult | WaveformResult, replace: boolean) {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    const task = slot.task;
    slot.task = null;
    if (replace) this.remove(slot);
    task?.resolve(result);
    this.pump();
  }

  run(bytes: Uint8Array, fileSize: number, timeoutMs: number): Promise<AnalyzeResult> {
    if (this.closed) return Promise.resolve(shutDown());
    return new Promise((resolve) => {
      this.queue.push({ op: 'analyze', bytes, fileSize, timeoutMs, resolve: resolve as Task['resolve'] });
      this.pump();
    });
  }

  /** Decode an accepted ECG file's leads in a worker (same isolation as inspection). */
  waveform(bytes: Uint8Array, timeoutMs: number): Promise<WaveformResult> {
    if (this.closed) return Promise.resolve(shutDown() as WaveformResult);
    return new Promise((resolve) => {
      this.queue.push({ op: 'waveform', bytes, fileSize: bytes.length, timeoutMs, resolve: resolve as Task['resolve'] });
      this.pump();
    });
  }

  private pump() {
    if (this.closed) return;
    // Replace dead workers only when there is work (no respawn loop when idle).
    while (this.queue.length > 0 && this.slots.length < this.size) this.slots.push(this.spawn());
    for (const slot of this.slots) {
      if (slot.task || !slot.ready) continue;
      let task = this.queue.shift();
      if (!task && slot.warmLeft > 0 && this.warmup) {
        slot.warmLeft--;
        const w = this.warmup;
        task = { op: 'analyze', bytes: w.bytes, fileSize: w.bytes.length, timeoutMs: 10_000, resolve: () => w.onRun?.(), warm: true };
      }
      if (!task) continue;
      slot.task = task;
      slot.taskId = this.nextId++;
      // Copy into a fresh buffer we own, then transfer it (no copy across the thread boundary).
      const owned = new Uint8Array(task.bytes.length);
      owned.set(task.bytes);
      slot.timer = setTimeout(() => {
        this.finish(slot, { kind: 'refused', code: 'FILE.PARSE_TIMEOUT', message: timeoutRefusalMessage() }, true);
      }, task.timeoutMs);
      if (task.warm) slot.timer.unref();
      slot.worker.postMessage({ id: slot.taskId, op: task.op, bytes: owned, fileSize: task.fileSize }, [owned.buffer]);
    }
    // Keep the process alive only while files are waiting or being parsed.
    const busy = this.queue.length > 0;
    for (const slot of this.slots) {
      if (busy || (slot.task && !slot.task.warm)) slot.worker.ref();
      else slot.worker.unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots;
    this.slots = [];
    for (const t of this.queue.splice(0)) t.resolve(shutDown());
    await Promise.all(
      slots.map(async (s) => {
        if (s.timer) clearTimeout(s.timer);
        s.task?.resolve(shutDown());
        s.task = null;
        await s.worker.terminate().catch(() => undefined);
      }),
    );
  }
}

const timeoutRefusalMessage = () =>
  `Reading this file took too long and was stopped; the file is probably damaged. ${REEXPORT}`;

/** The StudyInspector used by ingest: header-only parsing in an isolated worker pool. */
export function createDicomInspector(opts: DicomInspectorOptions = {}): StudyInspector {
  const r = resolve(opts);
  const pool = new ParsePool(
    Math.max(1, opts.workers ?? Math.min(2, availableParallelism())),
    {
      ecg: opts.ecg ?? true,
      maxInflatedBytes: opts.maxInflatedBytes ?? 64 * MiB,
      ...(opts.testHooks ? { testHooks: true } : {}),
    },
    { maxOldGenerationSizeMb: opts.maxOldGenerationSizeMb ?? 256, stackSizeMb: opts.stackSizeMb ?? 4 },
    opts.workerCoreUrl,
    opts.warmup && opts.warmup.runs > 0 ? opts.warmup : undefined,
  );
  return {
    inspect: (source) => runInspection(source, (b, size, t) => pool.run(b, size, t), r),
    readWaveform: (source) => readWholeWaveform(source, r, (b) => pool.waveform(b, r.timeoutMs)),
    close: () => pool.close(),
  };
}

/** The compiled core, built once per process (every server of a test run shares it). */
let compiledCore: Promise<Uint8Array | null> | null = null;

/**
 * Compile worker-core.ts and what it imports into one ES module at `outFile` with esbuild, for the
 * parse workers to load without tsx. Returns its file URL, or null when esbuild is not installed (a
 * production install without dev dependencies): the workers then compile with tsx as before.
 */
export async function buildParseWorkerCore(outFile: string): Promise<string | null> {
  compiledCore ??= compileCore();
  const code = await compiledCore;
  if (!code) return null;
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, code);
  return pathToFileURL(outFile).href;
}

async function compileCore(): Promise<Uint8Array | null> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return null;
  }
  const r = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('./worker-core.ts', import.meta.url))],
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    // CommonJS dependencies (dicom-parser) call require(): give the ES module one.
    banner: { js: "import { createRequire as __teleread_cr } from 'node:module'; const require = __teleread_cr(import.meta.url);" },
  });
  return r.outputFiles[0]!.contents;
}

/** Decode an accepted ECG's leads in the calling thread (Lambda: the invocation is the isolation). */
export function readWaveformInProcess(source: ByteSource, opts: DicomInspectorOptions = {}): Promise<WaveformOutcome> {
  const analyzeOpts: AnalyzeOptions = { maxInflatedBytes: opts.maxInflatedBytes ?? 64 * MiB };
  return readWholeWaveform(source, resolve(opts), async (b) => readWaveformBuffer(b, analyzeOpts));
}

async function readWholeWaveform(source: ByteSource, r: Resolved, decode: (b: Uint8Array) => Promise<WaveformResult>): Promise<WaveformOutcome> {
  if (source.size > r.maxWaveformBytes) {
    return { ok: false, code: 'FILE.TOO_LARGE', message: `The ECG file is larger than ${r.maxWaveformBytes} bytes and is not decoded for display.` };
  }
  const res = await decode(await source.readRange(0, source.size));
  if (res.kind !== 'waveform') return { ok: false, code: res.code, message: res.message };
  const { kind: _kind, ...waveform } = res;
  return { ok: true, waveform };
}
