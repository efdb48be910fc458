/**
 * SOP Class policy. Images of any modality pass (the application routes by Modality and rejects
 * CT/MR/… with STUDY.UNSUPPORTED_MODALITY); waveforms pass only when they carry ECG; non-image
 * objects (DICOMDIR, SR, encapsulated documents, SEG, RT, presentation states, …) are refused.
 *
 * Secondary Capture is accepted: many township ultrasound carts and film digitisers only export SC
 * (screen captures / scanned films). Its Modality (US, OT, …) decides the route downstream.
 */
export const ECG_WAVEFORM_CLASSES: Record<string, string> = {
  '1.2.840.10008.5.1.4.1.1.9.1.1': '12-lead ECG Waveform',
  '1.2.840.10008.5.1.4.1.1.9.1.2': 'General ECG Waveform',
  '1.2.840.10008.5.1.4.1.1.9.1.3': 'Ambulatory ECG Waveform',
  '1.2.840.10008.5.1.4.1.1.9.1.4': 'General 32-bit ECG Waveform',
  '1.2.840.10008.5.1.4.1.1.9.2.1': 'Hemodynamic Waveform',
  '1.2.840.10008.5.1.4.1.1.9.3.1': 'Basic Cardiac Electrophysiology Waveform',
};

const REFUSED_PREFIXES: Array<{ prefix: string; what: string; todo: string }> = [
  { prefix: '1.2.840.10008.1.3.10', what: 'a DICOMDIR (the index of a CD or USB stick)', todo: 'Upload the image files in the DICOM folder, not the DICOMDIR file.' },
  { prefix: '1.2.840.10008.5.1.4.1.1.88.', what: 'a structured report (SR), not an image or ECG', todo: 'Upload the images or the ECG themselves.' },
  { prefix: '1.2.840.10008.5.1.4.1.1.104.', what: 'a document (PDF/CDA) wrapped in DICOM, not an image or ECG', todo: 'Export the ECG or the images themselves as DICOM from the device.' },
  { prefix: '1.2.840.10008.5.1.4.1.1.66', what: 'a segmentation, registration or raw-data object, not an image', todo: 'Upload the original images instead.' },
  { prefix: '1.2.840.10008.5.1.4.1.1.481.', what: 'a radiotherapy object (RT plan, dose, structure set…)', todo: 'TeleRead reads X-ray, ultrasound and ECG studies only.' },
  { prefix: '1.2.840.10008.5.1.4.34.', what: 'a radiotherapy object', todo: 'TeleRead reads X-ray, ultrasound and ECG studies only.' },
  { prefix: '1.2.840.10008.5.1.4.1.1.11.', what: 'a presentation state (display settings), not an image', todo: 'Upload the images themselves.' },
  { prefix: '1.2.840.10008.5.1.4.1.1.9.', what: 'a waveform that carries no ECG (audio, respiratory, pressure…)', todo: 'Upload the ECG recording as a DICOM ECG.' },
  { prefix: '1.2.840.10008.5.1.4.1.1.200.', what: 'an acquisition protocol, not an image', todo: 'Upload the images themselves.' },
  { prefix: '1.2.840.10008.5.1.4.38.', what: 'a hanging protocol, not an image', todo: 'Upload the images themselves.' },
  { prefix: '1.2.840.10008.5.1.4.39.', what: 'a colour palette, not an image', todo: 'Upload the images themselves.' },
  { prefix: '1.2.840.10008.5.1.4.43.', what: 'an implant template, not an image', todo: 'Upload the images themselves.' },
  { prefix: '1.2.840.10008.5.1.4.1.1.68.', what: 'a surface model, not an image', todo: 'Upload the images themselves.' },
  { prefix: '1.2.840.10008.5.1.4.1.1.78.', what: 'an ophthalmic measurement, not an image', todo: 'Upload the images themselves.' },
  { prefix: '1.2.840.10008.5.1.4.1.1.79.', what: 'an ophthalmic measurement, not an image', todo: 'Upload the images themselves.' },
  { prefix: '1.2.840.10008.5.1.4.1.1.82.', what: 'an ophthalmic measurement, not an image', todo: 'Upload the images themselves.' },
  { prefix: '1.2.840.10008.5.1.4.1.1.90.', what: 'a measurement object, not an image', todo: 'Upload the images themselves.' },
  { prefix: '1.2.840.10008.5.1.4.1.1.91.', what: 'a measurement object, not an image', todo: 'Upload the images themselves.' },
];

export type SopPolicy =
  | { kind: 'ecg'; name: string }
  | { kind: 'image' }
  | { kind: 'refused'; what: string; todo: string };

export function sopPolicy(uid: string): SopPolicy {
  const ecg = ECG_WAVEFORM_CLASSES[uid];
  if (ecg) return { kind: 'ecg', name: ecg };
  for (const r of REFUSED_PREFIXES) {
    if (uid === r.prefix || uid.startsWith(r.prefix) || (r.prefix.endsWith('66') && uid.startsWith(`${r.prefix}.`)))
      return { kind: 'refused', what: r.what, todo: r.todo };
  }
  return { kind: 'image' };
}
