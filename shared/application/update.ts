import type { Case } from '../domain/case.ts';
import { isAppError } from '../domain/errors.ts';
import type { Deps } from './deps.ts';

/**
 * Read-modify-write with the repository's version check, retried on conflict. `change` returns the
 * new case, or null when the current state makes the change moot; the result is the written case or null.
 */
export async function updateWithRetry(
  deps: Pick<Deps, 'cases'>,
  caseId: string,
  change: (cur: Case) => Case | null,
  attempts = 8,
): Promise<Case | null> {
  for (let i = 0; i < attempts; i++) {
    const cur = await deps.cases.get(caseId);
    if (!cur) return null;
    const next = change(cur);
    if (!next) return null;
    try {
      return await deps.cases.update(next, cur.version);
    } catch (e) {
      if (isAppError(e) && e.code === 'CASE.VERSION_CONFLICT') continue;
      throw e;
    }
  }
  throw new Error(`case ${caseId}: too many concurrent updates`);
}
