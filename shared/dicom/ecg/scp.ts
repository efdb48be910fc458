/**
 * SCP-ECG (EN 1064 / ISO 11073-91064) is not decoded: its sections 2–6 need the Huffman tables,
 * second differences and reference-beat subtraction to be bit-exact, and a half-right decoder would
 * show readers wrong millivolts. We recognise the file and refuse it with a message the clinic can act on.
 */
import { EcgDecodeError } from './errors.ts';
import type { EcgRecording } from './model.ts';

/**
 * True when the bytes look like an SCP-ECG record: CRC (2) + record length (4, LE) equal to the file
 * size, then section 0's header whose section id is 0 and whose reserved field reads "SCPECG".
 */
export function looksLikeScpEcg(bytes: Uint8Array): boolean {
  if (bytes.byteLength < 6 + 16) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const recordLength = view.getUint32(2, true);
  const sectionId = view.getUint16(8, true);
  const reserved = String.fromCharCode(...bytes.subarray(16, 22));
  return sectionId === 0 && (reserved === 'SCPECG' || recordLength === bytes.byteLength);
}

export function readScpEcg(bytes: Uint8Array): EcgRecording {
  const what = looksLikeScpEcg(bytes) ? 'SCP-ECG files are' : 'This file is not a readable SCP-ECG record, and SCP-ECG files are';
  throw new EcgDecodeError(
    'ECG.SCP_UNSUPPORTED',
    `${what} not accepted yet: export the ECG as DICOM (12-lead ECG Waveform) or HL7 aECG from the electrocardiograph or its PC software, and upload that file.`,
  );
}
