/** Opaque identifiers (never derived from PHI): case ids, submission ids, lease ids. */
export interface IdGenerator {
  next(prefix: string): string;
  /**
   * The same id for the same parts, every time and on every runtime (`<prefix>-<24 url-safe chars>`,
   * from a SHA-256 of prefix and parts): idempotency keys such as a client's submission reference.
   * Parts are opaque ids, never PHI.
   */
  derive(prefix: string, ...parts: string[]): string;
}
