// SPEC §6: everything that happens is recorded, with time, peer address and transfer id.

export type AuditEventType =
  | 'connection.opened'
  | 'connection.closed'
  | 'connection.refused'
  | 'handshake.succeeded'
  | 'handshake.failed'
  | 'transfer.started'
  | 'transfer.resumed'
  | 'transfer.completed'
  | 'transfer.failed'
  | 'error'
  | 'ban';

export interface AuditEvent {
  readonly type: AuditEventType;
  readonly at: number;
  readonly peerAddress?: string | undefined;
  readonly transferId?: string | undefined;
  readonly peerFingerprint?: string | undefined;
  readonly code?: string | undefined;
  /** Free text; may contain values that came from the network, escaped by the adapters before output. */
  readonly detail?: string | undefined;
}

export interface AuditQuery {
  readonly transferId?: string;
  readonly peerAddress?: string;
  readonly limit?: number;
}

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
  query(query: AuditQuery): Promise<AuditEvent[]>;
}
