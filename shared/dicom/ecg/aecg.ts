/**
 * HL7 aECG (FDA annotated ECG, HL7 v3 AnnotatedECG) → EcgRecording in millivolts.
 *
 * AnnotatedECG/component/series (RHYTHM) and series/derivation/derivedSeries (REPRESENTATIVE_BEAT →
 * "MEDIAN BEAT"); each sequenceSet becomes one group. In a sequenceSet the TIME_ABSOLUTE /
 * TIME_RELATIVE sequence is a GLIST_TS / GLIST_PQ whose increment gives the sampling interval; each
 * MDC_ECG_LEAD_* sequence is an SLIST_PQ: value = origin + scale × digit, in the units of origin/scale.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { EcgDecodeError } from './errors.ts';
import { leadFromCode, leadOrder, voltageUnitToMv } from './leads.ts';
import type { EcgGroup, EcgLead, EcgRecording } from './model.ts';

type Node = Record<string, unknown>;

const MAX_XML_BYTES = 64 * 1024 * 1024;

/** What a technician can do about a refused aECG (messages never quote the file's content). */
const ACTION = 'Export the ECG again from the electrocardiograph or its PC software (as HL7 aECG with its waveforms, or as DICOM) and upload that file.';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (_name, _jpath, _isLeaf, isAttribute) => !isAttribute,
});

function kids(n: unknown, name: string): Node[] {
  if (!n || typeof n !== 'object') return [];
  const v = (n as Node)[name];
  if (!Array.isArray(v)) return [];
  return v.map((x) => (typeof x === 'object' && x !== null ? (x as Node) : { '#text': String(x) }));
}

function first(n: unknown, ...path: string[]): Node | undefined {
  let cur: Node[] = n && typeof n === 'object' ? [n as Node] : [];
  for (const p of path) cur = cur.flatMap((c) => kids(c, p));
  return cur[0];
}

function attr(n: Node | undefined, name: string): string | undefined {
  const v = n?.[`@${name}`];
  return typeof v === 'string' ? v : undefined;
}

function text(n: Node | undefined): string {
  const t = n?.['#text'];
  return typeof t === 'string' ? t : '';
}

function seconds(value: string | undefined, unit: string | undefined): number | null {
  const v = Number(value);
  if (!Number.isFinite(v) || v <= 0) return null;
  switch ((unit ?? 's').trim()) {
    case 's':
      return v;
    case 'ms':
      return v / 1000;
    case 'us':
      return v / 1e6;
    default:
      return null;
  }
}

const ANNOTATION_KEYS: Record<string, string> = {
  MDC_ECG_HEART_RATE: 'heartRate',
  MDC_ECG_TIME_PD_RR: 'rrMs',
  MDC_ECG_TIME_PD_PP: 'ppMs',
  MDC_ECG_TIME_PD_P: 'pDurationMs',
  MDC_ECG_TIME_PD_PR: 'prMs',
  MDC_ECG_TIME_PD_QRS: 'qrsMs',
  MDC_ECG_TIME_PD_QT: 'qtMs',
  MDC_ECG_TIME_PD_QTC: 'qtcMs',
  MDC_ECG_ANGLE_P_FRONT: 'pAxis',
  MDC_ECG_ANGLE_QRS_FRONT: 'qrsAxis',
  MDC_ECG_ANGLE_T_FRONT: 'tAxis',
};

function collectAnnotations(n: Node, out: Record<string, number | null>): void {
  for (const set of kids(n, 'subjectOf').flatMap((s) => kids(s, 'annotationSet'))) walkAnnotations(set, out);
}

function walkAnnotations(n: Node, out: Record<string, number | null>): void {
  for (const a of kids(n, 'component').flatMap((c) => kids(c, 'annotation'))) {
    const codeValue = attr(first(a, 'code'), 'code')?.toUpperCase();
    const key = codeValue ? ANNOTATION_KEYS[codeValue] : undefined;
    const value = first(a, 'value');
    if (key && !(key in out)) {
      const v = Number(attr(value, 'value'));
      if (Number.isFinite(v)) out[key] = attr(value, 'unit') === 's' ? v * 1000 : v;
    }
    walkAnnotations(a, out);
  }
}

function readSequenceSet(set: Node, label: string, warnings: string[], stats: { maxAbs: number; integers: boolean }): EcgGroup | null {
  let fs: number | null = null;
  const leads: EcgLead[] = [];
  for (const seq of kids(set, 'component').flatMap((c) => kids(c, 'sequence'))) {
    const codeValue = attr(first(seq, 'code'), 'code') ?? '';
    const value = first(seq, 'value');
    if (/^TIME_(ABSOLUTE|RELATIVE)$/.test(codeValue)) {
      const inc = first(value, 'increment');
      fs = ((s) => (s ? 1 / s : null))(seconds(attr(inc, 'value'), attr(inc, 'unit')));
      continue;
    }
    if (!/^MDC_ECG_LEAD_/i.test(codeValue)) continue;
    const origin = first(value, 'origin');
    const scale = first(value, 'scale');
    const scaleV = Number(attr(scale, 'value') ?? 1);
    const originV = Number(attr(origin, 'value') ?? 0);
    const scaleMv = voltageUnitToMv(attr(scale, 'unit') ?? 'uV');
    const originMv = voltageUnitToMv(attr(origin, 'unit') ?? attr(scale, 'unit') ?? 'uV');
    if (scaleMv === null || originMv === null || !Number.isFinite(scaleV) || !Number.isFinite(originV)) {
      warnings.push(`${label}: ${codeValue} skipped: origin/scale are not voltages`);
      continue;
    }
    const digits = text(first(value, 'digits')).trim();
    if (!digits) continue;
    const parts = digits.split(/\s+/);
    const mv = new Float32Array(parts.length);
    let bad = 0;
    for (let i = 0; i < parts.length; i++) {
      const d = Number(parts[i]);
      if (Number.isFinite(d)) {
        mv[i] = originV * originMv + d * scaleV * scaleMv;
        if (Math.abs(d) > stats.maxAbs) stats.maxAbs = Math.abs(d);
        if (!Number.isInteger(d)) stats.integers = false;
      } else {
        mv[i] = i > 0 ? mv[i - 1]! : 0;
        bad++;
      }
    }
    if (bad > 0) warnings.push(`${label}: ${codeValue}: ${bad} unreadable digits replaced`);
    const name = leadFromCode(codeValue) ?? codeValue.replace(/^MDC_ECG_LEAD_/i, '');
    leads.push({ name, mv, sourceLabel: codeValue });
  }
  if (leads.length === 0) return null;
  if (fs === null || !Number.isFinite(fs)) {
    throw new EcgDecodeError('ECG.AECG_MALFORMED', `A waveform of the aECG file has leads but no time sequence with an increment, so its sampling rate is unknown. ${ACTION}`);
  }
  leads.sort((a, b) => leadOrder(a.name) - leadOrder(b.name));
  return { label, samplingFrequency: Math.round(fs * 1e6) / 1e6, leads };
}

function groupLabel(code: string | undefined): string {
  const c = (code ?? '').toUpperCase();
  if (c === 'REPRESENTATIVE_BEAT' || c === 'MEDIAN_BEAT') return 'MEDIAN BEAT';
  return c || 'RHYTHM';
}

/** What the aECG says about itself besides the waveforms: identifiers, subject, time, device. PHI inside. */
export interface AecgHeader {
  /** AnnotatedECG/id: root and extension as written. */
  id: { root?: string | undefined; extension?: string | undefined } | null;
  /** The first rhythm series' id. */
  seriesId: { root?: string | undefined; extension?: string | undefined } | null;
  /** AnnotatedECG/effectiveTime (center, else low): an HL7 TS, e.g. 20021122091000. */
  effectiveTime?: string | undefined;
  subject: {
    id?: string | undefined;
    name?: string | undefined;
    /** administrativeGenderCode as written (M, F, UN, …). */
    gender?: string | undefined;
    birthTime?: string | undefined;
  };
  manufacturer?: string | undefined;
  model?: string | undefined;
  /** Per decoded group (same order as recording.groups): the widest digit, and whether all digits are integers. */
  digits: Array<{ maxAbs: number; integers: boolean }>;
}

/** The character set of the XML: BOM, else the declaration's encoding (GB2312/GBK → gb18030), else UTF-8. */
export function decodeXml(xml: Uint8Array): string {
  if (xml[0] === 0xff && xml[1] === 0xfe) return new TextDecoder('utf-16le').decode(xml.subarray(2));
  if (xml[0] === 0xfe && xml[1] === 0xff) return new TextDecoder('utf-16be').decode(xml.subarray(2));
  if (xml[0] === 0xef && xml[1] === 0xbb && xml[2] === 0xbf) return new TextDecoder('utf-8').decode(xml.subarray(3));
  let head = '';
  for (let i = 0; i < Math.min(xml.length, 200); i++) head += String.fromCharCode(xml[i]!);
  const enc = /^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1]?.toLowerCase();
  let label = 'utf-8';
  if (enc && /^(gb2312|gbk|gb18030|cp936|x-gbk|euc-cn)$/.test(enc)) label = 'gb18030';
  else if (enc && /^(iso-8859-1|latin1|windows-1252|us-ascii|ascii)$/.test(enc)) label = 'windows-1252';
  else if (enc === 'big5') label = 'big5';
  return new TextDecoder(label).decode(xml);
}

function parseRoot(xml: Uint8Array): Node {
  if (xml.byteLength === 0) throw new EcgDecodeError('ECG.AECG_EMPTY', `The aECG file is empty. ${ACTION}`);
  if (xml.byteLength > MAX_XML_BYTES) throw new EcgDecodeError('ECG.AECG_MALFORMED', `The aECG file is too large. ${ACTION}`);
  const src = decodeXml(xml);
  const valid = XMLValidator.validate(src);
  if (valid !== true) {
    // Only the line number: the validator's text can quote the file's content.
    throw new EcgDecodeError('ECG.AECG_MALFORMED', `The aECG file is not well-formed XML (error at line ${Number(valid.err.line) || '?'}); it is damaged or incomplete. ${ACTION}`);
  }
  let doc: Node;
  try {
    doc = parser.parse(src) as Node;
  } catch {
    throw new EcgDecodeError('ECG.AECG_MALFORMED', `The aECG file could not be parsed as XML; it is damaged. ${ACTION}`);
  }
  const root = kids(doc, 'AnnotatedECG')[0];
  if (!root) throw new EcgDecodeError('ECG.AECG_MALFORMED', `The XML file is not an HL7 aECG: its root element is not <AnnotatedECG>. ${ACTION}`);
  return root;
}

function decodeRoot(root: Node, digitStats: AecgHeader['digits']): EcgRecording {
  const warnings: string[] = [];
  const groups: EcgGroup[] = [];
  const derived: Record<string, number | null> = {};
  const fromSeries: Record<string, number | null> = {};
  for (const series of kids(root, 'component').flatMap((c) => kids(c, 'series'))) {
    const all: Array<{ node: Node; derived: boolean }> = [
      { node: series, derived: false },
      ...kids(series, 'derivation').flatMap((d) => kids(d, 'derivedSeries')).map((node) => ({ node, derived: true })),
    ];
    for (const s of all) {
      const label = groupLabel(attr(first(s.node, 'code'), 'code'));
      const sets = kids(s.node, 'component').flatMap((c) => kids(c, 'sequenceSet'));
      sets.forEach((set, i) => {
        const stats = { maxAbs: 0, integers: true };
        const g = readSequenceSet(set, sets.length > 1 ? `${label} ${i + 1}` : label, warnings, stats);
        if (g) {
          groups.push(g);
          digitStats.push(stats);
        }
      });
      collectAnnotations(s.node, s.derived ? derived : fromSeries);
    }
  }
  if (groups.length === 0) {
    throw new EcgDecodeError(
      'ECG.AECG_EMPTY',
      `The aECG file holds no ECG waveform (no series with MDC_ECG_LEAD_* sequences): the export contains only the header. ${ACTION}`,
    );
  }
  // Global (representative-beat) measurements take precedence over the first beat's.
  const deviceMeasurements: Record<string, number | null> = { ...fromSeries, ...derived };
  if (!('heartRate' in deviceMeasurements) && typeof deviceMeasurements.rrMs === 'number' && deviceMeasurements.rrMs > 0) {
    deviceMeasurements.heartRate = Math.round(60000 / deviceMeasurements.rrMs);
  }
  return { source: 'hl7-aecg', groups, deviceMeasurements, warnings: warnings.length ? warnings : undefined };
}

const idOf = (n: Node | undefined) => (n ? { root: attr(n, 'root')?.trim() || undefined, extension: attr(n, 'extension')?.trim() || undefined } : null);
const clean = (s: string | undefined) => {
  const t = s?.replace(/\s+/g, ' ').trim();
  return t ? t : undefined;
};

/** A person's name: plain text, or family^given from <family>/<given> parts (the DICOM PN order). */
function personName(n: Node | undefined): string | undefined {
  if (!n) return undefined;
  const family = kids(n, 'family').map((x) => clean(text(x))).filter(Boolean).join(' ');
  const given = kids(n, 'given').map((x) => clean(text(x))).filter(Boolean).join(' ');
  if (family || given) return given ? `${family}^${given}` : family;
  return clean(text(n));
}

function readHeader(root: Node, digits: AecgHeader['digits']): AecgHeader {
  const et = first(root, 'effectiveTime');
  const effectiveTime = attr(first(et, 'center'), 'value') ?? attr(first(et, 'low'), 'value');
  const trialSubject = first(root, 'componentOf', 'timepointEvent', 'componentOf', 'subjectAssignment', 'subject', 'trialSubject');
  const person = first(trialSubject, 'subjectDemographicPerson') ?? first(trialSubject, 'demographicPerson');
  const sid = idOf(first(trialSubject, 'id'));
  const firstSeries = kids(root, 'component').flatMap((c) => kids(c, 'series'))[0];
  const device = first(firstSeries, 'author', 'seriesAuthor', 'manufacturedSeriesDevice');
  return {
    id: idOf(first(root, 'id')),
    seriesId: idOf(first(firstSeries, 'id')),
    effectiveTime: clean(effectiveTime),
    subject: {
      id: sid?.extension ?? sid?.root,
      name: personName(first(person, 'name')),
      gender: clean(attr(first(person, 'administrativeGenderCode'), 'code')),
      birthTime: clean(attr(first(person, 'birthTime'), 'value')),
    },
    manufacturer: clean(text(first(firstSeries, 'author', 'seriesAuthor', 'manufacturerOrganization', 'name'))),
    model: clean(text(first(device, 'manufacturerModelName'))),
    digits,
  };
}

/** Decode an aECG and read its header (ids, subject, time, device) in one parse. */
export function readAecgFile(xml: Uint8Array): { recording: EcgRecording; header: AecgHeader } {
  const root = parseRoot(xml);
  const digits: AecgHeader['digits'] = [];
  const recording = decodeRoot(root, digits);
  return { recording, header: readHeader(root, digits) };
}

export function readAecg(xml: Uint8Array): EcgRecording {
  return decodeRoot(parseRoot(xml), []);
}
