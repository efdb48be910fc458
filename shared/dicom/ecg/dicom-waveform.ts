/**
 * DICOM Waveform module (PS3.3 C.10.9) → EcgRecording in millivolts.
 *
 * Calibration (C.10.9.1.4.x): Channel Sensitivity is the "nominal numeric value of unit quantity of
 * sample" in the units of Channel Sensitivity Units Sequence; Channel Sensitivity Correction Factor is
 * a "multiplier to be applied to encoded sample values to match units specified in Channel Sensitivity";
 * Channel Baseline is the "offset of encoded sample value 0 from actual 0" in those same units. Hence
 *
 *     value[unit] = raw × sensitivity × correctionFactor + baseline
 *     value[mV]   = value[unit] × (mV per unit)
 *
 * Channels without a sensitivity or with non-voltage units (pressures, flows, …) are not ECG leads
 * here and are dropped; so is any group left with no ECG lead.
 */
import type { DataSet, Element } from 'dicom-parser';
import { EcgDecodeError } from './errors.ts';
import { KNOWN_LEADS, leadFromCode, leadFromText, leadOrder, voltageUnitToMv } from './leads.ts';
import type { EcgGroup, EcgLead, EcgRecording } from './model.ts';

const T = {
  sopClassUid: 'x00080016',
  specificCharacterSet: 'x00080005',
  codeValue: 'x00080100',
  codingScheme: 'x00080102',
  codeMeaning: 'x00080104',
  waveformSequence: 'x54000100',
  channelCount: 'x003a0005',
  sampleCount: 'x003a0010',
  samplingFrequency: 'x003a001a',
  groupLabel: 'x003a0020',
  channelDefinitions: 'x003a0200',
  channelLabel: 'x003a0203',
  channelSource: 'x003a0208',
  sensitivity: 'x003a0210',
  sensitivityUnits: 'x003a0211',
  correctionFactor: 'x003a0212',
  baseline: 'x003a0213',
  timeSkew: 'x003a0214',
  sampleSkew: 'x003a0215',
  bitsAllocated: 'x54001004',
  interpretation: 'x54001006',
  paddingValue: 'x5400100a',
  waveformData: 'x54001010',
  annotations: 'x0040b020',
  conceptName: 'x0040a043',
  measurementUnits: 'x004008ea',
  numericValue: 'x0040a30a',
  unformattedText: 'x00700006',
} as const;

/** SOP classes whose voltage channels are ECG even when a channel's source code is not a known lead. */
const ECG_SOP_CLASSES = new Set([
  '1.2.840.10008.5.1.4.1.1.9.1.1', // 12-lead ECG
  '1.2.840.10008.5.1.4.1.1.9.1.2', // General ECG
  '1.2.840.10008.5.1.4.1.1.9.1.3', // Ambulatory ECG
]);

const MAX_SAMPLES_PER_GROUP = 50_000_000;

interface SampleFormat {
  bytes: number;
  read: (view: DataView, pos: number, little: boolean) => number;
}

const MU_LAW = buildMuLaw();
const A_LAW = buildALaw();

/** ITU-T G.711 μ-law → 16-bit linear. */
function buildMuLaw(): Int16Array {
  const t = new Int16Array(256);
  for (let i = 0; i < 256; i++) {
    const u = ~i & 0xff;
    const exponent = (u >> 4) & 0x07;
    const mantissa = u & 0x0f;
    let v = ((mantissa << 3) + 0x84) << exponent;
    v -= 0x84;
    t[i] = u & 0x80 ? -v : v;
  }
  return t;
}

/** ITU-T G.711 A-law → 16-bit linear. */
function buildALaw(): Int16Array {
  const t = new Int16Array(256);
  for (let i = 0; i < 256; i++) {
    const a = i ^ 0x55;
    const exponent = (a >> 4) & 0x07;
    const mantissa = a & 0x0f;
    const v = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
    t[i] = a & 0x80 ? v : -v;
  }
  return t;
}

function sampleFormat(interp: string, bits: number | undefined): SampleFormat {
  const f = ((): SampleFormat | null => {
    switch (interp) {
      case 'SS':
        return { bytes: 2, read: (d, p, le) => d.getInt16(p, le) };
      case 'US':
        return { bytes: 2, read: (d, p, le) => d.getUint16(p, le) };
      case 'SB':
        return { bytes: 1, read: (d, p) => d.getInt8(p) };
      case 'UB':
        return { bytes: 1, read: (d, p) => d.getUint8(p) };
      case 'MB':
        return { bytes: 1, read: (d, p) => MU_LAW[d.getUint8(p)]! };
      case 'AB':
        return { bytes: 1, read: (d, p) => A_LAW[d.getUint8(p)]! };
      // Later editions of PS3.3 add 32- and 64-bit interpretations.
      case 'SL':
        return { bytes: 4, read: (d, p, le) => d.getInt32(p, le) };
      case 'UL':
        return { bytes: 4, read: (d, p, le) => d.getUint32(p, le) };
      case 'FL':
        return { bytes: 4, read: (d, p, le) => d.getFloat32(p, le) };
      case 'FD':
        return { bytes: 8, read: (d, p, le) => d.getFloat64(p, le) };
      default:
        return null;
    }
  })();
  if (!f) {
    throw new EcgDecodeError(
      'ECG.UNSUPPORTED_SAMPLE_FORMAT',
      `Waveform Sample Interpretation "${interp}" is not supported (expected SS, US, SB, UB, MB or AB).`,
    );
  }
  if (bits !== undefined && bits !== f.bytes * 8) {
    throw new EcgDecodeError(
      'ECG.WAVEFORM_MALFORMED',
      `Waveform Bits Allocated is ${bits} but Sample Interpretation ${interp} needs ${f.bytes * 8}.`,
    );
  }
  return f;
}

function isLittleEndian(ds: DataSet): boolean {
  return ds.byteArrayParser.readUint16(new Uint8Array([1, 0]), 0) === 1;
}

function items(ds: DataSet, tag: string): DataSet[] {
  const el = ds.elements[tag];
  const out: DataSet[] = [];
  for (const it of el?.items ?? []) if (it.dataSet) out.push(it.dataSet);
  return out;
}

function str(ds: DataSet | undefined, tag: string): string | undefined {
  if (!ds) return undefined;
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  const v = ds.string(tag);
  return v === undefined || v === '' ? undefined : v;
}

function num(ds: DataSet, tag: string): number | undefined {
  const s = str(ds, tag);
  if (s === undefined) return undefined;
  const v = Number(s.split('\\')[0]);
  return Number.isFinite(v) ? v : undefined;
}

/** US/UL read through dicom-parser (which honours the byte order), guarding a short value. */
function uint(ds: DataSet, tag: string): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  return el.length >= 4 ? ds.uint32(tag) : ds.uint16(tag);
}

function code(ds: DataSet | undefined): { value?: string | undefined; scheme?: string | undefined; meaning?: string | undefined } {
  return { value: str(ds, T.codeValue), scheme: str(ds, T.codingScheme), meaning: str(ds, T.codeMeaning) };
}

function elementInBounds(ds: DataSet, el: Element): boolean {
  return el.dataOffset >= 0 && el.length >= 0 && el.dataOffset + el.length <= ds.byteArray.length;
}

interface ChannelPlan {
  index: number;
  name: string;
  sourceLabel: string | undefined;
  scale: number; // mV per raw unit
  offsetMv: number;
  skewSamples: number;
}

export function decodeDicomWaveform(dataSet: DataSet): EcgRecording {
  const groups = items(dataSet, T.waveformSequence);
  if (groups.length === 0) {
    throw new EcgDecodeError('ECG.NO_WAVEFORM', 'The file holds no waveform: Waveform Sequence (5400,0100) is missing or empty.');
  }
  const sopClass = str(dataSet, T.sopClassUid)?.replace(/\0/g, '').trim();
  const ecgSop = sopClass !== undefined && ECG_SOP_CLASSES.has(sopClass);
  const little = isLittleEndian(dataSet);
  const warnings: string[] = [];
  const out: EcgGroup[] = [];

  groups.forEach((g, gi) => {
    const label = str(g, T.groupLabel)?.trim() || `GROUP ${gi + 1}`;
    const nch = uint(g, T.channelCount);
    const ns = uint(g, T.sampleCount);
    const fs = num(g, T.samplingFrequency);
    const interp = str(g, T.interpretation)?.trim();
    const data = g.elements[T.waveformData];
    if (!nch || !ns || !fs || !(fs > 0) || !interp || !data) {
      throw new EcgDecodeError(
        'ECG.WAVEFORM_MALFORMED',
        `Waveform group ${gi + 1} lacks channel count, sample count, sampling frequency, sample interpretation or Waveform Data.`,
      );
    }
    if (nch * ns > MAX_SAMPLES_PER_GROUP) {
      throw new EcgDecodeError('ECG.WAVEFORM_MALFORMED', `Waveform group ${gi + 1} declares ${nch}×${ns} samples, more than supported.`);
    }
    const fmt = sampleFormat(interp, uint(g, T.bitsAllocated));
    const need = nch * ns * fmt.bytes;
    if (!elementInBounds(g, data) || data.length < need) {
      throw new EcgDecodeError(
        'ECG.WAVEFORM_TRUNCATED',
        `Waveform group ${gi + 1} ("${label}") declares ${nch} channels × ${ns} samples (${need} bytes) but Waveform Data holds ${Math.max(0, Math.min(data.length, g.byteArray.length - data.dataOffset))} bytes.`,
      );
    }
    const bytes = g.byteArray;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

    let padding: number | undefined;
    const pad = g.elements[T.paddingValue];
    if (pad && pad.length >= fmt.bytes && elementInBounds(g, pad)) padding = fmt.read(view, pad.dataOffset, little);

    const defs = items(g, T.channelDefinitions);
    if (defs.length !== nch) warnings.push(`group "${label}": ${defs.length} channel definitions for ${nch} channels`);
    const plans: ChannelPlan[] = [];
    for (let c = 0; c < nch; c++) {
      const def = defs[c];
      const src = code(def ? items(def, T.channelSource)[0] : undefined);
      const chLabel = def ? str(def, T.channelLabel)?.trim() : undefined;
      const name =
        leadFromCode(src.value, src.scheme) ?? leadFromText(src.meaning) ?? leadFromText(chLabel) ?? null;
      const unitCode = code(def ? items(def, T.sensitivityUnits)[0] : undefined);
      const toMv = voltageUnitToMv(unitCode.value) ?? voltageUnitToMv(unitCode.meaning === 'microvolt' ? 'uV' : unitCode.meaning === 'millivolt' ? 'mV' : undefined);
      const sensitivity = def ? num(def, T.sensitivity) : undefined;
      const shown = src.meaning ?? chLabel ?? src.value ?? `channel ${c + 1}`;
      const isEcg = name !== null ? KNOWN_LEADS.has(name) : ecgSop;
      if (!isEcg || toMv === null || sensitivity === undefined || sensitivity === 0) {
        warnings.push(
          `group "${label}": channel ${c + 1} (${shown}) skipped: ${!isEcg ? 'not an ECG lead' : toMv === null ? `units "${unitCode.value ?? 'none'}" are not a voltage` : 'no channel sensitivity'}`,
        );
        continue;
      }
      const correction = (def && num(def, T.correctionFactor)) ?? 1;
      const baseline = (def && num(def, T.baseline)) ?? 0;
      const sampleSkew = def ? num(def, T.sampleSkew) : undefined;
      const timeSkew = def ? num(def, T.timeSkew) : undefined;
      const skewSamples = Math.round(sampleSkew ?? (timeSkew !== undefined ? timeSkew * fs : 0));
      plans.push({
        index: c,
        name: name ?? shown,
        sourceLabel: src.meaning ?? chLabel,
        scale: sensitivity * correction * toMv,
        offsetMv: baseline * toMv,
        skewSamples: Math.max(0, Math.min(ns, skewSamples)),
      });
    }
    if (plans.length === 0) {
      warnings.push(`group "${label}" skipped: no ECG lead`);
      return;
    }

    const frame = nch * fmt.bytes;
    let padded = 0;
    const raw = new Float64Array(ns);
    const minRun = Math.max(2, Math.round(0.1 * fs));
    const leads: EcgLead[] = plans.map((p) => {
      const mv = new Float32Array(ns);
      let pos = data.dataOffset + p.index * fmt.bytes;
      // 16-bit signed samples (what ECG carts write) read directly: through the format's reader this
      // loop and the padding test below were most of a 12-lead ECG's decoding time.
      if (interp === 'SS' && fmt.bytes === 2) for (let s = 0; s < ns; s++, pos += frame) raw[s] = view.getInt16(pos, little);
      else for (let s = 0; s < ns; s++, pos += frame) raw[s] = fmt.read(view, pos, little);
      // Padding: the declared Waveform Padding Value, or (SS) the most negative code, which encoders
      // use for "no data" even when they do not declare it. Honoured for runs at either end of the
      // channel or internal runs of ≥ 100 ms, so a real sample that happens to equal it is kept
      // (one encoder declares 0 as padding).
      // Both as numbers (NaN when absent: equal to nothing), so the test below compares doubles only.
      const declaredPad = padding ?? Number.NaN;
      const ssPad = interp === 'SS' ? -32768 : Number.NaN;
      const isPad = (v: number) => v === declaredPad || v === ssPad;
      const { scale, offsetMv } = p;
      for (let s = 0; s < ns; ) {
        const v = raw[s]!;
        if (v !== declaredPad && v !== ssPad) {
          mv[s] = v * scale + offsetMv;
          s++;
          continue;
        }
        let e = s;
        while (e < ns && isPad(raw[e]!)) e++;
        const pad = s === 0 || e === ns || e - s >= minRun;
        for (let k = s; k < e; k++) mv[k] = pad ? Number.NaN : raw[k]! * p.scale + p.offsetMv;
        if (pad) padded += e - s;
        s = e;
      }
      fillGaps(mv);
      if (p.skewSamples > 0) {
        // The first sample was taken skew samples after the group start: delay the channel.
        mv.copyWithin(p.skewSamples, 0, ns - p.skewSamples);
        mv.fill(mv[p.skewSamples] ?? 0, 0, p.skewSamples);
      }
      return { name: p.name, mv, sourceLabel: p.sourceLabel };
    });
    if (padded > 0) warnings.push(`group "${label}": ${padded} padding samples filled from their neighbours`);
    leads.sort((a, b) => leadOrder(a.name) - leadOrder(b.name));
    out.push({ label, samplingFrequency: fs, leads });
  });

  if (out.length === 0) {
    throw new EcgDecodeError('ECG.NO_ECG_LEADS', 'The waveform holds no calibrated ECG lead (only other channels, or no channel sensitivity).');
  }
  const { measurements, statements } = readDeviceAnnotations(dataSet);
  return {
    source: 'dicom',
    groups: out,
    deviceMeasurements: measurements,
    deviceStatements: statements.length ? statements : undefined,
    warnings: warnings.length ? warnings : undefined,
  };
}

/** Replace NaN (padding) with the previous valid value, or the next one at the start; all-NaN → 0. */
function fillGaps(x: Float32Array): void {
  let last = Number.NaN;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (Number.isNaN(v)) {
      if (!Number.isNaN(last)) x[i] = last;
    } else last = v;
  }
  const first = x.findIndex((v) => !Number.isNaN(v));
  x.fill(first < 0 ? 0 : x[first]!, 0, first < 0 ? x.length : first);
}

// ───────────────────────────── device measurements ─────────────────────────────

/** Device measurement keys by code value (SCPECG, LOINC, MDC) with a text fallback on the meaning. */
const MEASUREMENT_CODES: Record<string, string> = {
  '5.10.2.1-3': 'rrMs',
  '5.10.2.1-5': 'ppMs',
  '5.13.5-7': 'prMs',
  '5.13.5-9': 'qrsMs',
  '5.13.5-11': 'qtMs',
  '5.10.2.5-5': 'qtcMs',
  '5.10.3-11': 'pAxis',
  '5.10.3-13': 'qrsAxis',
  '5.10.3-15': 'tAxis',
  '8867-4': 'heartRate',
  '2:16770': 'heartRate', // MDC_ECG_HEART_RATE
};

const MEASUREMENT_TEXT: Array<[RegExp, string]> = [
  [/^(heart|ventricular) rate$/i, 'heartRate'],
  [/^rr interval$/i, 'rrMs'],
  [/^pp interval$/i, 'ppMs'],
  [/^pr interval$/i, 'prMs'],
  [/^p (wave )?duration$/i, 'pDurationMs'],
  [/^qrs duration$/i, 'qrsMs'],
  [/^qt interval$/i, 'qtMs'],
  [/^qtc interval$/i, 'qtcMs'],
  [/^p axis$/i, 'pAxis'],
  [/^qrs axis$/i, 'qrsAxis'],
  [/^t axis$/i, 'tAxis'],
];

export function measurementKey(codeValue: string | undefined, meaning: string | undefined): string | null {
  if (codeValue && MEASUREMENT_CODES[codeValue.trim()]) return MEASUREMENT_CODES[codeValue.trim()]!;
  const m = meaning?.trim();
  if (m) for (const [re, key] of MEASUREMENT_TEXT) if (re.test(m)) return key;
  return null;
}

function decodeText(ds: DataSet, tag: string, charset: string | undefined): string | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0 || !elementInBounds(ds, el)) return undefined;
  const bytes = ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
  const cs = (charset ?? '').toUpperCase();
  const label = /GB18030|GBK|GB2312|ISO 2022 IR 58/.test(cs) ? 'gb18030' : /ISO_IR 192/.test(cs) ? 'utf-8' : 'latin1';
  return new TextDecoder(label).decode(bytes).replace(/[\0\s]+$/, '').trim() || undefined;
}

function readDeviceAnnotations(ds: DataSet): { measurements: Record<string, number | null>; statements: string[] } {
  const measurements: Record<string, number | null> = {};
  const statements: string[] = [];
  const charset = str(ds, T.specificCharacterSet);
  for (const a of items(ds, T.annotations)) {
    const text = decodeText(a, T.unformattedText, charset);
    if (text) {
      statements.push(text);
      continue;
    }
    const value = num(a, T.numericValue);
    if (value === undefined) continue;
    const concept = code(items(a, T.conceptName)[0]);
    const key = measurementKey(concept.value, concept.meaning);
    if (!key || key in measurements) continue;
    const unit = code(items(a, T.measurementUnits)[0]).value;
    measurements[key] = unit === 's' ? value * 1000 : value;
  }
  // Derived, not written by the device: a rate from its RR interval when it gives no rate.
  if (!('heartRate' in measurements) && typeof measurements.rrMs === 'number' && measurements.rrMs > 0) {
    measurements.heartRate = Math.round(60000 / measurements.rrMs);
  }
  return { measurements, statements };
}
