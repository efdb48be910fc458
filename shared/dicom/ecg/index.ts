export type {
  EcgAnalysis,
  EcgAnalysisDetail,
  EcgFlag,
  EcgGroup,
  EcgLead,
  EcgMeasurements,
  EcgRecording,
} from './model.ts';
export { EcgDecodeError, isEcgDecodeError, type EcgDecodeErrorCode } from './errors.ts';
export { decodeDicomWaveform } from './dicom-waveform.ts';
export { readAecg } from './aecg.ts';
export { readScpEcg, looksLikeScpEcg } from './scp.ts';
export { measureEcg } from './measure.ts';
export { STANDARD_LEADS, leadFromCode, leadFromText } from './leads.ts';
