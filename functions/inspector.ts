import { inspectInProcess, readWaveformInProcess, type DicomInspectorOptions } from '../shared/dicom/inspector.ts';
import type { StudyInspector } from '../shared/ports/study-inspector.ts';

/**
 * The StudyInspector of the ingest function: parses in the invocation itself (the Lambda sandbox is
 * the isolation: a crash or a hang ends one invocation, SQS retries it and dead-letters it after
 * maxReceiveCount, and the DLQ alarm fires). Whatever the parser throws becomes a refusal, as in the
 * local worker pool, so a hostile file rejects its case instead of poisoning the queue.
 */
export function lambdaInspector(opts: DicomInspectorOptions = {}): StudyInspector {
  return {
    async inspect(source) {
      try {
        return await inspectInProcess(source, opts);
      } catch (e) {
        return e instanceof RangeError
          ? { ok: false, code: 'DICOM.TOO_DEEP', message: 'The DICOM file nests sequences far deeper than any real device writes; it was not read.' }
          : { ok: false, code: 'DICOM.MALFORMED', message: "The DICOM file's structure is damaged and cannot be read safely." };
      }
    },
    readWaveform: (source) => readWaveformInProcess(source, opts),
    async close() {},
  };
}
