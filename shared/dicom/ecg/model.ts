/**
 * The one ECG model every source decodes to (DICOM waveform, HL7 aECG, SCP-ECG):
 * calibrated millivolts per lead at a known sampling rate.
 */
export interface EcgLead {
  /** Standard lead name: I, II, III, aVR, aVL, aVF, V1…V6 (or the source's own label when non-standard). */
  name: string;
  /** Samples in millivolts. */
  mv: Float32Array;
  /** The source's own description of the channel (code meaning / label), when it had one. */
  sourceLabel?: string | undefined;
}

export interface EcgGroup {
  /** 'RHYTHM', 'MEDIAN BEAT', … as the source names the multiplex group. */
  label: string;
  samplingFrequency: number;
  leads: EcgLead[];
}

export interface EcgRecording {
  /** 'synthetic' = made by shared/synth/ecg-signal.ts (demos, benchmarks, tests). */
  source: 'dicom' | 'hl7-aecg' | 'scp-ecg' | 'synthetic';
  groups: EcgGroup[];
  /**
   * Measurements the device wrote into the file (ms / bpm / degrees), shown beside ours. Keys:
   * heartRate, rrMs, ppMs, prMs, pDurationMs, qrsMs, qtMs, qtcMs, pAxis, qrsAxis, tAxis.
   */
  deviceMeasurements: Record<string, number | null>;
  /** The device's own interpretation statements (free text), when the file carries them. */
  deviceStatements?: string[] | undefined;
  /** What the decoder skipped or repaired (non-ECG channels dropped, padding samples, …); no PHI. */
  warnings?: string[] | undefined;
}

/** Advisory measurements computed from the signal. Durations in ms, rate in bpm; null when not measurable. */
export interface EcgMeasurements {
  heartRate: number | null;
  rrMeanMs: number | null;
  rrSdMs: number | null;
  rrIrregular: boolean | null;
  prMs: number | null;
  qrsMs: number | null;
  qtMs: number | null;
  qtcBazettMs: number | null;
  qtcFridericiaMs: number | null;
  longestRrMs: number | null;
  beats: number;
}

/** Automatic critical flags from the Chinese ECG critical-value list; each raises the case to STAT. */
export type EcgFlag =
  | 'SUSPECTED_CRITICAL_BRADYCARDIA' // mean HR < 35, or < 40 with suspected AV block
  | 'SUSPECTED_CRITICAL_TACHYCARDIA' // HR ≥ 150 sustained
  | 'SUSPECTED_CRITICAL_PAUSE' // RR pause ≥ 3.0 s
  | 'SUSPECTED_CRITICAL_FAST_IRREGULAR'; // very fast irregular rhythm ≥ 180

/** Where the analysis looked; times in seconds from the start of the analysed group. */
export interface EcgAnalysisDetail {
  group: string;
  samplingFrequency: number;
  /** Seconds analysed from the start of the group (long recordings are cut to their first 10 minutes). */
  analysedS: number;
  /** Detected QRS fiducial points (peak of QRS energy). */
  qrsTimesS: number[];
  /** Per-beat QRS onset/offset: each fiducial plus the median beat's onset/offset offsets. */
  qrsOnsetsS: number[];
  qrsOffsetsS: number[];
  /** Median beat fiducials in ms relative to the QRS fiducial (null when not found). */
  medianBeat: { pOnsetMs: number | null; qrsOnsetMs: number | null; qrsOffsetMs: number | null; tEndMs: number | null } | null;
  /** Our measurements on the file's own MEDIAN BEAT group, when it has one. */
  fileMedianBeat: { prMs: number | null; qrsMs: number | null; qtMs: number | null } | null;
  /** Whether the computed median beat and the file's agree (QRS within 20 ms, QT within 40 ms); null when not compared. */
  medianBeatConsistent: boolean | null;
}

export interface EcgAnalysis {
  measurements: EcgMeasurements;
  flags: EcgFlag[];
  detail: EcgAnalysisDetail;
}
