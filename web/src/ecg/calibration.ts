/** Screen calibration: CSS pixels per millimetre, measured once by the user and kept in localStorage. */
const KEY = 'teleread.pxPerMm';
export const DEFAULT_PX_PER_MM = 96 / 25.4;
export const CARD_MM = 85.6; // ISO/IEC 7810 ID-1 (bank card) width

export function getPxPerMm(): { value: number; calibrated: boolean } {
  const v = Number(localStorage.getItem(KEY));
  return Number.isFinite(v) && v > 1 && v < 40 ? { value: v, calibrated: true } : { value: DEFAULT_PX_PER_MM, calibrated: false };
}

export function setPxPerMm(v: number): void {
  localStorage.setItem(KEY, String(v));
  window.dispatchEvent(new Event('teleread:calibration'));
}
