import type { ZodError } from 'zod';

/** One sentence per problem, naming the field to fix. */
export function describeIssues(e: ZodError): string {
  return e.issues
    .slice(0, 8)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}
