import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Case } from '../../domain/case.ts';
import { AppError } from '../../domain/errors.ts';
import type {
  CaseFilter,
  CasePage,
  CaseRepository,
  FileOutcome,
  InstanceRecord,
  ReportDraft,
  SignedReportRecord,
} from '../../ports/case-repository.ts';
import { documentClient, iso, isConditionFailed, queryAll, queryPages, type Item } from './dynamo-common.ts';
import { CASE_INDEXES, GSI_SK, LEASE_INDEX } from './dynamo-schema.ts';

const MAX_PAGE = 1000;
const QUERY_PAGE = 100;
const pad = (n: number, w = 6) => String(n).padStart(w, '0');

const casePk = (caseId: string) => `CASE#${caseId}`;
const patientKey = (patientId: string) => `PATIENT#${createHash('sha256').update(patientId, 'utf8').digest('hex')}`;
const createdSk = (createdAt: string, caseId: string) => `${iso(createdAt)}#${caseId}`;

const encodeCursor = (createdAt: string, caseId: string) =>
  Buffer.from(JSON.stringify([createdAt, caseId]), 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return createdSk(v[0], v[1]);
  } catch {
    // fall through
  }
  throw new AppError('CASE.INVALID_CURSOR', 'invalid', 'The cursor is not one this service returned.');
}

const conflict = (caseId: string, expectedVersion: number, actualVersion?: number) =>
  new AppError('CASE.VERSION_CONFLICT', 'conflict', 'The case was changed by someone else; reload it and try again.', {
    caseId,
    expectedVersion,
    actualVersion,
  });

/**
 * CaseRepository on one DynamoDB table (layout in dynamo-schema.ts). The case is one item holding the
 * whole document as JSON plus the index attributes of the access patterns; every write is a
 * conditional put: create-once (`attribute_not_exists`), update only at the expected `version`.
 * DynamoDB Local emulators have no transactions, so nothing here needs one: instances are guarded by a
 * create-once SOP item and copied under their case idempotently.
 */
export class DynamoCaseRepository implements CaseRepository {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = documentClient(client);
  }

  private caseItem(c: Case, version: number): Item {
    const sk = createdSk(c.createdAt, c.caseId);
    const item: Item = {
      pk: casePk(c.caseId),
      sk: 'CASE',
      version,
      doc: JSON.stringify({ ...c, version }),
      [GSI_SK]: sk,
      [CASE_INDEXES.all.pk]: 'CASE',
      [CASE_INDEXES.clinic.pk]: `CLINIC#${c.clinicId}`,
      [CASE_INDEXES.status.pk]: `STATUS#${c.status}`,
      [CASE_INDEXES.patient.pk]: patientKey(c.patient.id),
    };
    if (c.pool !== null) {
      item[CASE_INDEXES.pool.pk] = `POOL#${c.pool}`;
      item[CASE_INDEXES.poolStatus.pk] = `POOL#${c.pool}#${c.status}`;
    }
    if (c.status === 'CLAIMED' && c.lease) {
      item[LEASE_INDEX.pk] = 'LEASE';
      item[LEASE_INDEX.sk] = `${iso(c.lease.expiresAt)}#${c.caseId}`;
    }
    return item;
  }

  private static toCase(i: Item): Case {
    const c = JSON.parse(String(i['doc'])) as Case;
    c.version = Number(i['version']);
    return c;
  }

  async create(c: Case): Promise<void> {
    if (!Number.isSafeInteger(c.version)) throw new AppError('CASE.INVALID', 'invalid', 'The case needs an integer version.');
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.table, Item: this.caseItem(c, c.version), ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    } catch (e) {
      if (isConditionFailed(e)) {
        throw new AppError('CASE.ALREADY_EXISTS', 'conflict', 'A case with this id already exists.', { caseId: c.caseId });
      }
      throw e;
    }
  }

  async get(caseId: string): Promise<Case | null> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: casePk(caseId), sk: 'CASE' }, ConsistentRead: true }));
    return r.Item ? DynamoCaseRepository.toCase(r.Item) : null;
  }

  async update(c: Case, expectedVersion: number): Promise<Case> {
    const next = expectedVersion + 1;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: this.caseItem(c, next),
          ConditionExpression: 'attribute_exists(pk) AND #v = :v',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':v': expectedVersion },
        }),
      );
    } catch (e) {
      if (!isConditionFailed(e)) throw e;
      const current = await this.get(c.caseId);
      if (!current) throw new AppError('CASE.NOT_FOUND', 'not_found', 'There is no such case.');
      throw conflict(c.caseId, expectedVersion, current.version);
    }
    return { ...c, version: next };
  }

  async list(filter: CaseFilter): Promise<CasePage> {
    const limit = filter.limit;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new AppError('CASE.INVALID_LIMIT', 'invalid', 'limit must be a positive integer.');
    const pageSize = Math.min(limit, MAX_PAGE);
    const before = filter.cursor ? decodeCursor(filter.cursor) : undefined;
    const partitions = this.partitionsFor(filter);
    if (partitions.length === 0) return { items: [], nextCursor: null };

    const match = (c: Case) =>
      (filter.status === undefined || c.status === filter.status) &&
      (filter.pool === undefined || c.pool === filter.pool) &&
      (filter.pools === undefined || (c.pool !== null && filter.pools.includes(c.pool))) &&
      (filter.clinicId === undefined || c.clinicId === filter.clinicId) &&
      (filter.patientId === undefined || c.patient.id === filter.patientId);

    // One lazy descending stream per partition, merged on the shared sort key.
    const streams = partitions.map(([index, pk]) =>
      queryPages(this.doc, {
        TableName: this.table,
        IndexName: index.name,
        KeyConditionExpression: before ? '#pk = :pk AND #sk < :before' : '#pk = :pk',
        ExpressionAttributeNames: before ? { '#pk': index.pk, '#sk': GSI_SK } : { '#pk': index.pk },
        ExpressionAttributeValues: before ? { ':pk': pk, ':before': before } : { ':pk': pk },
        ScanIndexForward: false,
        Limit: QUERY_PAGE,
      })[Symbol.asyncIterator](),
    );
    const heads = await Promise.all(streams.map((s) => s.next()));
    const items: Case[] = [];
    const seen = new Set<string>();
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i]!;
        if (h.done) continue;
        if (best < 0 || String(h.value[GSI_SK]) > String((heads[best]!.value as Item)[GSI_SK])) best = i;
      }
      if (best < 0) break;
      const item = heads[best]!.value as Item;
      heads[best] = await streams[best]!.next();
      const c = DynamoCaseRepository.toCase(item);
      if (seen.has(c.caseId) || !match(c)) continue;
      seen.add(c.caseId);
      items.push(c);
      if (items.length > pageSize) break;
    }
    await Promise.all(streams.map((s) => s.return?.(undefined)));
    const more = items.length > pageSize;
    const page = more ? items.slice(0, pageSize) : items;
    const last = page[page.length - 1];
    return { items: page, nextCursor: more && last ? encodeCursor(iso(last.createdAt), last.caseId) : null };
  }

  /** The index partitions whose union holds every case the filter can match (the rest is filtered in code). */
  private partitionsFor(f: CaseFilter): Array<[{ name: string; pk: string }, string]> {
    if (f.pools !== undefined || f.pool !== undefined) {
      let pools = f.pools !== undefined ? [...new Set(f.pools)] : [f.pool!];
      if (f.pool !== undefined) pools = pools.filter((p) => p === f.pool);
      return pools.map((p) =>
        f.status !== undefined ? [CASE_INDEXES.poolStatus, `POOL#${p}#${f.status}`] : [CASE_INDEXES.pool, `POOL#${p}`],
      );
    }
    if (f.clinicId !== undefined) return [[CASE_INDEXES.clinic, `CLINIC#${f.clinicId}`]];
    if (f.status !== undefined) return [[CASE_INDEXES.status, `STATUS#${f.status}`]];
    if (f.patientId !== undefined) return [[CASE_INDEXES.patient, patientKey(f.patientId)]];
    return [[CASE_INDEXES.all, 'CASE']];
  }

  async listExpiredLeases(at: string, limit: number): Promise<Case[]> {
    const n = Math.max(0, Math.floor(limit));
    if (n === 0) return [];
    const out: Case[] = [];
    for await (const item of queryPages(this.doc, {
      TableName: this.table,
      IndexName: LEASE_INDEX.name,
      KeyConditionExpression: '#pk = :pk AND #sk < :at',
      ExpressionAttributeNames: { '#pk': LEASE_INDEX.pk, '#sk': LEASE_INDEX.sk },
      ExpressionAttributeValues: { ':pk': 'LEASE', ':at': iso(at) },
      Limit: Math.min(n, QUERY_PAGE),
    })) {
      out.push(DynamoCaseRepository.toCase(item));
      if (out.length >= n) break;
    }
    return out;
  }

  async putInstance(i: InstanceRecord): Promise<{ created: boolean; instance: InstanceRecord }> {
    let created = true;
    let instance = i;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `SOP#${i.sopInstanceUID}`, sk: 'SOP', doc: JSON.stringify(i) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (!isConditionFailed(e)) throw e;
      created = false;
      const r = await this.doc.send(
        new GetCommand({ TableName: this.table, Key: { pk: `SOP#${i.sopInstanceUID}`, sk: 'SOP' }, ConsistentRead: true }),
      );
      if (!r.Item) throw new AppError('CASE.STORE_ERROR', 'internal', 'The instance could not be stored.');
      instance = JSON.parse(String(r.Item['doc'])) as InstanceRecord;
    }
    // The winner's copy under its case; idempotent, so a crash before it is repaired by the retry.
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: casePk(instance.caseId), sk: `INST#${pad(instance.fileIndex)}#${instance.sopInstanceUID}`, doc: JSON.stringify(instance) },
      }),
    );
    return { created, instance };
  }

  async takeOverInstance(next: InstanceRecord, from: InstanceRecord): Promise<boolean> {
    if (next.sopInstanceUID !== from.sopInstanceUID) throw new AppError('CASE.INVALID', 'invalid', 'An instance can only be taken over under its own SOPInstanceUID.');
    const key = { pk: `SOP#${next.sopInstanceUID}`, sk: 'SOP' };
    const current = await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    if (!current.Item || (JSON.parse(String(current.Item['doc'])) as InstanceRecord).caseId !== from.caseId) return false;
    try {
      // Conditional on the stored record being the one read: two takers cannot both win.
      await this.doc.send(
        new PutCommand({ TableName: this.table, Item: { ...key, doc: JSON.stringify(next) }, ConditionExpression: 'doc = :seen', ExpressionAttributeValues: { ':seen': current.Item['doc'] } }),
      );
    } catch (e) {
      if (isConditionFailed(e)) return false;
      throw e;
    }
    // The copies under the cases follow; both are idempotent, so a retry after a crash completes them.
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { pk: casePk(next.caseId), sk: `INST#${pad(next.fileIndex)}#${next.sopInstanceUID}`, doc: JSON.stringify(next) } }),
    );
    // The old case's copy is emptied in place (the functions' role may not delete), which its list skips.
    const old = JSON.parse(String(current.Item['doc'])) as InstanceRecord;
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { pk: casePk(old.caseId), sk: `INST#${pad(old.fileIndex)}#${old.sopInstanceUID}`, takenOverBy: next.caseId } }),
    );
    return true;
  }

  async listInstances(caseId: string): Promise<InstanceRecord[]> {
    return (await this.children(caseId, 'INST#')).filter((x) => x['doc'] !== undefined).map((x) => JSON.parse(String(x['doc'])) as InstanceRecord);
  }

  async putFileOutcome(o: FileOutcome): Promise<{ created: boolean; outcome: FileOutcome }> {
    const Key = { pk: casePk(o.caseId), sk: `FILE#${pad(o.fileIndex)}` };
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.table, Item: { ...Key, doc: JSON.stringify(o) }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return { created: true, outcome: o };
    } catch (e) {
      if (!isConditionFailed(e)) throw e;
    }
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key, ConsistentRead: true }));
    if (!r.Item) throw new AppError('CASE.STORE_ERROR', 'internal', 'The file outcome could not be stored.');
    return { created: false, outcome: JSON.parse(String(r.Item['doc'])) as FileOutcome };
  }

  async listFileOutcomes(caseId: string): Promise<FileOutcome[]> {
    return (await this.children(caseId, 'FILE#')).map((x) => JSON.parse(String(x['doc'])) as FileOutcome);
  }

  async saveDraft(d: ReportDraft): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: casePk(d.caseId), sk: `DRAFT#${d.authorId}`, doc: JSON.stringify(d) } }));
  }

  async getDraft(caseId: string, authorId: string): Promise<ReportDraft | null> {
    // Also the `DRAFT` item of a draft saved before drafts were kept per author (or by a function
    // still running the old code during a deploy): the author's newer of the two.
    const [own, legacy] = await Promise.all(
      [`DRAFT#${authorId}`, 'DRAFT'].map((sk) => this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: casePk(caseId), sk }, ConsistentRead: true }))),
    );
    const drafts = [own!.Item, legacy!.Item]
      .filter((i): i is Item => i !== undefined && i['doc'] !== undefined)
      .map((i) => JSON.parse(String(i['doc'])) as ReportDraft)
      .filter((d) => d.authorId === authorId);
    return drafts.sort((a, b) => (iso(b.updatedAt) > iso(a.updatedAt) ? 1 : -1))[0] ?? null;
  }

  async discardDraft(d: ReportDraft): Promise<void> {
    // Emptied in place, not deleted: the functions' role may not delete items from the table. Each of
    // the author's two items (their own, and the old per-case `DRAFT` an older function may have
    // written) goes when it holds this draft exactly or an older one of theirs, conditional on what was
    // read: a save since — even one stamped the same millisecond — is kept.
    const seen = JSON.stringify(d);
    await Promise.all(
      [`DRAFT#${d.authorId}`, 'DRAFT'].map(async (sk) => {
        const Key = { pk: casePk(d.caseId), sk };
        const r = await this.doc.send(new GetCommand({ TableName: this.table, Key, ConsistentRead: true }));
        const doc = r.Item?.['doc'];
        if (doc === undefined) return;
        const held = JSON.parse(String(doc)) as ReportDraft;
        if (!(String(doc) === seen || (held.authorId === d.authorId && iso(held.updatedAt) < iso(d.updatedAt)))) return;
        try {
          await this.doc.send(
            new PutCommand({ TableName: this.table, Item: { ...Key, discarded: true }, ConditionExpression: '#doc = :seen', ExpressionAttributeNames: { '#doc': 'doc' }, ExpressionAttributeValues: { ':seen': doc } }),
          );
        } catch (e) {
          if (!isConditionFailed(e)) throw e;
        }
      }),
    );
  }

  async isUploadRepaired(caseId: string, fileIndex: number): Promise<boolean> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: casePk(caseId), sk: `REPAIR#${pad(fileIndex)}` }, ConsistentRead: true }));
    return r.Item !== undefined;
  }

  async markUploadRepaired(caseId: string, fileIndex: number, at: string): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.table, Item: { pk: casePk(caseId), sk: `REPAIR#${pad(fileIndex)}`, at }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return true;
    } catch (e) {
      if (isConditionFailed(e)) return false;
      throw e;
    }
  }

  async putSignedReport(r: SignedReportRecord): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: casePk(r.caseId), sk: `REPORT#${pad(r.version)}`, doc: JSON.stringify(r) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (isConditionFailed(e)) {
        throw new AppError('REPORT.VERSION_EXISTS', 'conflict', 'This report version is already signed; amend it as a new version.', {
          caseId: r.caseId,
          version: r.version,
        });
      }
      throw e;
    }
  }

  async getSignedReport(caseId: string, version?: number): Promise<SignedReportRecord | null> {
    if (version !== undefined) {
      if (!Number.isSafeInteger(version) || version < 0) return null;
      const r = await this.doc.send(
        new GetCommand({ TableName: this.table, Key: { pk: casePk(caseId), sk: `REPORT#${pad(version)}` }, ConsistentRead: true }),
      );
      return r.Item ? (JSON.parse(String(r.Item['doc'])) as SignedReportRecord) : null;
    }
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': casePk(caseId), ':p': 'REPORT#' },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = r.Items?.[0];
    return item ? (JSON.parse(String(item['doc'])) as SignedReportRecord) : null;
  }

  async listSignedReports(caseId: string): Promise<SignedReportRecord[]> {
    return (await this.children(caseId, 'REPORT#')).map((x) => JSON.parse(String(x['doc'])) as SignedReportRecord);
  }

  private children(caseId: string, prefix: string): Promise<Item[]> {
    return queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': casePk(caseId), ':p': prefix },
      ConsistentRead: true,
    });
  }
}
