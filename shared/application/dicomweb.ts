import type { Principal } from '../contracts/auth.ts';
import type { StudyMetadata } from '../contracts/study.ts';
import type { Case } from '../domain/case.ts';
import { AppError } from '../domain/errors.ts';
import type { CaseFilter, InstanceRecord } from '../ports/case-repository.ts';
import type { ByteRun, DicomJson, DicomJsonAttribute, DicomObjectReader, FrameLayout } from '../ports/dicom-reader.ts';
import type { Deps } from './deps.ts';

// ---------------------------------------------------------------------------------------------
// What DICOMweb sees: the accepted DICOM instances of the cases the caller may see, grouped by
// StudyInstanceUID (one study may span several submissions). Rejected cases and refused files are
// never visible; HL7 aECG and SCP-ECG files are not DICOM and are left out.

/** Most cases one request looks at; beyond it results are partial (and say so). */
export const MAX_SCANNED_CASES = 20_000;
/** Most results one QIDO answer holds (PS3.18: the server may cap and warn). */
export const MAX_QIDO_RESULTS = 1000;

const PAGE = 200;
const CONCURRENCY = 16;
/**
 * A UID as devices write them: digits separated by dots. PS3.5 9.1 also forbids leading zeros in a
 * component and more than 64 characters, but devices in the field break both (1.2.840.0010…); an
 * instance TeleRead stored must stay reachable, so only what could not be a UID at all (an aECG or
 * SCP-ECG file's own identifiers, letters, separators) is excluded. Query values keep the 64 limit.
 */
const UID_RE = /^[0-9]+(\.[0-9]+)+$/;

interface Visible {
  c: Case;
  study: StudyMetadata | null;
  instances: InstanceRecord[];
}

function scopeFilter(p: Principal, patientId?: string): CaseFilter | null {
  const f: CaseFilter = { limit: PAGE, patientId };
  if (p.role === 'technician') {
    if (!p.clinicId) return null;
    f.clinicId = p.clinicId;
  } else if (p.role === 'reader') {
    if (!p.pools?.length) return null;
    f.pools = p.pools;
  }
  return f;
}

/**
 * Visible cases, newest first, with their DICOM instances. Cost: one paged scan of the caller's
 * scope (clinic / pools index; the patient index when PatientID is exact) and one instance query
 * per case that passes `keep`.
 */
async function scan(deps: Deps, p: Principal, keep: (c: Case) => boolean, patientId?: string): Promise<{ rows: Visible[]; truncated: boolean }> {
  const filter = scopeFilter(p, patientId);
  if (!filter) return { rows: [], truncated: false };
  const rows: Visible[] = [];
  let seen = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.cases.list({ ...filter, cursor });
    const wanted = page.items.filter((c) => c.status !== 'REJECTED' && c.study !== null && keep(c));
    for (let i = 0; i < wanted.length; i += CONCURRENCY) {
      const batch = wanted.slice(i, i + CONCURRENCY);
      const lists = await Promise.all(batch.map((c) => deps.cases.listInstances(c.caseId)));
      batch.forEach((c, j) => {
        const instances = lists[j]!.filter((x) => UID_RE.test(x.sopClassUID) && UID_RE.test(x.studyInstanceUID));
        if (instances.length) rows.push({ c, study: c.study as unknown as StudyMetadata, instances });
      });
    }
    seen += page.items.length;
    cursor = page.nextCursor ?? undefined;
    if (cursor && seen >= MAX_SCANNED_CASES) return { rows, truncated: true };
  } while (cursor);
  return { rows, truncated: false };
}

// ---------------------------------------------------------------------------------------------
// QIDO-RS attributes: what can be matched and returned, by keyword and tag.

type Level = 'study' | 'series' | 'instance';
interface AttrDef {
  keyword: string;
  tag: string;
  vr: string;
  level: Level;
  /** May be used as a matching key. */
  match: boolean;
}

const ATTRS: AttrDef[] = [
  ['SpecificCharacterSet', '00080005', 'CS', 'study', false],
  ['StudyDate', '00080020', 'DA', 'study', true],
  ['StudyTime', '00080030', 'TM', 'study', true],
  ['AccessionNumber', '00080050', 'SH', 'study', true],
  ['InstanceAvailability', '00080056', 'CS', 'study', false],
  ['ModalitiesInStudy', '00080061', 'CS', 'study', true],
  ['ReferringPhysicianName', '00080090', 'PN', 'study', true],
  ['RetrieveURL', '00081190', 'UR', 'study', false],
  ['StudyDescription', '00081030', 'LO', 'study', true],
  ['PatientName', '00100010', 'PN', 'study', true],
  ['PatientID', '00100020', 'LO', 'study', true],
  ['PatientBirthDate', '00100030', 'DA', 'study', true],
  ['PatientSex', '00100040', 'CS', 'study', true],
  ['StudyInstanceUID', '0020000D', 'UI', 'study', true],
  ['StudyID', '00200010', 'SH', 'study', true],
  ['NumberOfStudyRelatedSeries', '00201206', 'IS', 'study', false],
  ['NumberOfStudyRelatedInstances', '00201208', 'IS', 'study', false],
  ['Modality', '00080060', 'CS', 'series', true],
  ['SeriesDescription', '0008103E', 'LO', 'series', true],
  ['BodyPartExamined', '00180015', 'CS', 'series', true],
  ['SeriesInstanceUID', '0020000E', 'UI', 'series', true],
  ['SeriesNumber', '00200011', 'IS', 'series', true],
  ['NumberOfSeriesRelatedInstances', '00201209', 'IS', 'series', false],
  ['SOPClassUID', '00080016', 'UI', 'instance', true],
  ['SOPInstanceUID', '00080018', 'UI', 'instance', true],
  ['InstanceNumber', '00200013', 'IS', 'instance', true],
  ['NumberOfFrames', '00280008', 'IS', 'instance', false],
  ['Rows', '00280010', 'US', 'instance', false],
  ['Columns', '00280011', 'US', 'instance', false],
  ['BitsAllocated', '00280100', 'US', 'instance', false],
].map(([keyword, tag, vr, level, match]) => ({ keyword, tag, vr, level, match }) as AttrDef);

const BY_KEY = new Map<string, AttrDef>(ATTRS.flatMap((a) => [[a.keyword.toLowerCase(), a] as const, [a.tag.toLowerCase(), a] as const]));
const LEVEL_RANK: Record<Level, number> = { study: 0, series: 1, instance: 2 };

/** A parsed QIDO-RS request: matching keys by tag, what to include, paging. */
export interface QidoQuery {
  matches: Map<string, string>;
  include: Set<string> | 'all';
  limit: number;
  offset: number;
}

const invalidQuery = (message: string) => new AppError('DICOMWEB.BAD_QUERY', 'invalid', message);

/**
 * Parse QIDO-RS query parameters (PS3.18 8.3.4): matching keys by keyword or tag, `includefield`,
 * `limit`, `offset`; `fuzzymatching` is accepted and ignored. A key or value TeleRead cannot
 * evaluate is a 400 naming it, never silently dropped.
 */
export function parseQidoQuery(params: Array<[string, string]>, level: Level): QidoQuery {
  const q: QidoQuery = { matches: new Map(), include: new Set(), limit: MAX_QIDO_RESULTS, offset: 0 };
  for (const [rawKey, value] of params) {
    const key = rawKey.trim();
    const lower = key.toLowerCase();
    if (lower === 'fuzzymatching') continue;
    if (lower === 'limit' || lower === 'offset') {
      if (!/^\d{1,9}$/.test(value)) throw invalidQuery(`${lower} must be a whole number of at most 9 digits.`);
      if (lower === 'limit') q.limit = Math.min(Number(value), MAX_QIDO_RESULTS);
      else q.offset = Number(value);
      continue;
    }
    if (lower === 'includefield') {
      for (const f of value.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (f.toLowerCase() === 'all') q.include = 'all';
        else if (BY_KEY.has(f.toLowerCase())) {
          if (q.include !== 'all') q.include.add(BY_KEY.get(f.toLowerCase())!.tag);
        } else if (!/^[0-9A-Fa-f]{8}$/.test(f) && !/^[A-Za-z][A-Za-z0-9]*$/.test(f)) {
          throw invalidQuery(`includefield "${f.slice(0, 64)}" is not an attribute keyword or tag.`);
        }
        // Other valid keywords/tags: TeleRead has no value for them, so there is nothing to include.
      }
      continue;
    }
    const def = BY_KEY.get(lower);
    if (!def || !def.match) {
      const keys = ATTRS.filter((a) => a.match && LEVEL_RANK[a.level] <= LEVEL_RANK[level]).map((a) => a.keyword);
      throw invalidQuery(`"${key.slice(0, 64)}" is not a query key TeleRead supports here. Use one of: ${keys.join(', ')}, includefield, limit, offset.`);
    }
    if (LEVEL_RANK[def.level] > LEVEL_RANK[level]) throw invalidQuery(`${def.keyword} is a ${def.level}-level key; it cannot be matched when searching for ${level === 'study' ? 'studies' : `${level}s`}.`);
    if (q.matches.has(def.tag)) throw invalidQuery(`${def.keyword} is given twice; give several values in one parameter, separated by commas.`);
    checkValue(def, value);
    q.matches.set(def.tag, value);
  }
  return q;
}

const DA_RE = /^\d{8}$/;
const TM_RE = /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/;

function checkValue(def: AttrDef, value: string): void {
  if (value === '') return;
  // The value is never quoted back: it may be a patient's name or ID.
  const bad = (what: string) => {
    throw invalidQuery(`The ${def.keyword} value is not valid: ${what}`);
  };
  if (def.vr === 'DA' || def.vr === 'TM') {
    const re = def.vr === 'DA' ? DA_RE : TM_RE;
    const parts = value.includes('-') ? value.split('-') : [value];
    if (parts.length > 2 || parts.every((x) => x === '') || parts.some((x) => x !== '' && !re.test(x)))
      bad(def.vr === 'DA' ? 'use YYYYMMDD, or a range YYYYMMDD-YYYYMMDD (either end may be left open).' : 'use HHMMSS, or a range HHMMSS-HHMMSS.');
  }
  if (def.vr === 'UI' && value.split(/[,\\]/).some((u) => !UID_RE.test(u.trim()) || u.trim().length > 64)) bad('a UID is digits separated by dots, at most 64 characters (several UIDs: separate them with commas).');
  if (def.vr === 'IS' && !/^[+-]?\d{1,12}$/.test(value)) bad('a whole number is expected.');
  if (value.length > 256) bad('the value is too long.');
}

// ---------------------------------------------------------------------------------------------
// Matching (PS3.4 C.2.2.2): single value, wildcards * and ?, UID lists, date/time ranges.

/**
 * A matcher for a value with wildcards (* any run, ? one character). Greedy with one backtrack point,
 * so at most pattern × value steps: a RegExp built from `*a*a*a…X` backtracks exponentially, and any
 * signed-in caller chooses the pattern.
 */
function wildcard(pattern: string, caseInsensitive: boolean): (value: string) => boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  return (raw: string) => {
    const v = caseInsensitive ? raw.toLowerCase() : raw;
    let i = 0;
    let j = 0;
    let star = -1;
    let mark = 0;
    while (i < v.length) {
      if (j < p.length && (p[j] === '?' || p[j] === v[i])) {
        i++;
        j++;
      } else if (j < p.length && p[j] === '*') {
        star = j++;
        mark = i;
      } else if (star >= 0) {
        j = star + 1;
        i = ++mark;
      } else {
        return false;
      }
    }
    while (j < p.length && p[j] === '*') j++;
    return j === p.length;
  };
}

function matchesValue(def: AttrDef, query: string, values: Array<string | number | undefined>): boolean {
  if (query === '' || query === '*') return true;
  const have = values.filter((v): v is string | number => v !== undefined && v !== '').map(String);
  if (def.vr === 'UI') {
    const wanted = new Set(query.split(/[,\\]/).map((s) => s.trim()));
    return have.some((v) => wanted.has(v));
  }
  if (def.vr === 'DA' || def.vr === 'TM') {
    if (!query.includes('-')) return have.some((v) => (def.vr === 'TM' ? v.startsWith(query) : v === query));
    const [from, to] = query.split('-') as [string, string];
    return have.some((v) => (from === '' || v >= from) && (to === '' || v.slice(0, to.length) <= to));
  }
  if (def.vr === 'IS') return have.some((v) => Number(v) === Number(query));
  // CS allows several values (ModalitiesInStudy=CR,DX): any may match.
  const alternatives = def.vr === 'CS' ? query.split(/[,\\]/) : [query];
  return alternatives.some((alt) => {
    const matches = wildcard(alt, def.vr === 'PN');
    return have.some(matches);
  });
}

// ---------------------------------------------------------------------------------------------
// The model QIDO answers from.

interface InstanceRow {
  rec: InstanceRecord;
  /** The header projection, when this instance is the one the case's projection was made from. */
  meta: StudyMetadata | null;
}
interface SeriesRow {
  uid: string;
  modality: string;
  meta: StudyMetadata | null;
  instances: InstanceRow[];
}
interface StudyRow {
  uid: string;
  c: Case;
  meta: StudyMetadata | null;
  series: Map<string, SeriesRow>;
}

function buildStudies(rows: Visible[]): StudyRow[] {
  const studies = new Map<string, StudyRow>();
  for (const { c, study, instances } of rows) {
    for (const rec of instances) {
      const own = study && study.instance.SOPInstanceUID === rec.sopInstanceUID ? study : null;
      let s = studies.get(rec.studyInstanceUID);
      if (!s) {
        s = { uid: rec.studyInstanceUID, c, meta: study && study.study.StudyInstanceUID === rec.studyInstanceUID ? study : null, series: new Map() };
        studies.set(s.uid, s);
      }
      let se = s.series.get(rec.seriesInstanceUID);
      if (!se) {
        se = { uid: rec.seriesInstanceUID, modality: rec.modality, meta: null, instances: [] };
        s.series.set(se.uid, se);
      }
      if (study && study.series.SeriesInstanceUID === se.uid) se.meta ??= study;
      se.instances.push({ rec, meta: own });
    }
  }
  return [...studies.values()];
}

/** DA from the case record's ISO birth date (1970-01-01 → 19700101). */
const isoToDA = (s: string | undefined) => (s && /^\d{4}-\d{2}-\d{2}$/.test(s) ? s.replaceAll('-', '') : s);

/**
 * Study-level values. The patient is the case record's (what the clinic registered, consented and
 * is reported on; it is also what the patient index holds), not the device's header.
 */
function studyValues(s: StudyRow): Record<string, Array<string | number | undefined>> {
  const m = s.meta;
  const series = [...s.series.values()];
  return {
    '00080005': ['ISO_IR 192'],
    '00080020': [m?.study.StudyDate],
    '00080030': [m?.study.StudyTime],
    '00080050': [m?.study.AccessionNumber],
    '00080056': ['ONLINE'],
    '00080061': [...new Set(series.map((x) => x.modality))],
    '00080090': [],
    '00081030': [m?.study.StudyDescription],
    '00100010': [s.c.patient.name],
    '00100020': [s.c.patient.id],
    '00100030': [isoToDA(s.c.patient.birthDate)],
    '00100040': [s.c.patient.sex],
    '0020000D': [s.uid],
    '00200010': [],
    '00201206': [series.length],
    '00201208': [series.reduce((n, x) => n + x.instances.length, 0)],
  };
}

function seriesValues(se: SeriesRow): Record<string, Array<string | number | undefined>> {
  return {
    '00080060': [se.modality],
    '0008103E': [se.meta?.series.SeriesDescription],
    '00180015': [se.meta?.BodyPartExamined],
    '0020000E': [se.uid],
    '00200011': [se.meta?.series.SeriesNumber],
    '00201209': [se.instances.length],
  };
}

function instanceValues(i: InstanceRow): Record<string, Array<string | number | undefined>> {
  const img = i.meta?.image;
  return {
    '00080016': [i.rec.sopClassUID],
    '00080018': [i.rec.sopInstanceUID],
    '00200013': [i.meta?.instance.InstanceNumber],
    '00280008': [img?.NumberOfFrames],
    '00280010': [img?.Rows],
    '00280011': [img?.Columns],
    '00280100': [img?.BitsAllocated],
  };
}

const DEF_BY_TAG = new Map(ATTRS.map((a) => [a.tag, a]));

function matchAll(q: QidoQuery, level: Level, values: Record<string, Array<string | number | undefined>>): boolean {
  for (const [tag, query] of q.matches) {
    const def = DEF_BY_TAG.get(tag)!;
    if (def.level !== level) continue;
    if (!matchesValue(def, query, values[tag] ?? [])) return false;
  }
  return true;
}

function toJson(values: Record<string, Array<string | number | undefined>>, keep: (tag: string) => boolean): DicomJson {
  const out: DicomJson = {};
  for (const [tag, vals] of Object.entries(values)) {
    if (!keep(tag)) continue;
    const def = DEF_BY_TAG.get(tag)!;
    const present = vals.filter((v) => v !== undefined && v !== '');
    const a: DicomJsonAttribute = { vr: def.vr };
    if (present.length) a.Value = def.vr === 'PN' ? present.map((v) => ({ Alphabetic: String(v) })) : def.vr === 'IS' || def.vr === 'US' ? present.map(Number) : present.map(String);
    out[tag] = a;
  }
  return out;
}

/** Attributes a level returns by default (PS3.18 Tables 10.6.3-3 to -5), plus includefield ones. */
function keeper(q: QidoQuery, level: Level, inPath: boolean) {
  return (tag: string) => {
    const def = DEF_BY_TAG.get(tag)!;
    if (def.level === level || tag === '00080056') return true;
    // Attributes of a higher level are returned when that level is not fixed by the path.
    if (!inPath && LEVEL_RANK[def.level] < LEVEL_RANK[level] && ['0020000D', '0020000E', '00100010', '00100020', '00080020', '00080060', '00080050'].includes(tag)) return true;
    return q.include === 'all' || q.include.has(tag);
  };
}

const sortJson = (j: DicomJson): DicomJson => Object.fromEntries(Object.entries(j).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export interface QidoScope {
  studyInstanceUID?: string | undefined;
  seriesInstanceUID?: string | undefined;
}

export interface QidoResult {
  items: DicomJson[];
  /** More matched than were returned (the limit, or the scan cap). */
  truncated: boolean;
}

/**
 * QIDO-RS: studies, series or instances the caller may see that match the query, as DICOM JSON
 * with RetrieveURL under `retrieveBase` (the service root, e.g. https://host/dicomweb).
 */
export async function searchDicom(deps: Deps, p: Principal, level: Level, scope: QidoScope, q: QidoQuery, retrieveBase: string): Promise<QidoResult> {
  const studyUid = scope.studyInstanceUID;
  if (studyUid !== undefined && !UID_RE.test(studyUid)) return { items: [], truncated: false };
  if (scope.seriesInstanceUID !== undefined && !UID_RE.test(scope.seriesInstanceUID)) return { items: [], truncated: false };
  const pid = q.matches.get('00100020');
  const exactPid = pid && !/[*?]/.test(pid) ? pid : undefined;
  // Case-level keys are checked before the case's instances are read.
  const caseKeys = new Set(['00100010', '00100020', '00100030', '00100040']);
  const { rows, truncated: scanCut } = await scan(deps, p, (c) => {
    const probe: StudyRow = { uid: '', c, meta: null, series: new Map() };
    const vals = studyValues(probe);
    return [...q.matches].every(([tag, query]) => !caseKeys.has(tag) || matchesValue(DEF_BY_TAG.get(tag)!, query, vals[tag] ?? []));
  }, exactPid);

  let studies = buildStudies(rows);
  if (studyUid) studies = studies.filter((s) => s.uid === studyUid);
  studies = studies.filter((s) => matchAll(q, 'study', studyValues(s)));

  const all: DicomJson[] = [];
  const url = (...parts: string[]) => `${retrieveBase}/${parts.join('/')}`;
  for (const s of studies) {
    const sv = studyValues(s);
    if (level === 'study') {
      all.push(sortJson(toJson({ ...sv, '00081190': [url('studies', s.uid)] }, keeper(q, 'study', false))));
      continue;
    }
    for (const se of s.series.values()) {
      if (scope.seriesInstanceUID && se.uid !== scope.seriesInstanceUID) continue;
      const sev = seriesValues(se);
      if (!matchAll(q, 'series', sev)) continue;
      if (level === 'series') {
        all.push(sortJson(toJson({ ...sv, ...sev, '00081190': [url('studies', s.uid, 'series', se.uid)] }, keeper(q, 'series', !!studyUid))));
        continue;
      }
      for (const i of se.instances) {
        const iv = instanceValues(i);
        if (!matchAll(q, 'instance', iv)) continue;
        const keep = keeper(q, 'instance', !!studyUid);
        const keepSeries = (tag: string) => keep(tag) || (!scope.seriesInstanceUID && DEF_BY_TAG.get(tag)!.level === 'series' && ['0020000E', '00080060'].includes(tag));
        all.push(sortJson(toJson({ ...sv, ...sev, ...iv, '00081190': [url('studies', s.uid, 'series', se.uid, 'instances', i.rec.sopInstanceUID)] }, keepSeries)));
      }
    }
  }
  await deps.audit.append({ at: deps.clock.now().toISOString(), actor: p.userId, action: 'dicomweb.search', detail: { level, results: all.length } });
  const items = all.slice(q.offset, q.offset + q.limit);
  return { items, truncated: scanCut || all.length > q.offset + q.limit };
}

// ---------------------------------------------------------------------------------------------
// WADO-RS.

export interface WadoTarget {
  studyInstanceUID: string;
  seriesInstanceUID?: string | undefined;
  sopInstanceUID?: string | undefined;
}

/** One stored instance a WADO-RS answer is made of. */
export interface LocatedInstance {
  key: string;
  size: number;
  sha256: string;
  sopInstanceUID: string;
  seriesInstanceUID: string;
  studyInstanceUID: string;
  sopClassUID: string;
}

const notFound = (t: WadoTarget) =>
  new AppError(
    'DICOMWEB.NOT_FOUND',
    'not_found',
    t.sopInstanceUID ? 'No such instance in this study and series.' : t.seriesInstanceUID ? 'No such series in this study.' : 'No such study.',
  );

/**
 * The stored instances a WADO-RS request names, among the cases the caller may see (another
 * clinic's study answers exactly like a missing one). Recorded in the audit log per case.
 */
export async function locateInstances(deps: Deps, p: Principal, t: WadoTarget): Promise<LocatedInstance[]> {
  for (const uid of [t.studyInstanceUID, t.seriesInstanceUID, t.sopInstanceUID]) if (uid !== undefined && !UID_RE.test(uid)) throw notFound(t);
  const wanted = (i: InstanceRecord) =>
    i.studyInstanceUID === t.studyInstanceUID && (!t.seriesInstanceUID || i.seriesInstanceUID === t.seriesInstanceUID) && (!t.sopInstanceUID || i.sopInstanceUID === t.sopInstanceUID);
  // A submission is normally one study, named by its first file: look there first, then everywhere.
  let { rows } = await scan(deps, p, (c) => (c.study as unknown as StudyMetadata | null)?.study.StudyInstanceUID === t.studyInstanceUID);
  if (!rows.some((r) => r.instances.some(wanted))) ({ rows } = await scan(deps, p, () => true));
  const found = rows.flatMap((r) => r.instances.filter(wanted).map((i) => ({ i, caseId: r.c.caseId })));
  if (!found.length) throw notFound(t);
  const at = deps.clock.now().toISOString();
  for (const caseId of new Set(found.map((f) => f.caseId))) {
    await deps.audit.append({ at, actor: p.userId, action: 'instance.view', caseId, detail: { dicomweb: true, instances: found.filter((f) => f.caseId === caseId).length } });
  }
  return found
    .sort((a, b) => (a.i.seriesInstanceUID < b.i.seriesInstanceUID ? -1 : a.i.seriesInstanceUID > b.i.seriesInstanceUID ? 1 : a.i.fileIndex - b.i.fileIndex))
    .map(({ i }) => ({
      key: i.key,
      size: i.size,
      sha256: i.sha256,
      sopInstanceUID: i.sopInstanceUID,
      seriesInstanceUID: i.seriesInstanceUID,
      studyInstanceUID: i.studyInstanceUID,
      sopClassUID: i.sopClassUID,
    }));
}

/**
 * WADO-RS retrieve: the stored instances a request names, sent as stored. TeleRead does not
 * transcode, so a specific transfer syntax asked for (not `*`) must be the one every instance has.
 */
export async function retrieveInstances(deps: Deps, p: Principal, reader: DicomObjectReader, t: WadoTarget, transferSyntax: string | undefined): Promise<LocatedInstance[]> {
  const located = await locateInstances(deps, p, t);
  if (transferSyntax === undefined || transferSyntax === '*') return located;
  for (const i of located) {
    const m = await reader.metadata({ size: i.size, readRange: (o, l) => deps.blobs.readRange(i.key, o, l) });
    const stored = m.ok ? m.json['00020010']?.Value?.[0] : undefined;
    if (stored !== transferSyntax)
      throw new AppError(
        'DICOMWEB.NOT_ACCEPTABLE',
        'not_acceptable',
        `TeleRead sends instances as stored and does not transcode; ${located.length > 1 ? 'an instance here is' : 'this instance is'} not in transfer syntax ${transferSyntax}. Ask with transfer-syntax=* (or none).`,
      );
  }
  return located;
}

/** WADO-RS metadata: each named instance's header as DICOM JSON (bulk data left out). */
export async function retrieveMetadata(deps: Deps, p: Principal, reader: DicomObjectReader, t: WadoTarget): Promise<DicomJson[]> {
  const located = await locateInstances(deps, p, t);
  const out: DicomJson[] = [];
  for (const i of located) {
    const r = await reader.metadata({ size: i.size, readRange: (o, l) => deps.blobs.readRange(i.key, o, l) });
    if (!r.ok) throw new AppError('DICOMWEB.UNREADABLE', 'internal', 'A stored instance could not be read.');
    out.push(r.json);
  }
  return out;
}

export interface FramesAnswer {
  key: string;
  layout: Extract<FrameLayout, { kind: 'native' | 'encapsulated' }>;
  /** The byte runs of each requested frame, in the order asked. */
  frames: ByteRun[][];
}

/** WADO-RS frames: where the requested frames (1-based) of one instance lie in its stored bytes. */
export async function retrieveFrames(deps: Deps, p: Principal, reader: DicomObjectReader, t: WadoTarget, numbers: number[]): Promise<FramesAnswer> {
  const [i] = await locateInstances(deps, p, t);
  const r = await reader.frames({ size: i!.size, readRange: (o, l) => deps.blobs.readRange(i!.key, o, l) });
  if (!r.ok) throw new AppError('DICOMWEB.UNREADABLE', 'internal', 'A stored instance could not be read.');
  const layout = r.layout;
  if (layout.kind === 'none') throw new AppError('DICOMWEB.NO_FRAMES', 'not_found', 'This instance has no pixel data, so it has no frames (an ECG: retrieve the instance or its metadata).');
  if (layout.kind === 'unsupported') throw new AppError('DICOMWEB.FRAMES_UNSUPPORTED', 'not_found', `TeleRead cannot serve ${layout.reason} frame by frame; retrieve the whole instance.`);
  const missing = numbers.filter((n) => n > layout.frames.length);
  if (missing.length)
    throw new AppError('DICOMWEB.FRAME_NOT_FOUND', 'not_found', `Frame ${missing.join(', ')} does not exist: this instance has ${layout.frames.length} frame(s), numbered from 1.`);
  return { key: i!.key, layout, frames: numbers.map((n) => layout.frames[n - 1]!) };
}
