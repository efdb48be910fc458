/** Lead identification shared by the DICOM, aECG and SCP-ECG readers. */

export const STANDARD_LEADS = ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'] as const;
export type StandardLead = (typeof STANDARD_LEADS)[number];

/**
 * SCP-ECG lead numbers (EN 1064 table, reused by DICOM CID 3001 as SCPECG "5.6.3-9-n" and MDC "2:n").
 * Not sequential: I=1, II=2, V1..V6=3..8, III=61, aVR=62, aVL=63, aVF=64; extra leads keep their names.
 */
const LEAD_BY_NUMBER: Record<number, string> = {
  1: 'I', 2: 'II', 3: 'V1', 4: 'V2', 5: 'V3', 6: 'V4', 7: 'V5', 8: 'V6',
  9: 'V7', 11: 'V3R', 12: 'V4R', 13: 'V5R', 16: 'X', 17: 'Y', 18: 'Z',
  61: 'III', 62: 'aVR', 63: 'aVL', 64: 'aVF', 66: 'V8', 67: 'V9',
};

const NAME_CANON: Record<string, string> = {
  I: 'I', II: 'II', III: 'III', AVR: 'aVR', AVL: 'aVL', AVF: 'aVF',
  V1: 'V1', V2: 'V2', V3: 'V3', V4: 'V4', V5: 'V5', V6: 'V6', V7: 'V7', V8: 'V8', V9: 'V9',
  V3R: 'V3R', V4R: 'V4R', V5R: 'V5R', X: 'X', Y: 'Y', Z: 'Z',
};

/** Every name leadFromCode/leadFromText can return: the ECG leads we recognise. */
export const KNOWN_LEADS: ReadonlySet<string> = new Set(Object.values(NAME_CANON));

/** Lead from a coded value: SCPECG "5.6.3-9-n", MDC "2:n", MDC context-free 131072+n, or "MDC_ECG_LEAD_X". */
export function leadFromCode(codeValue: string | undefined, scheme?: string): string | null {
  if (!codeValue) return null;
  const v = codeValue.trim();
  let m = /^5\.6\.3-9-(\d+)$/.exec(v);
  if (m) return LEAD_BY_NUMBER[Number(m[1])] ?? null;
  m = /^2:(\d+)$/.exec(v);
  if (m) return LEAD_BY_NUMBER[Number(m[1])] ?? null;
  m = /^MDC_ECG_LEAD_([A-Z0-9]+)$/i.exec(v);
  if (m) return NAME_CANON[m[1]!.toUpperCase()] ?? null;
  if (/^\d{6}$/.test(v) && (scheme === undefined || /MDC/i.test(scheme))) {
    const n = Number(v) - 131072; // MDC partition 2 (ECG leads), context-free form
    if (n > 0 && n < 256) return LEAD_BY_NUMBER[n] ?? null;
  }
  return null;
}

/** Lead from free text: "Lead I (Einthoven)", "Lead aVR", "V1", "II". */
export function leadFromText(text: string | undefined): string | null {
  if (!text) return null;
  const t = text.trim().replace(/\s*\(.*\)\s*$/, '').replace(/^(ecg\s+)?lead\s+/i, '').replace(/\s+/g, '');
  return NAME_CANON[t.toUpperCase()] ?? null;
}

/** Sort key: the 12 standard leads in their conventional order first, the rest after. */
export function leadOrder(name: string): number {
  const i = (STANDARD_LEADS as readonly string[]).indexOf(name);
  return i >= 0 ? i : 100;
}

/** Factor from a UCUM voltage unit to millivolts, or null when the unit is not a voltage. */
export function voltageUnitToMv(unit: string | undefined): number | null {
  if (unit === undefined) return null;
  const u = unit.trim();
  switch (u) {
    case 'mV':
      return 1;
    case 'uV':
    case 'µV':
    case 'μV':
      return 1e-3;
    case 'nV':
      return 1e-6;
    case 'V':
      return 1e3;
    default:
      return null;
  }
}
