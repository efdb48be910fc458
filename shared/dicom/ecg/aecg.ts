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

function readSequenceSet(set: Node, label: string, warnings: string[]): EcgGroup | null {
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
      if (Number.isFinite(d)) mv[i] = originV * originMv + d * scaleV * scaleMv;
      else {
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
    throw new EcgDecodeError('ECG.AECG_MALFORMED', `${label}: the sequence set has leads but no time sequence with an increment.`);
  }
  leads.sort((a, b) => leadOrder(a.name) - leadOrder(b.name));
  return { label, samplingFrequency: Math.round(fs * 1e6) / 1e6, leads };
}

function groupLabel(code: string | undefined): string {
  const c = (code ?? '').toUpperCase();
  if (c === 'REPRESENTATIVE_BEAT' || c === 'MEDIAN_BEAT') return 'MEDIAN BEAT';
  return c || 'RHYTHM';
}

export function readAecg(xml: Uint8Array): EcgRecording {
  if (xml.byteLength === 0) throw new EcgDecodeError('ECG.AECG_EMPTY', 'The aECG file is empty.');
  if (xml.byteLength > MAX_XML_BYTES) throw new EcgDecodeError('ECG.AECG_MALFORMED', 'The aECG file is too large.');
  const src = new TextDecoder('utf-8').decode(xml);
  const valid = XMLValidator.validate(src);
  if (valid !== true) {
    throw new EcgDecodeError('ECG.AECG_MALFORMED', `The aECG file is not well-formed XML (line ${valid.err.line}: ${valid.err.msg}).`);
  }
  let doc: Node;
  try {
    doc = parser.parse(src) as Node;
  } catch (e) {
    throw new EcgDecodeError('ECG.AECG_MALFORMED', `The aECG file could not be parsed: ${e instanceof Error ? e.message : String(e)}.`);
  }
  const root = kids(doc, 'AnnotatedECG')[0];
  if (!root) throw new EcgDecodeError('ECG.AECG_MALFORMED', 'The XML file is not an HL7 aECG: its root element is not <AnnotatedECG>.');

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
        const g = readSequenceSet(set, sets.length > 1 ? `${label} ${i + 1}` : label, warnings);
        if (g) groups.push(g);
      });
      collectAnnotations(s.node, s.derived ? derived : fromSeries);
    }
  }
  if (groups.length === 0) {
    throw new EcgDecodeError('ECG.AECG_EMPTY', 'The aECG file holds no ECG lead: no series with MDC_ECG_LEAD_* sequences.');
  }
  // Global (representative-beat) measurements take precedence over the first beat's.
  const deviceMeasurements: Record<string, number | null> = { ...fromSeries, ...derived };
  if (!('heartRate' in deviceMeasurements) && typeof deviceMeasurements.rrMs === 'number' && deviceMeasurements.rrMs > 0) {
    deviceMeasurements.heartRate = Math.round(60000 / deviceMeasurements.rrMs);
  }
  return { source: 'hl7-aecg', groups, deviceMeasurements, warnings: warnings.length ? warnings : undefined };
}
