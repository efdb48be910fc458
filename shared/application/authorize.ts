import type { Principal, Role } from '../contracts/auth.ts';
import type { Case } from '../domain/case.ts';
import { AppError, notFound } from '../domain/errors.ts';

/** Refuse callers whose role may never do this (403); scoping to clinics and pools is `assertCanSee`. */
export function requireRole(p: Principal, ...roles: Role[]): void {
  if (!roles.includes(p.role)) {
    throw new AppError('AUTH.FORBIDDEN_ROLE', 'forbidden', `This needs the role ${roles.join(' or ')}; you are signed in as ${p.role}.`);
  }
}

/** Technicians see their clinic's cases, readers the cases routed to their pools, admins all. */
export function canSee(p: Principal, c: Case): boolean {
  switch (p.role) {
    case 'admin':
      return true;
    case 'technician':
      return !!p.clinicId && c.clinicId === p.clinicId;
    case 'reader':
      return c.pool !== null && (p.pools ?? []).includes(c.pool);
  }
}

/** Another clinic's case answers exactly like a missing one. */
export function assertCanSee(p: Principal, c: Case | null): Case {
  if (!c || !canSee(p, c)) throw notFound('CASE.NOT_FOUND', 'No such case.');
  return c;
}

export function assertLeaseHolder(p: Principal, c: Case, now: Date, leaseId?: string): void {
  if (c.status !== 'CLAIMED' || !c.lease || c.lease.readerId !== p.userId) {
    throw new AppError('LEASE.NOT_HELD', 'conflict', 'You do not hold the reading lease on this case: take it with "read next" first.');
  }
  if (Date.parse(c.lease.expiresAt) <= now.getTime()) {
    throw new AppError('LEASE.EXPIRED', 'conflict', 'Your reading lease expired and the case went back to the queue; take it again to go on.');
  }
  // A named lease that is not the current one ran out, and the case was taken again (by this reader,
  // elsewhere): what this screen sends must not extend, give back, overwrite or sign over that reading.
  if (leaseId !== undefined && c.lease.id !== leaseId) {
    throw new AppError('LEASE.LOST', 'conflict', 'This lease ran out and the case was taken again (in another window?); continue there, or take the next case.');
  }
}
