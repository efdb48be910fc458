import type { RouteKit } from '../kit.ts';

/** DICOMweb STOW-RS (`POST /dicomweb/studies`): another way in for technicians' software. */
export function registerStowRoutes(kit: RouteKit): void {
  void kit;
}
