/** Opaque identifiers (never derived from PHI): case ids, submission ids, lease ids. */
export interface IdGenerator {
  next(prefix: string): string;
}
