import { matchesAddress, type AuditEvent, type AuditLog, type AuditQuery } from '../../../domain/ports/audit-log.js';

export class InMemoryAuditLog implements AuditLog {
  readonly events: AuditEvent[] = [];

  async record(event: AuditEvent): Promise<void> {
    this.events.push({ ...event });
  }

  async query(query: AuditQuery): Promise<AuditEvent[]> {
    return this.events
      .filter((e) => (!query.transferId || e.transferId === query.transferId) && (!query.peerAddress || matchesAddress(e.peerAddress, query.peerAddress)))
      .slice(-(query.limit ?? 1000));
  }
}
