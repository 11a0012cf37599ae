// Use case: serve until stopped (SPEC §1 receive). Each connection gets its own session;
// stop() closes the listener and interrupts sessions, which leave their transfers resumable.
import type { ErrorCode } from '../domain/errors.js';
import type { Listener, Transport, Connection } from '../domain/ports/transport.js';
import { encodeRefuse } from '../domain/wire/frame.js';
import { ReceiveSession, type ActiveTransfers, type ReceiveSessionDeps, type ReceiveSessionLimits, type SessionOutcome } from './receive-session.js';

export interface ReceiveServerOptions extends ReceiveSessionLimits {
  readonly host: string;
  readonly port: number;
  readonly maxConcurrentPerIp: number;
}

export class ReceiveServer {
  private listener: Listener | undefined;
  private readonly sessions = new Set<ReceiveSession>();
  private readonly running = new Set<Promise<SessionOutcome>>();
  private readonly perIp = new Map<string, number>();
  private readonly transferIds = new Set<string>();
  private readonly active: ActiveTransfers = {
    claim: (id) => !this.transferIds.has(id) && Boolean(this.transferIds.add(id)),
    release: (id) => void this.transferIds.delete(id),
  };

  constructor(
    private readonly transport: Transport,
    private readonly deps: ReceiveSessionDeps,
    private readonly options: ReceiveServerOptions,
    /** Observes each finished session (tests, the CLI's summary lines). */
    private readonly onSession: (outcome: SessionOutcome) => void = () => undefined,
  ) {}

  async start(): Promise<Listener> {
    this.listener = await this.transport.listen({
      host: this.options.host,
      port: this.options.port,
      onConnection: (connection) => this.accept(connection),
    });
    return this.listener;
  }

  /** Stops accepting, interrupts sessions in flight and waits for them to record their state. */
  async stop(): Promise<void> {
    // The listener's close resolves only once every connection is gone, so sessions are
    // interrupted while it stops accepting, not after.
    const closed = this.listener?.close();
    for (const session of this.sessions) session.interrupt();
    await Promise.allSettled([...this.running]);
    await closed;
  }

  private accept(connection: Connection): void {
    const ip = connection.remoteAddress;
    const count = this.perIp.get(ip) ?? 0;
    if (count >= this.options.maxConcurrentPerIp) {
      void this.refuse(connection, 'E_BUSY', `more than ${this.options.maxConcurrentPerIp} concurrent connections from this address`);
      return;
    }
    this.perIp.set(ip, count + 1);
    const session = new ReceiveSession(connection, this.deps, this.options, this.active);
    this.sessions.add(session);
    const run = session
      .run()
      .catch((e: unknown): SessionOutcome => {
        this.deps.logger.error('session crashed', { peer: ip, error: (e as Error).stack ?? String(e) });
        return { kind: 'refused', code: 'E_INTERNAL', detail: (e as Error).message };
      })
      .then((outcome) => {
        this.onSession(outcome);
        return outcome;
      })
      .finally(() => {
        this.sessions.delete(session);
        this.running.delete(run);
        const left = (this.perIp.get(ip) ?? 1) - 1;
        if (left <= 0) this.perIp.delete(ip);
        else this.perIp.set(ip, left);
      });
    this.running.add(run);
  }

  /** Refuses before any cryptography: a REFUSE frame with the reason, an audit record, a close. */
  private async refuse(connection: Connection, code: ErrorCode, detail: string): Promise<void> {
    const peer = `${connection.remoteAddress}:${connection.remotePort}`;
    await connection.write(encodeRefuse(code)).catch(() => undefined);
    await connection.end().catch(() => undefined);
    connection.destroy();
    await this.deps.audit.record({ type: 'connection.refused', at: this.deps.clock.now(), peerAddress: peer, code, detail });
  }
}
