/** Tells a clinic (or readers, or the administrator) that something needs them. Payloads carry ids, never PHI. */
export interface Notification {
  to: { clinicId?: string; userId?: string; role?: string };
  kind: 'report.delivered' | 'report.critical' | 'report.amended' | 'case.rejected' | 'case.sla-warning' | 'case.sla-breach' | 'critical.unacknowledged';
  caseId: string;
  at: string;
  /** The report version this is about (report.* kinds). */
  version?: number;
}
export interface Notifier {
  notify(n: Notification): Promise<void>;
  /** In-app inbox for a recipient. */
  list(to: { clinicId?: string; userId?: string }, limit: number): Promise<Notification[]>;
}
