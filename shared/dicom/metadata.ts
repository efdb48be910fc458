/**
 * The StudyMetadata projection of a parsed dataset: identifiers, patient (PHI, never logged), image
 * geometry and waveform layout. Values are read defensively (element lengths checked, IS/DS parsed
 * strictly) and the result is validated with the zod schema.
 */
import { StudyMetadataSchema, type StudyMetadata } from '../contracts/study.ts';
import { decodeValues, resolveCharset, type Charset } from './charset.ts';
import { REEXPORT, refuse } from './codes.ts';
import type { DataSet, Element } from './safe-parse.ts';

const latin1 = new TextDecoder('latin1');

function rawBytes(ds: DataSet, el: Element): Uint8Array {
  const len = el.length === 0xffffffff ? 0 : el.length;
  const end = Math.min(ds.byteArray.length, el.dataOffset + len);
  const start = Math.min(el.dataOffset, end);
  return ds.byteArray.subarray(start, end);
}

/** All values of a string element, decoded with the charset (for text VRs) and trimmed. */
export function stringValues(ds: DataSet, tag: string, charset: Charset): string[] | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0 || el.length === 0xffffffff || el.items) return undefined;
  return decodeValues(rawBytes(ds, el), el.vr ?? VR_OF[tag], charset);
}

/** First value of a string element; undefined when absent or empty. */
export function stringValue(ds: DataSet, tag: string, charset: Charset): string | undefined {
  const v = stringValues(ds, tag, charset)?.[0];
  return v === undefined || v === '' ? undefined : v;
}

/** Implicit VR files carry no VR: the ones we decode with the charset. */
const VR_OF: Record<string, string> = {
  x00100010: 'PN',
  x00100020: 'LO',
  x00081030: 'LO',
  x0008103e: 'LO',
  x00080070: 'LO',
  x00081090: 'LO',
  x00080050: 'SH',
  x003a0020: 'LO',
  x00080104: 'LO',
  x00180015: 'CS',
  x00080060: 'CS',
  x00080005: 'CS',
  x00100040: 'CS',
  x00100030: 'DA',
};

const IS_RE = /^[+-]?\d{1,12}$/;
const DS_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export const parseIS = (s: string): number | null => (IS_RE.test(s.trim()) ? Number.parseInt(s.trim(), 10) : null);
export const parseDS = (s: string): number | null => {
  const t = s.trim();
  if (!DS_RE.test(t) || t.length > 16) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
};

const attrName: Record<string, string> = {
  x00280008: 'Number of Frames (0028,0008)',
  x00181063: 'Frame Time (0018,1063)',
  x00280030: 'Pixel Spacing (0028,0030)',
  x00181164: 'Imager Pixel Spacing (0018,1164)',
  x003a001a: 'Sampling Frequency (003A,001A)',
};

const invalidValue = (tag: string, expected: string) =>
  refuse(
    'DICOM.INVALID_VALUE',
    `The DICOM attribute ${attrName[tag] ?? tag} does not hold a valid ${expected}; the device or the exporting software wrote a corrupt value. ${REEXPORT}`,
  );

const ascii = resolveCharset(undefined);

/** Strict IS; undefined when absent; throws INVALID_VALUE when present but not an integer string. */
function strictIS(ds: DataSet, tag: string): number | undefined {
  const vals = stringValues(ds, tag, ascii);
  if (!vals || (vals.length === 1 && vals[0] === '')) return undefined;
  const n = parseIS(vals[0]!);
  if (n === null || vals.length > 1) return invalidValue(tag, 'integer');
  return n;
}

/** Strict DS list of `count` values (count = 0: any); undefined when absent. */
function strictDS(ds: DataSet, tag: string, count = 0): number[] | undefined {
  const vals = stringValues(ds, tag, ascii);
  if (!vals || (vals.length === 1 && vals[0] === '')) return undefined;
  if (count && vals.length !== count) return invalidValue(tag, `list of ${count} decimal numbers`);
  const out = vals.map(parseDS);
  if (out.some((v) => v === null)) return invalidValue(tag, 'decimal number');
  return out as number[];
}

/** Lenient DS/IS for optional display values: undefined when absent or invalid. */
function lenientNumber(ds: DataSet, tag: string, integer = false): number | undefined {
  const v = stringValues(ds, tag, ascii)?.[0];
  if (!v) return undefined;
  const n = integer ? parseIS(v) : parseDS(v);
  return n === null ? undefined : n;
}

/** US value read through the dataset's own byte order; undefined when absent, throws when malformed. */
function us(ds: DataSet, tag: string, name: string): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  if (el.length < 2 || el.length === 0xffffffff || el.dataOffset + 2 > ds.byteArray.length)
    return refuse('DICOM.INVALID_VALUE', `The DICOM attribute ${name} is malformed. ${REEXPORT}`);
  return ds.uint16(tag);
}

function ul(ds: DataSet, tag: string, name: string): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  if (el.length < 4 || el.length === 0xffffffff || el.dataOffset + 4 > ds.byteArray.length)
    return refuse('DICOM.INVALID_VALUE', `The DICOM attribute ${name} is malformed. ${REEXPORT}`);
  return ds.uint32(tag);
}

export interface RawGeometry {
  Rows?: number | undefined;
  Columns?: number | undefined;
  SamplesPerPixel?: number | undefined;
  BitsAllocated?: number | undefined;
  BitsStored?: number | undefined;
  HighBit?: number | undefined;
  PixelRepresentation?: number | undefined;
  PhotometricInterpretation?: string | undefined;
  NumberOfFrames?: number | undefined;
  FrameTime?: number | undefined;
  PixelSpacing?: [number, number] | undefined;
  ImagerPixelSpacing?: [number, number] | undefined;
}

/** Read the image-geometry attributes; throws DICOM.INVALID_VALUE for malformed IS/DS/US values. */
export function readGeometry(ds: DataSet): RawGeometry {
  const ps = strictDS(ds, 'x00280030', 2);
  const ips = strictDS(ds, 'x00181164', 2);
  return {
    Rows: us(ds, 'x00280010', 'Rows (0028,0010)'),
    Columns: us(ds, 'x00280011', 'Columns (0028,0011)'),
    SamplesPerPixel: us(ds, 'x00280002', 'Samples per Pixel (0028,0002)'),
    BitsAllocated: us(ds, 'x00280100', 'Bits Allocated (0028,0100)'),
    BitsStored: us(ds, 'x00280101', 'Bits Stored (0028,0101)'),
    HighBit: us(ds, 'x00280102', 'High Bit (0028,0102)'),
    PixelRepresentation: us(ds, 'x00280103', 'Pixel Representation (0028,0103)'),
    PhotometricInterpretation: stringValue(ds, 'x00280004', ascii),
    NumberOfFrames: strictIS(ds, 'x00280008'),
    FrameTime: strictDS(ds, 'x00181063', 1)?.[0],
    PixelSpacing: ps ? [ps[0]!, ps[1]!] : undefined,
    ImagerPixelSpacing: ips ? [ips[0]!, ips[1]!] : undefined,
  };
}

export type WaveformLayout = NonNullable<StudyMetadata['waveform']>;

function itemSets(ds: DataSet, tag: string): DataSet[] {
  return (ds.elements[tag]?.items ?? []).flatMap((i) => (i.dataSet ? [i.dataSet] : []));
}

const waveformInvalid = (what: string): never =>
  refuse('DICOM.WAVEFORM_INVALID', `The ECG waveform in this DICOM file is unusable: ${what}. ${REEXPORT}`);

/**
 * Waveform layout from WaveformSequence (5400,0100). Checks each group is coherent and that its
 * WaveformData (5400,1010) holds channels × samples × bits/8 bytes inside the file.
 */
export function readWaveformLayout(ds: DataSet, charset: Charset): WaveformLayout {
  const groups = itemSets(ds, 'x54000100');
  if (groups.length === 0) return waveformInvalid('it has no Waveform Sequence (5400,0100)');
  return {
    groups: groups.map((g, i) => {
      const channels = us(g, 'x003a0005', 'Number of Waveform Channels (003A,0005)');
      const samples = ul(g, 'x003a0010', 'Number of Waveform Samples (003A,0010)');
      const freq = strictDS(g, 'x003a001a', 1)?.[0];
      const bits = us(g, 'x54001004', 'Waveform Bits Allocated (5400,1004)');
      const interp = stringValue(g, 'x54001006', ascii);
      const n = i + 1;
      if (!channels || channels > 1024) waveformInvalid(`group ${n} has no valid channel count`);
      if (!samples) waveformInvalid(`group ${n} has no samples`);
      if (!freq || freq <= 0 || freq > 1_000_000) waveformInvalid(`group ${n} has no valid sampling frequency`);
      if (bits !== 8 && bits !== 16 && bits !== 32 && bits !== 64) waveformInvalid(`group ${n} has unsupported bits allocated`);
      if (!interp) waveformInvalid(`group ${n} has no sample interpretation`);
      const data = g.elements['x54001010'];
      const need = channels! * samples! * (bits! / 8);
      if (!data || data.length === 0xffffffff) waveformInvalid(`group ${n} has no waveform data`);
      if (data!.length < need || data!.dataOffset + need > g.byteArray.length)
        waveformInvalid(`group ${n} holds fewer samples than it declares (the file may be cut short)`);
      const leads = itemSets(g, 'x003a0200').map((ch, c) => {
        const src = itemSets(ch, 'x003a0208')[0];
        const meaning = src ? stringValue(src, 'x00080104', charset) : undefined;
        const label = stringValue(ch, 'x003a0203', charset);
        return meaning ?? label ?? `channel ${c + 1}`;
      });
      const label = stringValue(g, 'x003a0020', charset);
      return {
        ...(label ? { label } : {}),
        channels: channels!,
        samples: samples!,
        samplingFrequency: freq!,
        bitsAllocated: bits!,
        sampleInterpretation: interp!,
        leads,
      };
    }),
  };
}

export interface ProjectionContext {
  transferSyntaxUID: string;
  sniffed: boolean;
  mediaStorageSOPClassUID?: string | undefined;
  mediaStorageSOPInstanceUID?: string | undefined;
  image?: NonNullable<StudyMetadata['image']> | undefined;
  waveform?: WaveformLayout | undefined;
}

export const REQUIRED_ATTRIBUTES: Array<[string, string]> = [
  ['SOPClassUID', '(0008,0016)'],
  ['SOPInstanceUID', '(0008,0018)'],
  ['StudyInstanceUID', '(0020,000D)'],
  ['SeriesInstanceUID', '(0020,000E)'],
  ['Modality', '(0008,0060)'],
];

const optional = <K extends string, V>(key: K, v: V | undefined): Partial<Record<K, V>> =>
  v === undefined ? {} : ({ [key]: v } as Record<K, V>);

/** The charset declared by the dataset (0008,0005). */
export const datasetCharset = (ds: DataSet) => {
  const el = ds.elements['x00080005'];
  const declared = el && el.length > 0 && el.length < 1024 ? latin1.decode(rawBytes(ds, el)) : undefined;
  return resolveCharset(declared);
};

/** Build and validate the projection; throws DICOM.MISSING_ATTRIBUTE when an identifier is absent. */
export function buildStudyMetadata(ds: DataSet, ctx: ProjectionContext): StudyMetadata {
  const cs = datasetCharset(ds);
  const uid = (tag: string) => stringValue(ds, tag, ascii);
  const ids = {
    SOPClassUID: uid('x00080016') ?? ctx.mediaStorageSOPClassUID,
    SOPInstanceUID: uid('x00080018') ?? ctx.mediaStorageSOPInstanceUID,
    StudyInstanceUID: uid('x0020000d'),
    SeriesInstanceUID: uid('x0020000e'),
    Modality: stringValue(ds, 'x00080060', ascii),
  };
  const missing = REQUIRED_ATTRIBUTES.filter(([k]) => !ids[k as keyof typeof ids]);
  if (missing.length > 0)
    refuse(
      'DICOM.MISSING_ATTRIBUTE',
      `The DICOM file lacks required attribute(s): ${missing.map(([k, t]) => `${k} ${t}`).join(', ')}. ` +
        'The device or the exporting software wrote an incomplete file; re-export it from the device (not from an anonymiser or a viewer) and upload it again.',
    );
  const s = (tag: string) => stringValue(ds, tag, cs);
  const candidate: StudyMetadata = {
    patient: {
      ...optional('id', s('x00100020')),
      ...optional('name', s('x00100010')),
      ...optional('sex', s('x00100040')),
      ...optional('birthDate', s('x00100030')),
    },
    study: {
      StudyInstanceUID: ids.StudyInstanceUID!,
      ...optional('StudyDate', s('x00080020')),
      ...optional('StudyTime', s('x00080030')),
      ...optional('AccessionNumber', s('x00080050')),
      ...optional('StudyDescription', s('x00081030')),
    },
    series: {
      SeriesInstanceUID: ids.SeriesInstanceUID!,
      ...optional('SeriesNumber', lenientNumber(ds, 'x00200011', true)),
      ...optional('SeriesDescription', s('x0008103e')),
    },
    instance: {
      SOPInstanceUID: ids.SOPInstanceUID!,
      SOPClassUID: ids.SOPClassUID!,
      ...optional('InstanceNumber', lenientNumber(ds, 'x00200013', true)),
    },
    Modality: ids.Modality!,
    ...optional('BodyPartExamined', s('x00180015')),
    ...optional('Manufacturer', s('x00080070')),
    ...optional('ManufacturerModelName', s('x00081090')),
    TransferSyntaxUID: ctx.transferSyntaxUID,
    ...optional('SpecificCharacterSet', cs.declared || undefined),
    ...(ctx.sniffed ? { sniffedTransferSyntax: true } : {}),
    ...optional('image', ctx.image),
    ...optional('waveform', ctx.waveform),
  };
  const parsed = StudyMetadataSchema.safeParse(candidate);
  if (!parsed.success)
    refuse('DICOM.INVALID_VALUE', `The DICOM file holds values TeleRead cannot represent. ${REEXPORT}`);
  return parsed.data!;
}

/** Display values of an image that are optional and read leniently. */
export function displayValues(ds: DataSet) {
  return {
    WindowCenter: lenientNumber(ds, 'x00281050'),
    WindowWidth: lenientNumber(ds, 'x00281051'),
    RescaleSlope: lenientNumber(ds, 'x00281053'),
    RescaleIntercept: lenientNumber(ds, 'x00281052'),
  };
}
