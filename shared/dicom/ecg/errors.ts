import { AppError } from '../../domain/errors.ts';

/**
 * Codes a decoder can refuse an ECG with. Messages say what the uploader can do about it and never
 * carry PHI. They are 'unprocessable' (422): the content itself was refused.
 */
export const ECG_DECODE_CODES = [
  'ECG.NO_WAVEFORM',
  'ECG.NO_ECG_LEADS',
  'ECG.WAVEFORM_MALFORMED',
  'ECG.WAVEFORM_TRUNCATED',
  'ECG.UNSUPPORTED_SAMPLE_FORMAT',
  'ECG.AECG_EMPTY',
  'ECG.AECG_MALFORMED',
  'ECG.SCP_MALFORMED',
  'ECG.SCP_UNSUPPORTED',
] as const;

export type EcgDecodeErrorCode = (typeof ECG_DECODE_CODES)[number];

export class EcgDecodeError extends AppError {
  declare readonly code: EcgDecodeErrorCode;
  constructor(code: EcgDecodeErrorCode, message: string) {
    super(code, 'unprocessable', message);
    this.name = 'EcgDecodeError';
  }
}

export const isEcgDecodeError = (e: unknown): e is EcgDecodeError => e instanceof EcgDecodeError;
