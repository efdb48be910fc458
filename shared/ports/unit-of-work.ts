/**
 * One use case's writes, made durable together. Writes made inside `run` may resolve before they are
 * on disk; all of them are durable before `run` settles, whether `fn` resolves or throws, so nothing
 * the use case answers or acknowledges outruns its state. Each write stays atomic and is applied in
 * order (a crash keeps a prefix of them). It is NOT a transaction: a throw rolls nothing back, so use
 * cases keep being idempotent and re-runnable. A nested `run` joins the outer one.
 */
export interface UnitOfWork {
  run<T>(fn: () => Promise<T>, opts?: UnitOptions): Promise<T>;
}

export interface UnitOptions {
  /**
   * The use case may answer from state another request wrote and has not yet seen made durable (an
   * idempotent replay: the same clientReference again, a second acknowledge, a re-sign): then the
   * unit also waits, before it settles, until everything committed before its end is on disk, even
   * when it wrote nothing itself. Off by default, so a read-only unit (an empty reads/next, a refusal)
   * does not wait for other requests' fsyncs under load.
   */
  answersFromStored?: boolean;
}

/** For an idempotent use case: a repeat answers from what the first call stored, so the unit waits until that is durable too. */
export const REPLAYABLE: UnitOptions = { answersFromStored: true };
