/**
 * A signing PIN as a reader sets it: digits only (the reading screen asks for digits, on a numeric
 * keypad where there is one), at least 6 (a 6-digit PIN under the lock-out allows ~480 guesses a day),
 * at most 64 (the longest a signature request carries).
 */
export const SIGNING_PIN_RULE = { minDigits: 6, maxDigits: 64 } as const;

/** Why `pin` cannot be a new signing PIN, or null when it can. */
export function newSigningPinProblem(pin: string): string | null {
  if (!/^\d*$/.test(pin)) return 'A signing PIN is digits only';
  if (pin.length < SIGNING_PIN_RULE.minDigits) return `A signing PIN has at least ${SIGNING_PIN_RULE.minDigits} digits`;
  if (pin.length > SIGNING_PIN_RULE.maxDigits) return `A signing PIN has at most ${SIGNING_PIN_RULE.maxDigits} digits`;
  return null;
}
