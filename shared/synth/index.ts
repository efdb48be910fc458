/** Synthetic DICOM studies (CR/DX, ultrasound, 12-lead ECG) for benchmarks, load simulation and the demo. */
export {
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLEMENTATION_CLASS_UID,
  IMPLICIT_VR_LITTLE_ENDIAN,
  encodeDataset,
  encodeText,
  formatDS,
  part10StreamSize,
  writePart10,
  writePart10Stream,
  type DicomElement,
  type DicomValue,
  type Item,
  type TextCharset,
  type WritePart10Options,
} from './dicom-writer.ts';
export { pipeToFile, writeSyntheticFile } from './files.ts';
export { syntheticPatient, type NameCharset, type SyntheticPatient, type SyntheticPatientOptions } from './patients.ts';
export { Rng, uid225 } from './random.ts';
export {
  ECG_LEAD_CODES,
  SOP_CLASS,
  syntheticCrDx,
  syntheticEcg,
  syntheticUltrasound,
  syntheticUltrasoundStream,
  type CommonSynthOptions,
  type CrDxOptions,
  type EcgOptions,
  type SyntheticKind,
  type SyntheticMetadata,
  type SyntheticStudy,
  type SyntheticStudyStream,
  type UltrasoundOptions,
} from './studies.ts';
