// Parse worker entry. Plain JavaScript so it loads in any runtime (tsx, vitest, node --import tsx);
// it loads the TypeScript core through tsx's scoped API. Receives {id, bytes, fileSize}; answers
// {id, result} with a plain AnalyzeResult. Anything thrown is turned into a refusal here too.
import { parentPort, workerData } from 'node:worker_threads';

const { tsImport } = await import('tsx/esm/api');
const core = await tsImport('./worker-core.ts', import.meta.url);
const options = (workerData && workerData.options) || {};

parentPort.on('message', async (msg) => {
  let result;
  try {
    result = await core.analyzeBuffer(msg.bytes, msg.fileSize, options);
  } catch (e) {
    const stack = e instanceof RangeError;
    result = stack
      ? { kind: 'refused', code: 'DICOM.TOO_DEEP', message: 'The DICOM file nests sequences far deeper than any real device writes; it was not read.' }
      : { kind: 'refused', code: 'DICOM.MALFORMED', message: "The DICOM file's structure is damaged and cannot be read safely." };
  }
  parentPort.postMessage({ id: msg.id, result });
});
