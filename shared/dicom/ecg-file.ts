/**
 * HL7 aECG (XML) and SCP-ECG (EN 1064) files accepted as ECG studies. Many Chinese electrocardiographs
 * export one of these instead of DICOM. The ECG module decodes them; this file recognises them
 * and builds the same `StudyMetadata` projection a DICOM ECG gets.
 *
 * The projection of such a file (a contract: ingest, the case API, the UI and reports rely on it):
 *
 * | field                      | HL7 aECG                          | SCP-ECG                        |
 * |----------------------------|-----------------------------------|--------------------------------|
 * | Modality                   | `ECG`                             | `ECG`                          |
 * | instance.SOPClassUID       | `urn:hl7-org:v3:aECG`             | `EN1064:SCP-ECG`               |
 * | TransferSyntaxUID          | `application/xml` (RFC 7303)      | `SCP-ECG`                      |
 *
 * Neither value is a DICOM UID, so no DICOM class or transfer syntax is claimed for a file that is
 * not DICOM. They say what the file is (aECG: an XML document whose root is HL7 v3 AnnotatedECG; SCP:
 * an EN 1064 binary record).
 *
 * Identifiers:
 * - SOPInstanceUID: the source's own identifier when it is a valid OID (at most 64 characters, arcs
 *   without leading zeros): for aECG the `<AnnotatedECG><id root>` when it has no `extension` (with an
 *   extension the root is only a namespace). SCP-ECG section 1 (EN 1064:2005, tags 0–35) has no UID
 *   field; tag 31, the ECG sequence number, is a device counter and not unique, so it is not used.
 *   Otherwise `2.25.<decimal of the first 128 bits of SHA-256 of the file bytes>`: the same file
 *   uploaded again is a duplicate (STUDY.DUPLICATE_INSTANCE), and different files do not collide. The
 *   aECG samples have UUID roots (not OIDs; two of them share one), so they get hash UIDs.
 * - SeriesInstanceUID: aECG first rhythm `<series><id root>` under the same rule; otherwise derived.
 * - StudyInstanceUID: derived. Derived = `2.25.<first 128 bits of SHA-256("teleread:<role>:" + SOPInstanceUID)>`.
 *
 * The patient block (PHI) comes from the source's demographics: aECG trialSubject id (extension) and
 * subjectDemographicPerson name / administrativeGenderCode / birthTime; SCP section 1 tags 0/1 (name),
 * 2 (id), 5 (birth date), 8 (sex). It goes into the projection only, never into a message.
 */
import { createHash } from 'node:crypto';
import { StudyMetadataSchema, type StudyMetadata } from '../contracts/study.ts';
import { EcgDecodeError, readAecgFile, readScpEcgFile, type AecgHeader, type EcgRecording, type ScpHeader } from './ecg/index.ts';

export type EcgFileFormat = 'hl7-aecg' | 'scp-ecg';

export const ECG_FILE_FORMATS: Record<EcgFileFormat, { sopClassUID: string; transferSyntaxUID: string; name: string }> = {
  'hl7-aecg': { sopClassUID: 'urn:hl7-org:v3:aECG', transferSyntaxUID: 'application/xml', name: 'HL7 aECG' },
  'scp-ecg': { sopClassUID: 'EN1064:SCP-ECG', transferSyntaxUID: 'SCP-ECG', name: 'SCP-ECG' },
};

const ascii = (b: Uint8Array, start: number, len: number) => {
  let s = '';
  for (let i = start; i < Math.min(b.length, start + len); i++) s += String.fromCharCode(b[i]!);
  return s;
};

/** The start of an XML document as text (BOM-aware), or null when it does not start like XML. */
function xmlHead(b: Uint8Array): string | null {
  let head: string;
  if ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff)) {
    head = new TextDecoder(b[0] === 0xff ? 'utf-16le' : 'utf-16be').decode(b.subarray(2, Math.min(b.length, 16386) & ~1));
  } else {
    head = ascii(b, b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0, 8192);
  }
  const t = head.replace(/^[ \t\r\n]+/, '');
  if (!t.startsWith('<') || !/^(<\?xml|<[A-Za-z!])/.test(t.slice(0, 16))) return null;
  return t;
}

/**
 * Recognise an SCP-ECG record ("SCPECG" in the section 0 header at byte 16) or an HL7 aECG (XML that
 * names AnnotatedECG near its start). A Part 10 DICOM file (DICM at 128) is never either. Anything
 * recognised here goes to the ECG decoders, which refuse it with their own codes if it is not valid.
 */
export function sniffEcgFile(b: Uint8Array): EcgFileFormat | null {
  if (ascii(b, 128, 4) === 'DICM') return null;
  if (ascii(b, 16, 6) === 'SCPECG') return 'scp-ecg';
  const head = xmlHead(b);
  if (head && /AnnotatedECG/.test(head)) return 'hl7-aecg';
  return null;
}

// ---------------------------------------------------------------------------------------------
// Identifiers.

const OID_RE = /^[0-2](\.(0|[1-9][0-9]*))+$/;

/** A valid OID usable as a DICOM UID: numeric arcs without leading zeros, at most 64 characters. */
export const isValidOid = (s: string | undefined): s is string => !!s && s.length <= 64 && OID_RE.test(s);

/** `2.25.` + the decimal of the first 128 bits of SHA-256 of `bytes` (at most 44 characters). */
export function hashUid(bytes: Uint8Array | string): string {
  const digest = createHash('sha256').update(bytes).digest();
  return `2.25.${BigInt(`0x${digest.subarray(0, 16).toString('hex')}`).toString(10)}`;
}

const derivedUid = (role: 'study' | 'series', instanceUid: string) => hashUid(`teleread:${role}:${instanceUid}`);

/** An HL7 II usable as an instance UID: a valid OID root and no extension. */
const iiUid = (id: { root?: string | undefined; extension?: string | undefined } | null) =>
  id && !id.extension && isValidOid(id.root) ? id.root : undefined;

// ---------------------------------------------------------------------------------------------
// Projection.

const MAX_SAMPLING_FREQUENCY = 1_000_000;

type Layout = NonNullable<StudyMetadata['waveform']>;

function layout(rec: EcgRecording, format: EcgFileFormat, digits: AecgHeader['digits'] | null): Layout {
  return {
    groups: rec.groups.map((g, i) => {
      const fs = g.samplingFrequency;
      if (!Number.isFinite(fs) || fs <= 0 || fs > MAX_SAMPLING_FREQUENCY) {
        throw new EcgDecodeError(
          format === 'hl7-aecg' ? 'ECG.AECG_MALFORMED' : 'ECG.SCP_MALFORMED',
          `The ${ECG_FILE_FORMATS[format].name} file declares an impossible sampling rate for waveform ${i + 1}; it is damaged. Export the ECG again from the electrocardiograph and upload that file.`,
        );
      }
      const samples = Math.max(0, ...g.leads.map((l) => l.mv.length));
      // SCP-ECG samples are 16-bit signed. aECG digits are decimal integers: 16-bit when they fit.
      const d = digits?.[i];
      const [bitsAllocated, sampleInterpretation] = !d ? [16, 'SS'] : !d.integers ? [64, 'FD'] : d.maxAbs <= 32767 ? [16, 'SS'] : [32, 'SL'];
      return {
        label: g.label,
        channels: g.leads.length,
        samples,
        samplingFrequency: fs,
        bitsAllocated: bitsAllocated as number,
        sampleInterpretation: sampleInterpretation as string,
        leads: g.leads.map((l) => l.name),
      };
    }),
  };
}

const optional = <K extends string, V>(key: K, v: V | undefined): Partial<Record<K, V>> =>
  v === undefined || v === '' ? {} : ({ [key]: v } as Record<K, V>);

/** HL7 TS (YYYYMMDD[HH[MM[SS[.f]]]][±ZZZZ]) → DICOM DA and TM. */
function hl7Time(ts: string | undefined): { date?: string; time?: string } {
  const m = ts ? /^(\d{8})(\d{2}(?:\d{2}(?:\d{2})?)?)?/.exec(ts) : null;
  if (!m) return {};
  return { date: m[1]!, ...(m[2] ? { time: m[2] } : {}) };
}

const sexOf = (code: string | undefined) => {
  const c = code?.trim().toUpperCase();
  return c === 'M' || c === 'F' ? c : undefined;
};

function aecgProjection(bytes: Uint8Array, rec: EcgRecording, h: AecgHeader): StudyMetadata {
  const instanceUid = iiUid(h.id) ?? hashUid(bytes);
  const seriesSource = iiUid(h.seriesId);
  const seriesUid = seriesSource && seriesSource !== instanceUid ? seriesSource : derivedUid('series', instanceUid);
  const when = hl7Time(h.effectiveTime);
  const birth = h.subject.birthTime ? /^\d{8}/.exec(h.subject.birthTime)?.[0] : undefined;
  return {
    patient: {
      ...optional('id', h.subject.id),
      ...optional('name', h.subject.name),
      ...optional('sex', sexOf(h.subject.gender)),
      ...optional('birthDate', birth),
    },
    study: { StudyInstanceUID: derivedUid('study', instanceUid), ...optional('StudyDate', when.date), ...optional('StudyTime', when.time) },
    series: { SeriesInstanceUID: seriesUid },
    instance: { SOPInstanceUID: instanceUid, SOPClassUID: ECG_FILE_FORMATS['hl7-aecg'].sopClassUID },
    Modality: 'ECG',
    ...optional('Manufacturer', h.manufacturer),
    ...optional('ManufacturerModelName', h.model),
    TransferSyntaxUID: ECG_FILE_FORMATS['hl7-aecg'].transferSyntaxUID,
    waveform: layout(rec, 'hl7-aecg', h.digits),
  };
}

function scpProjection(bytes: Uint8Array, rec: EcgRecording, h: ScpHeader): StudyMetadata {
  const instanceUid = hashUid(bytes);
  const name = h.lastName || h.firstName ? `${h.lastName ?? ''}${h.firstName ? `^${h.firstName}` : ''}` : undefined;
  return {
    patient: {
      ...optional('id', h.patientId),
      ...optional('name', name),
      ...optional('sex', h.sex),
      ...optional('birthDate', h.birthDate),
    },
    study: {
      StudyInstanceUID: derivedUid('study', instanceUid),
      ...optional('StudyDate', h.acquisitionDate),
      ...optional('StudyTime', h.acquisitionTime),
    },
    series: { SeriesInstanceUID: derivedUid('series', instanceUid) },
    instance: { SOPInstanceUID: instanceUid, SOPClassUID: ECG_FILE_FORMATS['scp-ecg'].sopClassUID },
    Modality: 'ECG',
    ...optional('Manufacturer', h.manufacturer),
    ...optional('ManufacturerModelName', h.model),
    TransferSyntaxUID: ECG_FILE_FORMATS['scp-ecg'].transferSyntaxUID,
    waveform: layout(rec, 'scp-ecg', null),
  };
}

/** Decode one format's file; any failure that is not the decoder's own refusal becomes its MALFORMED code. */
export function decodeEcgFile(format: EcgFileFormat, bytes: Uint8Array): { recording: EcgRecording; header: AecgHeader | ScpHeader } {
  try {
    return format === 'hl7-aecg' ? readAecgFile(bytes) : readScpEcgFile(bytes);
  } catch (e) {
    if (e instanceof EcgDecodeError) throw e;
    throw new EcgDecodeError(
      format === 'hl7-aecg' ? 'ECG.AECG_MALFORMED' : 'ECG.SCP_MALFORMED',
      `The ${ECG_FILE_FORMATS[format].name} file could not be read; it is damaged. Export the ECG again from the electrocardiograph and upload that file.`,
    );
  }
}

/**
 * The whole file in: decoded recording and its StudyMetadata. Throws EcgDecodeError (ECG.AECG_EMPTY,
 * ECG.AECG_MALFORMED, ECG.SCP_MALFORMED, ECG.SCP_UNSUPPORTED, …) for files it cannot accept.
 */
export function analyzeEcgFile(format: EcgFileFormat, bytes: Uint8Array): { recording: EcgRecording; metadata: StudyMetadata } {
  const { recording, header } = decodeEcgFile(format, bytes);
  const candidate =
    format === 'hl7-aecg' ? aecgProjection(bytes, recording, header as AecgHeader) : scpProjection(bytes, recording, header as ScpHeader);
  const parsed = StudyMetadataSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new EcgDecodeError(
      format === 'hl7-aecg' ? 'ECG.AECG_MALFORMED' : 'ECG.SCP_MALFORMED',
      `The ${ECG_FILE_FORMATS[format].name} file holds values TeleRead cannot represent. Export the ECG again from the electrocardiograph and upload that file.`,
    );
  }
  return { recording, metadata: parsed.data };
}
