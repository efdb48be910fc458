// Parse worker entry. Plain JavaScript so it loads in any runtime (tsx, vitest, node --import tsx,
// plain node); it loads a compiled build of the core when given one (workerData.coreUrl, made by
// buildParseWorkerCore), else the TypeScript core through tsx's scoped API (tsx/esm/api tsImport).
// Protocol: posts {ready:true} once loaded; receives {id, op?, bytes, fileSize}; answers {id, result}
// with a plain AnalyzeResult (or a WaveformResult for op 'waveform'). Anything thrown is turned into a refusal here too.
import { parentPort, workerData } from 'node:worker_threads';

const options = (workerData && workerData.options) || {};
const core = workerData && workerData.coreUrl
  ? await import(workerData.coreUrl)
  : await (await import('tsx/esm/api')).tsImport('./worker-core.ts', import.meta.url);

const startsWith = (bytes, text) => bytes.length >= text.length && [...text].every((c, i) => bytes[i] === c.charCodeAt(0));

parentPort.on('message', async (msg) => {
  if (options.testHooks) {
    if (startsWith(msg.bytes, 'TELEREAD-TEST-HANG')) for (;;);
    if (startsWith(msg.bytes, 'TELEREAD-TEST-OOM')) {
      const hog = [];
      for (;;) hog.push(new Array(1e5).fill({ x: hog.length }));
    }
  }
  let result;
  try {
    result = msg.op === 'waveform' ? core.readWaveformBuffer(msg.bytes, options) : await core.analyzeBuffer(msg.bytes, msg.fileSize, options);
  } catch (e) {
    result =
      e instanceof RangeError
        ? { kind: 'refused', code: 'DICOM.TOO_DEEP', message: 'The DICOM file nests sequences far deeper than any real device writes; it was not read.' }
        : { kind: 'refused', code: 'DICOM.MALFORMED', message: "The DICOM file's structure is damaged and cannot be read safely." };
  }
  parentPort.postMessage({ id: msg.id, result });
});
parentPort.postMessage({ ready: true });
