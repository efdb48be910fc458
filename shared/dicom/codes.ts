/**
 * Stable refusal codes of the DICOM door. Messages are written for a township technician: they say
 * what is wrong and what to do, and never carry patient data (names, ids, birth dates).
 */
export const DICOM_CODES = [
  'FILE.EMPTY',
  'FILE.NOT_DICOM',
  'FILE.HL7_AECG',
  'FILE.SCP_ECG',
  'FILE.TOO_LARGE',
  'FILE.READ_FAILED',
  'FILE.PARSE_TIMEOUT',
  'FILE.PARSE_CRASHED',
  'DICOM.EXECUTABLE_PREAMBLE',
  'DICOM.NO_PART10_HEADER',
  'DICOM.FILE_META_INVALID',
  'DICOM.UNSUPPORTED_TRANSFER_SYNTAX',
  'DICOM.TRANSFER_SYNTAX_MISMATCH',
  'DICOM.MALFORMED',
  'DICOM.INVALID_VR',
  'DICOM.TRUNCATED',
  'DICOM.TOO_DEEP',
  'DICOM.HEADER_TOO_LARGE',
  'DICOM.UNSUPPORTED_SOP_CLASS',
  'DICOM.MISSING_ATTRIBUTE',
  'DICOM.INVALID_VALUE',
  'DICOM.INVALID_GEOMETRY',
  'DICOM.PIXEL_DATA_MISSING',
  'DICOM.PIXEL_DATA_LENGTH_MISMATCH',
  'DICOM.PIXEL_DATA_TRUNCATED',
  'DICOM.WAVEFORM_INVALID',
] as const;

export type DicomCode = (typeof DICOM_CODES)[number];

/** A refusal: a stable code and a message a technician can act on. */
export class DicomParseError extends Error {
  constructor(
    readonly code: DicomCode,
    message: string,
  ) {
    super(message);
    this.name = 'DicomParseError';
  }
}

export const refuse = (code: DicomCode, message: string): never => {
  throw new DicomParseError(code, message);
};

export const REEXPORT = 'Re-export the study from the device (or PACS) as DICOM and upload it again.';
