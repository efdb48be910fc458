import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireIncompleteSubmissions, ingestObject, reconcileUploads, repairUnconfirmedReads } from '../../shared/application/ingest.ts';
import { uploadKey } from '../../shared/application/keys.ts';
import { sweepLeases } from '../../shared/application/reads.ts';
import { createSubmission } from '../../shared/application/submissions.ts';
import { syntheticEcg } from '../../shared/synth/studies.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { Api, SAMPLES, startTestServer, type TestServer } from '../support/local-server.ts';

let seed = 1000;
/** A fresh synthetic ECG each call: distinct SOPInstanceUIDs, so no upload is a duplicate of another. */
const ecg = () => syntheticEcg({ seed: seed++, heartRate: 72 }).bytes;
const tech = { userId: 'tech-a', role: 'technician' as const, clinicId: 'clinic-a' };

describe('reliability: idempotent ingest, one lease, lease expiry', () => {
  let srv: TestServer;
  const clock = new FakeClock();

  beforeAll(async () => {
    srv = await startTestServer({ clock, settings: { leaseSeconds: 60 } });
  });
  afterAll(async () => srv?.close());

  it('the same upload ingested three times, then by three concurrent jobs → one instance, one case, one read message', async () => {
    const { deps } = srv.sys;
    const bytes = ecg();
    const sub = await createSubmission(deps, tech, {
      patient: { id: 'P-R1', name: 'Reliability' },
      consent: { obtained: true },
      priority: 'routine',
      files: [{ name: 'ecg.dcm', size: bytes.length }],
    });
    const key = uploadKey('clinic-a', sub.submissionId, 0);
    await deps.blobs.put(key, bytes);
    const before = await deps.readQueue.depth('ecg.routine');
    const seq = [];
    for (let i = 0; i < 3; i++) seq.push(await ingestObject(deps, key));
    const conc = await Promise.all([ingestObject(deps, key), ingestObject(deps, key), ingestObject(deps, key)]);
    expect(seq[0]).toMatchObject({ result: 'accepted', caseStatus: 'QUEUED' });
    for (const r of [...seq.slice(1), ...conc]) expect(r).toMatchObject({ result: 'duplicate', caseStatus: 'QUEUED' });
    expect(await deps.cases.listInstances(sub.caseId)).toHaveLength(1);
    expect(await deps.cases.listFileOutcomes(sub.caseId)).toHaveLength(1);
    const after = await deps.readQueue.depth('ecg.routine');
    expect(after.visible - before.visible).toBe(1);
    const all = await deps.cases.list({ limit: 200 });
    expect(all.items.filter((c) => c.submissionId === sub.submissionId)).toHaveLength(1);
  });

  it('three concurrent first ingests of a fresh upload → one instance and one read message', async () => {
    const { deps } = srv.sys;
    const bytes = new Uint8Array(readFileSync(join(SAMPLES, 'ecg-12lead-mortara-explicit-le.dcm')));
    const sub = await createSubmission(deps, tech, {
      patient: { id: 'P-R2', name: 'Reliability' },
      consent: { obtained: true },
      priority: 'urgent',
      files: [{ name: 'ecg.dcm', size: bytes.length }],
    });
    const key = uploadKey('clinic-a', sub.submissionId, 0);
    await deps.blobs.put(key, bytes);
    const before = await deps.readQueue.depth('ecg.urgent');
    const rs = await Promise.all([ingestObject(deps, key), ingestObject(deps, key), ingestObject(deps, key)]);
    expect(rs.every((r) => 'caseStatus' in r && r.caseStatus === 'QUEUED')).toBe(true);
    expect(await deps.cases.listInstances(sub.caseId)).toHaveLength(1);
    expect((await deps.readQueue.depth('ecg.urgent')).visible - before.visible).toBe(1);
  });

  it('50 concurrent reads/next for one waiting case → exactly one lease', async () => {
    const reader = await Api.login(srv.url, 'ecg-reader');
    // Drain what earlier tests queued so exactly one case waits.
    while ((await reader.call('POST', '/api/reads/next', {})).status === 200) {
      /* drained */
    }
    const t = await Api.login(srv.url, 'tech-a');
    const sub = await t.submit([{ name: 'ecg.dcm', bytes: ecg() }], { priority: 'stat', patient: { id: 'P-R3', name: 'Concurrent' } });
    await t.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    const results = await Promise.all(Array.from({ length: 50 }, () => reader.call('POST', '/api/reads/next', {})));
    const won = results.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 204)).toHaveLength(49);
    expect(won[0]!.json.case.caseId).toBe(sub.caseId);
  });

  it('a lease that is not renewed returns the case to the queue and another reader can take it', async () => {
    const { deps } = srv.sys;
    const reader = await Api.login(srv.url, 'ecg-reader');
    const t = await Api.login(srv.url, 'tech-a');
    const sub = await t.submit([{ name: 'ecg.dcm', bytes: ecg() }], { priority: 'stat', patient: { id: 'P-R4', name: 'Lease' } });
    await t.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    let first = await reader.call('POST', '/api/reads/next', {});
    while (first.status === 200 && first.json.case.caseId !== sub.caseId) first = await reader.call('POST', '/api/reads/next', {});
    expect(first.json.case.caseId).toBe(sub.caseId);
    // Before expiry nobody else can take it.
    expect((await reader.call('POST', '/api/reads/next', {})).status).toBe(204);
    clock.advance(61_000);
    const swept = await sweepLeases(deps);
    expect(swept.expired).toBeGreaterThanOrEqual(1);
    const back = await t.call('GET', `/api/cases/${sub.caseId}`);
    expect(back.json.status).toBe('QUEUED');
    expect(back.json.events.some((e: { reason?: string }) => e.reason === 'lease-expired')).toBe(true);
    // The old holder's heartbeat now fails; the case can be taken again.
    expect((await reader.call('POST', `/api/reads/${sub.caseId}/heartbeat`)).status).toBe(409);
    // Earlier tests' leases expired too; take cases until ours comes (STAT, so it is among the first).
    let again = await reader.call('POST', '/api/reads/next', {});
    for (let i = 0; i < 10 && again.status === 200 && again.json.case.caseId !== sub.caseId; i++) {
      again = await reader.call('POST', '/api/reads/next', {});
    }
    expect(again.status).toBe(200);
    expect(again.json.case.caseId).toBe(sub.caseId);
    expect(again.json.lease.id).not.toBe(first.json.lease.id);

    // A screen still open on the first lease (a laptop that slept) cannot extend or give back the
    // lease the same reader holds now; the current lease can.
    const old = first.json.lease.id as string;
    const staleBeat = await reader.call('POST', `/api/reads/${sub.caseId}/heartbeat`, { leaseId: old });
    expect([staleBeat.status, staleBeat.json.error.code]).toEqual([409, 'LEASE.LOST']);
    expect(staleBeat.json.error.message).toContain('taken again');
    const staleRelease = await reader.call('POST', `/api/reads/${sub.caseId}/release`, { leaseId: old });
    expect([staleRelease.status, staleRelease.json.error.code]).toEqual([409, 'LEASE.LOST']);
    // Nor save over, or sign, the reading under the new lease.
    expect((await reader.call('PUT', `/api/cases/${sub.caseId}/report`, { findings: 'new tab', impression: 'n', leaseId: again.json.lease.id })).status).toBe(200);
    const staleSave = await reader.call('PUT', `/api/cases/${sub.caseId}/report`, { findings: 'stale tab', impression: 's', leaseId: old });
    expect([staleSave.status, staleSave.json.error.code]).toEqual([409, 'LEASE.LOST']);
    const staleSign = await reader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: '246810', leaseId: old });
    expect([staleSign.status, staleSign.json.error.code]).toEqual([409, 'LEASE.LOST']);
    expect((await deps.cases.getDraft(sub.caseId, 'ecg-reader'))?.body.findings).toBe('new tab');
    const still = await t.call('GET', `/api/cases/${sub.caseId}`);
    expect([still.json.status, still.json.lease.id]).toEqual(['CLAIMED', again.json.lease.id]);
    const beat = await reader.call('POST', `/api/reads/${sub.caseId}/heartbeat`, { leaseId: again.json.lease.id });
    expect([beat.status, beat.json.lease.id]).toEqual([200, again.json.lease.id]);
    expect((await reader.call('POST', `/api/reads/${sub.caseId}/release`, { leaseId: again.json.lease.id })).status).toBe(200);
    expect((await t.call('GET', `/api/cases/${sub.caseId}`)).json.status).toBe('QUEUED');
  });

  it('release gives the case back at once, with a fresh message', async () => {
    const reader = await Api.login(srv.url, 'ecg-reader');
    const t = await Api.login(srv.url, 'tech-a');
    const sub = await t.submit([{ name: 'ecg.dcm', bytes: ecg() }], { priority: 'stat', patient: { id: 'P-R5', name: 'Release' } });
    await t.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    let got = await reader.call('POST', '/api/reads/next', {});
    while (got.status === 200 && got.json.case.caseId !== sub.caseId) got = await reader.call('POST', '/api/reads/next', {});
    expect(got.json.case.caseId).toBe(sub.caseId);
    expect((await reader.call('POST', `/api/reads/${sub.caseId}/release`)).status).toBe(200);
    const again = await reader.call('POST', '/api/reads/next', {});
    expect(again.json.case.caseId).toBe(sub.caseId);
  });

  it('after a crash between the last file outcome and QUEUED, the start-up reconcile finishes the case', async () => {
    const { deps } = srv.sys;
    const bytes = ecg();
    const sub = await createSubmission(deps, tech, {
      patient: { id: 'P-R6', name: 'Crash' },
      consent: { obtained: true },
      priority: 'routine',
      files: [{ name: 'ecg.dcm', size: bytes.length }],
    });
    const key = uploadKey('clinic-a', sub.submissionId, 0);
    await deps.blobs.put(key, bytes);
    // What ingest had written when the process died: the projection and the outcome, not the transition.
    const res = await deps.inspector.inspect({ size: bytes.length, readRange: async (o, l) => bytes.subarray(o, o + l) });
    if (!res.ok) throw new Error(res.code);
    const cur = (await deps.cases.get(sub.caseId))!;
    await deps.cases.update({ ...cur, study: res.metadata as unknown as Record<string, unknown>, modality: 'ECG', pool: 'ecg', ecg: res.ecg }, cur.version);
    await deps.cases.putInstance({
      sopInstanceUID: res.metadata.instance.SOPInstanceUID, caseId: sub.caseId, fileIndex: 0, key, size: bytes.length, sha256: await deps.blobs.sha256(key),
      studyInstanceUID: res.metadata.study.StudyInstanceUID, seriesInstanceUID: res.metadata.series.SeriesInstanceUID, sopClassUID: res.metadata.instance.SOPClassUID, modality: 'ECG', receivedAt: clock.now().toISOString(),
    });
    await deps.cases.putFileOutcome({ caseId: sub.caseId, fileIndex: 0, key, outcome: 'accepted', sopInstanceUID: res.metadata.instance.SOPInstanceUID, at: clock.now().toISOString() });
    expect((await deps.cases.get(sub.caseId))!.status).toBe('AWAITING_FILES');
    await reconcileUploads(deps, 0);
    const after = (await deps.cases.get(sub.caseId))!;
    expect(after.status).toBe('QUEUED');
    expect(after.readEnqueuedAt).toBeTruthy();
  });

  it('a repair job that could not be sent is sent by the next reconcile; one that was sent is not sent again', async () => {
    const { deps } = srv.sys;
    const bytes = ecg();
    const sub = await createSubmission(deps, tech, { patient: { id: 'P-R11', name: 'Repair' }, consent: { obtained: true }, priority: 'stat', files: [{ name: 'ecg.dcm', size: bytes.length }] });
    const key = uploadKey('clinic-a', sub.submissionId, 0);
    // Stored, with no job and no notice: as after a crash between the two.
    await deps.blobs.put(key, bytes);
    const queue = deps.jobQueue;
    const send = queue.send.bind(queue);
    queue.send = async () => Promise.reject(Object.assign(new Error('queue unavailable'), { code: 'QUEUE.UNAVAILABLE' }));
    try {
      await expect(reconcileUploads(deps, 0)).rejects.toMatchObject({ code: 'QUEUE.UNAVAILABLE' });
    } finally {
      queue.send = send;
    }
    expect(await deps.cases.isUploadRepaired(sub.caseId, 0)).toBe(false);
    // Jobs are captured, not run, so the upload stays without an outcome throughout.
    const sent: unknown[] = [];
    queue.send = async (_q, body) => (sent.push(body), { messageId: `captured-${sent.length}` });
    try {
      expect(await reconcileUploads(deps, 0)).toBe(1);
      expect(await deps.cases.isUploadRepaired(sub.caseId, 0)).toBe(true);
      // Sent once: the sweep does not send it again, whatever became of the job; a start does, once more.
      expect(await reconcileUploads(deps, 0)).toBe(0);
      expect((await deps.cases.get(sub.caseId))!.status).toBe('AWAITING_FILES');
      expect(await reconcileUploads(deps, 0, { resendRecorded: true })).toBe(1);
      expect(sent).toEqual([{ type: 'ingest', key }, { type: 'ingest', key }]);
    } finally {
      queue.send = send;
    }
    await queue.send('ingest', { type: 'ingest', key }, { deduplicationId: key });
    await expect.poll(async () => (await deps.cases.get(sub.caseId))!.status).toBe('QUEUED');
  });

  it('a QUEUED case whose read message was lost in a crash gets one at start-up, without waiting for the grace period', async () => {
    const { deps } = srv.sys;
    const t = await Api.login(srv.url, 'tech-a');
    const sub = await t.submit([{ name: 'ecg.dcm', bytes: ecg() }], { priority: 'routine', patient: { id: 'P-R7', name: 'Lost' } });
    await t.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    // Forget the confirmation and the message, as if the process died between the transition and the send.
    const reader = await Api.login(srv.url, 'ecg-reader');
    while ((await reader.call('POST', '/api/reads/next', {})).status === 200) {
      /* drain: also removes this case's message from view */
    }
    let c = (await deps.cases.get(sub.caseId))!;
    if (c.status === 'CLAIMED') {
      await reader.call('POST', `/api/reads/${sub.caseId}/release`);
      while ((await reader.call('POST', '/api/reads/next', {})).status === 200) {
        /* take the fresh message away again */
      }
      c = (await deps.cases.get(sub.caseId))!;
      const back = { ...c, status: 'QUEUED' as const, lease: null, readEnqueuedAt: null };
      await deps.cases.update(back, c.version);
    } else {
      await deps.cases.update({ ...c, readEnqueuedAt: null }, c.version);
    }
    expect(await repairUnconfirmedReads(deps, 0)).toBeGreaterThanOrEqual(1);
    expect((await deps.cases.get(sub.caseId))!.readEnqueuedAt).toBeTruthy();
  });

  it('a submission whose files never all arrive is closed after 24 hours as SUBMISSION.INCOMPLETE, files kept', async () => {
    const { deps } = srv.sys;
    const bytes = ecg();
    const sub = await createSubmission(deps, tech, {
      patient: { id: 'P-R8', name: 'Incomplete' },
      consent: { obtained: true },
      priority: 'routine',
      files: [{ name: 'a.dcm', size: bytes.length }, { name: 'b.dcm', size: 10 }],
    });
    const key = uploadKey('clinic-a', sub.submissionId, 0);
    await deps.blobs.put(key, bytes);
    await ingestObject(deps, key);
    expect((await deps.cases.get(sub.caseId))!.status).toBe('AWAITING_FILES');
    clock.advance(23 * 3600_000);
    await expireIncompleteSubmissions(deps);
    expect((await deps.cases.get(sub.caseId))!.status).toBe('AWAITING_FILES');
    clock.advance(2 * 3600_000);
    expect(await expireIncompleteSubmissions(deps)).toBeGreaterThanOrEqual(1);
    const c = (await deps.cases.get(sub.caseId))!;
    expect(c.status).toBe('REJECTED');
    expect(c.rejection).toMatchObject({ code: 'SUBMISSION.INCOMPLETE' });
    expect(c.rejection!.message).toMatch(/1 of 2 files/);
    expect(await deps.blobs.head(key)).not.toBeNull();
  });

  it('a signature is never dropped: a version stored before a crash is applied by the sweeper, and a re-sign returns it', async () => {
    const { deps } = srv.sys;
    const reader = await Api.login(srv.url, 'ecg-reader');
    const t = await Api.login(srv.url, 'tech-a');
    while ((await reader.call('POST', '/api/reads/next', {})).status === 200) {
      /* drain */
    }
    const sub = await t.submit([{ name: 'ecg.dcm', bytes: ecg() }], { priority: 'stat', patient: { id: 'P-R9', name: 'Orphan' } });
    await t.waitCase(sub.caseId, (c) => c.status === 'QUEUED');
    const next = await reader.call('POST', '/api/reads/next', {});
    expect(next.json.case.caseId).toBe(sub.caseId);
    await reader.call('PUT', `/api/cases/${sub.caseId}/report`, { findings: '窦性停搏', impression: '危急值：窦性停搏', critical: true });
    const first = await reader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: '246810' });
    expect(first.status).toBe(200);
    // Put the case back as a crash right after storing version 1 would have left it: CLAIMED, version 0,
    // the draft still there (it goes once the signature is applied). The reader then edits it.
    const signed = (await deps.cases.get(sub.caseId))!;
    expect(await deps.cases.getDraft(sub.caseId, 'ecg-reader')).toBeNull();
    const edited = { findings: '窦性停搏，交界性逸搏', impression: '危急值：窦性停搏', critical: true };
    await deps.cases.saveDraft({ caseId: sub.caseId, authorId: 'ecg-reader', body: edited, updatedAt: signed.updatedAt });
    const claimedEvent = signed.events.findLast((e) => e.status === 'CLAIMED')!;
    await deps.cases.update(
      {
        ...signed,
        status: 'CLAIMED',
        reportVersion: 0,
        events: signed.events.filter((e) => Date.parse(e.at) <= Date.parse(claimedEvent.at)),
        lease: { id: next.json.lease.id, readerId: 'ecg-reader', expiresAt: new Date(clock.now().getTime() + 60_000).toISOString(), queue: 'ecg.stat', receipt: 'gone' },
      },
      signed.version,
    );
    // The signer signs again: the stored version 1 is applied and returned, not refused; the answer
    // says the edit is not in it, and the edited draft is kept for an amendment.
    const again = await reader.call('POST', `/api/cases/${sub.caseId}/report/sign`, { pin: '246810' });
    expect(again.status).toBe(200);
    expect(again.json.version).toBe(1);
    expect(again.json.jws).toBe(first.json.jws);
    expect(again.json.warnings.map((w: { code: string }) => w.code)).toEqual(['REPORT.EARLIER_VERSION_SIGNED']);
    expect((await deps.cases.getDraft(sub.caseId, 'ecg-reader'))?.body).toEqual(edited);
    expect((await deps.cases.get(sub.caseId))!.status).not.toBe('CLAIMED');
    // The reader adds it as an addendum: then the kept draft has served its purpose.
    const amended = await reader.call('POST', `/api/cases/${sub.caseId}/report/amend`, { pin: '246810', kind: 'addendum', reason: '补充签发时遗漏的修改', ...edited });
    expect(amended.status, amended.text).toBe(200);
    expect(await deps.cases.getDraft(sub.caseId, 'ecg-reader')).toBeNull();
    // Same crash, nobody signs again: the sweeper applies it, and the critical result is delivered.
    const sub2 = await t.submit([{ name: 'ecg.dcm', bytes: ecg() }], { priority: 'stat', patient: { id: 'P-R10', name: 'Orphan2' } });
    await t.waitCase(sub2.caseId, (c) => c.status === 'QUEUED');
    const n2 = await reader.call('POST', '/api/reads/next', {});
    expect(n2.json.case.caseId).toBe(sub2.caseId);
    await reader.call('PUT', `/api/cases/${sub2.caseId}/report`, { findings: 'f', impression: 'i', critical: true });
    expect((await reader.call('POST', `/api/cases/${sub2.caseId}/report/sign`, { pin: '246810' })).status).toBe(200);
    const s2 = (await deps.cases.get(sub2.caseId))!;
    const ce = s2.events.findLast((e) => e.status === 'CLAIMED')!;
    // As a crash after storing the version leaves it once the lease runs out: claimed before, QUEUED again.
    const untilClaimed = s2.events.slice(0, s2.events.indexOf(ce) + 1);
    await deps.cases.update(
      { ...s2, status: 'QUEUED', reportVersion: 0, lease: null, events: [...untilClaimed, { status: 'QUEUED', at: ce.at, actor: 'system:lease', reason: 'lease-expired' }] },
      s2.version,
    );
    const { repairUnappliedSignatures } = await import('../../shared/application/reports.ts');
    expect(await repairUnappliedSignatures(deps)).toBeGreaterThanOrEqual(1);
    const fixed = await t.waitCase(sub2.caseId, (c) => c.status === 'DELIVERED');
    expect(fixed.report.version).toBe(1);
    expect(fixed.events.some((e: { reason?: string }) => e.reason === 'signed-after-lease-expiry')).toBe(true);
  });
});
