import type { AuditEvent, AuditLog, AuditQuery } from '../../domain/ports/audit-log.js';
import type { Logger } from '../../domain/ports/logger.js';

/** Events that mean someone was refused or something went wrong: logged as warnings. */
const WARNINGS = new Set<AuditEvent['type']>([
  'handshake.failed',
  'transfer.failed',
  'error',
  'ban',
  'connection.refused',
  'transfer.expired',
  'suppressed',
]);

/** docs/requirements.md#audit: every audit record goes to the database and to the rotating log file. */
export class LoggedAuditLog implements AuditLog {
  constructor(
    private readonly store: AuditLog,
    private readonly logger: Logger,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    const level = WARNINGS.has(event.type) ? 'warn' : 'info';
    this.logger[level](`audit ${event.type}`, {
      peer: event.peerAddress,
      transfer: event.transferId,
      fingerprint: event.peerFingerprint,
      code: event.code,
      detail: event.detail,
    });
    await this.store.record(event);
  }

  pruneBefore(at: number): Promise<number> {
    return this.store.pruneBefore(at);
  }

  query(query: AuditQuery): Promise<AuditEvent[]> {
    return this.store.query(query);
  }
}
