// The receiver's audit trail (docs/defences.md#audit): every event goes to the database and the
// log, but recording can never bring the server down and a flood cannot grow it without bound.
// - A failed write (a full disk, a locked database) is logged and counted, never thrown: the
//   session that caused the event carries on or ends with its own reason.
// - Events that belong to no transfer (connections, handshakes, refusals) are coalesced per
//   source, kind and code: the first few of each window are recorded, the rest summed up in one
//   "suppressed" record when the window closes. Transfer events are always recorded.
import type { AuditEvent, AuditLog, AuditQuery } from '../domain/ports/audit-log.js';
import type { Clock } from '../domain/ports/clock.js';
import type { Logger } from '../domain/ports/logger.js';
import { addressOfPeer } from '../domain/peer-address.js';
import { addressKey } from '../domain/policy/address-key.js';
import { EventCoalescer, type CoalescingRules, type Suppressed } from '../domain/policy/event-coalescer.js';

export const DEFAULT_COALESCING: CoalescingRules = { windowMs: 60_000, burst: 10, maxTracked: 10_000 };

const SEPARATOR = '\u0000';

export class ServerAudit implements AuditLog {
  private readonly coalescer: EventCoalescer;
  private lost = 0;

  constructor(
    private readonly inner: AuditLog,
    private readonly logger: Logger,
    private readonly clock: Clock,
    rules: CoalescingRules = DEFAULT_COALESCING,
  ) {
    this.coalescer = new EventCoalescer(rules);
  }

  async record(event: AuditEvent): Promise<void> {
    if (event.transferId === undefined && event.peerAddress !== undefined) {
      const source = addressKey(addressOfPeer(event.peerAddress));
      const admitted = this.coalescer.admit([source, event.type, event.code ?? ''].join(SEPARATOR), event.at);
      const closed = [...(admitted.closed ? [admitted.closed] : []), ...this.coalescer.overflow()];
      for (const summary of closed) await this.write(summaryEvent(summary, event.at));
      if (!admitted.record) return;
    }
    await this.write(event);
  }

  /** Records the summaries of windows that are over (all of them at shutdown). */
  async flush(all = false): Promise<void> {
    const now = this.clock.now();
    for (const summary of this.coalescer.drain(now, all)) await this.write(summaryEvent(summary, now));
  }

  async pruneBefore(at: number): Promise<number> {
    return this.inner.pruneBefore(at);
  }

  query(query: AuditQuery): Promise<AuditEvent[]> {
    return this.inner.query(query);
  }

  private async write(event: AuditEvent): Promise<void> {
    try {
      await this.inner.record(event);
    } catch (e) {
      this.lost++;
      this.logger.error('audit record not stored', {
        type: event.type,
        peer: event.peerAddress,
        transfer: event.transferId,
        reason: (e as Error).message,
        lost: this.lost,
      });
    }
  }
}

function summaryEvent(s: Suppressed, at: number): AuditEvent {
  const [source, type, code] = s.key.split(SEPARATOR) as [string, string, string];
  return {
    type: 'suppressed',
    at,
    peerAddress: source,
    ...(code ? { code } : {}),
    detail: `${s.count} similar ${type} events suppressed since ${new Date(s.since).toISOString()}`,
  };
}
