/** Tells a clinic (or readers, or the administrator) that something needs them. Payloads carry ids, never PHI. */
export interface Notification {
  to: { clinicId?: string; userId?: string; role?: string };
  kind: 'report.delivered' | 'report.critical' | 'case.rejected';
  caseId: string;
  at: string;
}
export interface Notifier {
  notify(n: Notification): Promise<void>;
  /** In-app inbox for a recipient. */
  list(to: { clinicId?: string; userId?: string }, limit: number): Promise<Notification[]>;
}
