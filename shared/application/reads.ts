import type { Principal } from '../contracts/auth.ts';
import { SIGNING_PIN_POLICY } from '../domain/attempts.ts';
import type { Case, Lease } from '../domain/case.ts';
import { transition } from '../domain/case.ts';
import { AppError, isAppError } from '../domain/errors.ts';
import { PRIORITIES } from '../domain/priority.ts';
import { readQueueName } from '../domain/routing.ts';
import { assertCanSee, assertLeaseHolder, requireRole } from './authorize.ts';
import type { Deps } from './deps.ts';
import { repairUnconfirmedReads, sendRead } from './ingest.ts';
import { assertSigningNotLocked, signingLockedUntil, pinLockedError } from './signing-pin.ts';
import { updateWithRetry } from './update.ts';

/** How old a signing lock must be before a heartbeat honours it (an unsealing takes ~0.1 s; 30 s is ample). */
const LOCK_SETTLE_MS = 30_000;
const lockSetAt = (lockedUntil: string) => Date.parse(lockedUntil) - SIGNING_PIN_POLICY.lockMinutes * 60_000;

/** How many stale messages one `next` call may discard before answering "nothing waits". */
const MAX_DISCARDS = 25;

/**
 * Give the reader the next case from their pools, STAT before URGENT before ROUTINE, oldest first.
 * The claim is a conditional write; the lease is the read message's visibility timeout.
 */
export async function claimNextRead(deps: Deps, p: Principal, requestedPools?: string[]): Promise<{ case: Case; lease: Lease } | null> {
  // One unit: the claim, the audit record and any discarded messages are durable together before the answer.
  return deps.uow.run(async () => {
    requireRole(p, 'reader');
    const mine = p.pools ?? [];
    const pools = requestedPools?.length ? requestedPools : mine;
    const outside = pools.filter((x) => !mine.includes(x));
    if (outside.length) {
      throw new AppError('READ.POOL_NOT_ALLOWED', 'forbidden', `You do not read for pool ${outside.join(', ')}; your pools are ${mine.join(', ')}.`);
    }
    await assertSigningNotLocked(deps, p);
    const queues = PRIORITIES.flatMap((prio) => pools.map((pool) => readQueueName(pool, prio)));
    for (let i = 0; i < MAX_DISCARDS; i++) {
      const [msg] = await deps.readQueue.receive(queues, { visibilityTimeoutSeconds: deps.settings.leaseSeconds, max: 1 });
      if (!msg) return null;
      const now = deps.clock.now();
      const claimed = await updateWithRetry(deps, msg.body.caseId, (cur) => {
        let c = cur;
        // A lease that ran out but was not yet swept: the message is visible again, so the case is free.
        if (c.status === 'CLAIMED' && c.lease && Date.parse(c.lease.expiresAt) <= now.getTime()) {
          c = { ...transition(c, 'QUEUED', 'system:lease', now, 'lease-expired'), lease: null };
        }
        if (c.status !== 'QUEUED' || (c.lease && c.lease.receipt !== msg.receipt)) return null;
        const lease: Lease = {
          id: deps.ids.next('lease'),
          readerId: p.userId,
          expiresAt: new Date(now.getTime() + deps.settings.leaseSeconds * 1000).toISOString(),
          queue: msg.queue,
          receipt: msg.receipt,
        };
        return { ...transition(c, 'CLAIMED', p.userId, now), lease, readEnqueuedAt: c.readEnqueuedAt ?? now.toISOString() };
      });
      if (claimed) {
        await deps.audit.append({ at: now.toISOString(), actor: p.userId, action: 'read.claim', caseId: claimed.caseId });
        deps.log.info('case claimed', { caseId: claimed.caseId, readerId: p.userId, queue: msg.queue });
        return { case: claimed, lease: claimed.lease! };
      }
      // The case is no longer waiting (claimed through a duplicate message, signed, gone): discard.
      const cur = await deps.cases.get(msg.body.caseId);
      if (!cur || cur.status !== 'QUEUED') await deps.readQueue.delete(msg.queue, msg.receipt).catch(() => undefined);
    }
    return null;
  });
}

/**
 * A reader whose signing is locked cannot finish this case: it goes back to the queue for a colleague
 * (a STAT case must not wait out the lock). Returns the lock error, saying whether the case went back.
 */
export async function giveBackLocked(deps: Deps, p: Principal, caseId: string, locked: AppError): Promise<AppError> {
  try {
    await release(deps, p, caseId);
  } catch (e) {
    // The lease had already gone (or the release failed): the lock is still the answer to give.
    if (!isAppError(e)) deps.log.warn('case not given back after a signing lock', { caseId, code: (e as { code?: string })?.code ?? (e as Error)?.name });
    return locked;
  }
  return new AppError(
    locked.code,
    locked.kind,
    `${locked.message} The case has gone back to the queue so that another reader can take it; your draft is kept.`,
    { ...locked.details, released: true },
  );
}

/**
 * Extend the lease: the message's visibility and the case's lease move together. With `leaseId`, only
 * that lease (a screen holding one that ran out gets LEASE.LOST, not the lease taken again since).
 */
export async function heartbeat(deps: Deps, p: Principal, caseId: string, leaseId?: string): Promise<Lease> {
  // The message's visibility and the case's lease are durable together before the answer.
  return deps.uow.run(async () => {
    requireRole(p, 'reader');
    const c = assertCanSee(p, await deps.cases.get(caseId));
    const now = deps.clock.now();
    assertLeaseHolder(p, c, now, leaseId);
    // Locked out of signing (wrong PINs in an amendment, in another window): the lease is not extended,
    // so the case goes back by itself when it runs out rather than wait for the lock to end (the web
    // client saves the reader's text and releases it at once). A lock set moments ago may belong to
    // an attempt still being checked, a right PIN that will clear it: that heartbeat goes through.
    const locked = await signingLockedUntil(deps, p);
    if (locked && now.getTime() - lockSetAt(locked) >= LOCK_SETTLE_MS) throw pinLockedError(locked, now, false);
    const lease = c.lease!;
    try {
      await deps.readQueue.changeVisibility(lease.queue, lease.receipt, deps.settings.leaseSeconds);
    } catch (e) {
      if (isAppError(e) && e.code === 'QUEUE.RECEIPT_INVALID') {
        throw new AppError('LEASE.LOST', 'conflict', 'The lease was lost (the case went back to the queue); take it again.');
      }
      throw e;
    }
    const expiresAt = new Date(now.getTime() + deps.settings.leaseSeconds * 1000).toISOString();
    const updated = await updateWithRetry(deps, caseId, (cur) =>
      cur.status === 'CLAIMED' && cur.lease?.id === lease.id ? { ...cur, lease: { ...lease, expiresAt } } : null,
    );
    if (!updated) throw new AppError('LEASE.LOST', 'conflict', 'The lease was lost (the case went back to the queue); take it again.');
    return updated.lease!;
  });
}

/**
 * Give the case back: QUEUED again with a fresh message, so a release never counts toward
 * dead-lettering. With `leaseId`, only that lease (as for heartbeat).
 */
export async function release(deps: Deps, p: Principal, caseId: string, leaseId?: string): Promise<Case> {
  // QUEUED again, the fresh message, the old one deleted, the audit: durable together before the answer.
  return deps.uow.run(async () => {
    requireRole(p, 'reader');
    const c = assertCanSee(p, await deps.cases.get(caseId));
    const now = deps.clock.now();
    assertLeaseHolder(p, c, now, leaseId);
    const old = c.lease!;
    const back = await updateWithRetry(deps, caseId, (cur) =>
      cur.status === 'CLAIMED' && cur.lease?.id === old.id
        ? { ...transition(cur, 'QUEUED', p.userId, now, 'released'), lease: null, readEnqueuedAt: null }
        : null,
    );
    if (!back) throw new AppError('LEASE.LOST', 'conflict', 'The lease was lost (the case went back to the queue).');
    const queued = await sendRead(deps, back);
    await deps.readQueue.delete(old.queue, old.receipt).catch(() => undefined);
    await deps.audit.append({ at: now.toISOString(), actor: p.userId, action: 'read.release', caseId });
    return queued;
  });
}

/**
 * Sweeper: CLAIMED cases whose lease ran out go back to QUEUED (their message is visible again by
 * itself), and QUEUED cases whose read message was never confirmed get one. Returns what it changed.
 */
export async function sweepLeases(deps: Deps): Promise<{ expired: number; reenqueued: number }> {
  const now = deps.clock.now();
  let expired = 0;
  for (const c of await deps.cases.listExpiredLeases(now.toISOString(), 100)) {
    const done = await updateWithRetry(deps, c.caseId, (cur) =>
      cur.status === 'CLAIMED' && cur.lease && Date.parse(cur.lease.expiresAt) <= now.getTime()
        ? { ...transition(cur, 'QUEUED', 'system:lease', now, 'lease-expired'), lease: null }
        : null,
    );
    if (done) {
      expired++;
      deps.log.info('lease expired', { caseId: c.caseId });
    }
  }
  const reenqueued = await repairUnconfirmedReads(deps, deps.settings.enqueueGraceSeconds);
  return { expired, reenqueued };
}

export const queuesFor = (pool: string) => PRIORITIES.map((prio) => readQueueName(pool, prio));
