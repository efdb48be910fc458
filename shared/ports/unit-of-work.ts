/**
 * One use case's writes, made durable together. Writes made inside `run` may resolve before they are
 * on disk; all of them are durable before `run` settles, whether `fn` resolves or throws, so nothing
 * the use case answers or acknowledges outruns its state. Each write stays atomic and is applied in
 * order (a crash keeps a prefix of them). It is NOT a transaction: a throw rolls nothing back, so use
 * cases keep being idempotent and re-runnable. A nested `run` joins the outer one.
 */
export interface UnitOfWork {
  run<T>(fn: () => Promise<T>): Promise<T>;
}
