export type {
  EcgAnalysis,
  EcgAnalysisDetail,
  EcgFlag,
  EcgGroup,
  EcgLead,
  EcgMeasurements,
  EcgRecording,
} from './model.ts';
export { ECG_DECODE_CODES, EcgDecodeError, isEcgDecodeError, type EcgDecodeErrorCode } from './errors.ts';
export { decodeDicomWaveform } from './dicom-waveform.ts';
export { readAecg, readAecgFile, type AecgHeader } from './aecg.ts';
export { readScpEcg, readScpEcgFile, looksLikeScpEcg, type ScpHeader } from './scp.ts';
export { measureEcg } from './measure.ts';
export { STANDARD_LEADS, leadFromCode, leadFromText } from './leads.ts';
