/** Who saw or did what, when. Never holds PHI: ids only. */
export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  caseId?: string | undefined;
  detail?: Record<string, string | number | boolean> | undefined;
}
export interface AuditLog {
  append(e: AuditEntry): Promise<void>;
  list(filter: { caseId?: string; limit: number }): Promise<AuditEntry[]>;
}
