// Everything that happens is recorded, with time, peer address and transfer id (docs/defences.md#audit).
import { peerPrefix } from '../peer-address.js';

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
  | 'ban'
  | 'transfer.expired'
  | 'suppressed';

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
  /** An address: its events on any port ("10.0.0.5" matches "10.0.0.5:51234"), bans included. */
  readonly peerAddress?: string;
  /** The newest this many, returned oldest first (default 1000). */
  readonly limit?: number;
}

/** Whether an event's peer address belongs to the address a query asks for (exactly, or on any port). */
export function matchesAddress(eventAddress: string | undefined, address: string): boolean {
  return eventAddress === address || (eventAddress?.startsWith(peerPrefix(address)) ?? false);
}

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
  /** Deletes events older than the time given; returns how many went. */
  pruneBefore(at: number): Promise<number>;
  query(query: AuditQuery): Promise<AuditEvent[]>;
}
