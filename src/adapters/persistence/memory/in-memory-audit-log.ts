import type { AuditEvent, AuditLog, AuditQuery } from '../../../domain/ports/audit-log.js';

export class InMemoryAuditLog implements AuditLog {
  readonly events: AuditEvent[] = [];

  async record(event: AuditEvent): Promise<void> {
    this.events.push({ ...event });
  }

  async query(query: AuditQuery): Promise<AuditEvent[]> {
    return this.events
      .filter((e) => (!query.transferId || e.transferId === query.transferId) && (!query.peerAddress || e.peerAddress === query.peerAddress))
      .slice(0, query.limit ?? 1000);
  }
}
