import { matchesAddress, type AuditEvent, type AuditLog, type AuditQuery } from '../../../domain/ports/audit-log.js';

export class InMemoryAuditLog implements AuditLog {
  readonly events: AuditEvent[] = [];

  async record(event: AuditEvent): Promise<void> {
    this.events.push({ ...event });
  }

  async pruneBefore(at: number): Promise<number> {
    const before = this.events.length;
    const kept = this.events.filter((e) => e.at >= at);
    this.events.splice(0, this.events.length, ...kept);
    return before - kept.length;
  }

  async query(query: AuditQuery): Promise<AuditEvent[]> {
    return this.events
      .filter(
        (e) =>
          (!query.transferId || e.transferId === query.transferId) &&
          (!query.peerAddress || matchesAddress(e.peerAddress, query.peerAddress)),
      )
      .slice(-(query.limit ?? 1000));
  }
}
