// Use case: serve until stopped (SPEC §1 receive, §5 defences). Admission happens before any
// cryptography: banned address keys, the per-address connection cap and the cap on handshakes
// in progress are refused with a REFUSE frame. Each admitted connection gets its own session;
// failed handshakes feed the ban policy. stop() interrupts sessions, which leave their
// transfers resumable.
import type { ErrorCode } from '../domain/errors.js';
import { addressKey } from '../domain/policy/address-key.js';
import { BanPolicy, type BanRules } from '../domain/policy/ban-policy.js';
import type { Listener, Transport, Connection } from '../domain/ports/transport.js';
import { encodeRefuse } from '../domain/wire/frame.js';
import { ReceiveSession, type ReceiveSessionDeps, type ReceiveSessionLimits, type SessionHost, type SessionOutcome } from './receive-session.js';

export interface ReceiveServerOptions extends ReceiveSessionLimits {
  readonly host: string;
  readonly port: number;
  readonly maxConcurrentPerIp: number;
  readonly maxHandshakesInProgress: number;
  readonly ban: Omit<BanRules, 'maxTracked'>;
}

/** Address keys whose refusals and failures are tracked at once: bounds memory under a flood. */
const MAX_TRACKED_ADDRESSES = 100_000;
/** A refused address is audited at most once a second; the others are counted in the next record. */
const REFUSAL_AUDIT_INTERVAL_MS = 1000;

export class ReceiveServer {
  private listener: Listener | undefined;
  private readonly sessions = new Set<ReceiveSession>();
  private readonly running = new Set<Promise<SessionOutcome>>();
  private readonly perKey = new Map<string, number>();
  private readonly transferIds = new Set<string>();
  private readonly bans: BanPolicy;
  private readonly refusalAudits = new Map<string, { last: number; suppressed: number }>();
  private handshakes = 0;

  constructor(
    private readonly transport: Transport,
    private readonly deps: ReceiveSessionDeps,
    private readonly options: ReceiveServerOptions,
    /** Observes each finished session (tests, the CLI's summary lines). */
    private readonly onSession: (outcome: SessionOutcome) => void = () => undefined,
  ) {
    this.bans = new BanPolicy({ ...options.ban, maxTracked: MAX_TRACKED_ADDRESSES });
  }

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
    const key = addressKey(connection.remoteAddress);
    const now = this.deps.clock.now();
    const ban = this.bans.banned(key, now);
    if (ban) return void this.refuse(connection, key, 'E_BANNED', `banned until ${new Date(ban.until).toISOString()} after failed handshakes`);
    const count = this.perKey.get(key) ?? 0;
    if (count >= this.options.maxConcurrentPerIp) {
      return void this.refuse(connection, key, 'E_BUSY', `more than ${this.options.maxConcurrentPerIp} concurrent connections from ${key}`);
    }
    if (this.handshakes >= this.options.maxHandshakesInProgress) {
      return void this.refuse(connection, key, 'E_BUSY', `${this.options.maxHandshakesInProgress} handshakes already in progress`);
    }
    this.perKey.set(key, count + 1);
    this.handshakes++;
    let handshaking = true;
    const host: SessionHost = {
      claimTransfer: (id) => !this.transferIds.has(id) && Boolean(this.transferIds.add(id)),
      releaseTransfer: (id) => void this.transferIds.delete(id),
      handshakeEnded: () => {
        if (handshaking) this.handshakes--;
        handshaking = false;
      },
    };
    const session = new ReceiveSession(connection, this.deps, this.options, host);
    this.sessions.add(session);
    const run = session
      .run()
      .catch((e: unknown): SessionOutcome => {
        this.deps.logger.error('session crashed', { peer: key, error: (e as Error).stack ?? String(e) });
        return { kind: 'refused', code: 'E_INTERNAL', detail: (e as Error).message };
      })
      .then(async (outcome) => {
        host.handshakeEnded();
        if (outcome.kind === 'handshake-failed') await this.countFailure(key);
        this.onSession(outcome);
        return outcome;
      })
      .finally(() => {
        this.sessions.delete(session);
        this.running.delete(run);
        const left = (this.perKey.get(key) ?? 1) - 1;
        if (left <= 0) this.perKey.delete(key);
        else this.perKey.set(key, left);
      });
    this.running.add(run);
  }

  private async countFailure(key: string): Promise<void> {
    const now = this.deps.clock.now();
    const ban = this.bans.recordFailure(key, now);
    if (!ban) return;
    await this.deps.audit.record({
      type: 'ban',
      at: now,
      peerAddress: key,
      code: 'E_BANNED',
      detail: `${ban.failures} failed handshakes within ${this.options.ban.windowMs / 1000} s: refused until ${new Date(ban.until).toISOString()}`,
    });
  }

  /** Refuses before any cryptography: a REFUSE frame with the reason, a close, an audit record. */
  private async refuse(connection: Connection, key: string, code: ErrorCode, detail: string): Promise<void> {
    const peer = `${connection.remoteAddress}:${connection.remotePort}`;
    await connection.write(encodeRefuse(code)).catch(() => undefined);
    await connection.end().catch(() => undefined);
    connection.destroy();
    // A flood of refused connections must not become a flood of database writes.
    const now = this.deps.clock.now();
    const seen = this.refusalAudits.get(key);
    if (seen && now - seen.last < REFUSAL_AUDIT_INTERVAL_MS) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.refusalAudits.delete(key);
    this.refusalAudits.set(key, { last: now, suppressed: 0 });
    while (this.refusalAudits.size > MAX_TRACKED_ADDRESSES) this.refusalAudits.delete(this.refusalAudits.keys().next().value as string);
    const more = suppressed > 0 ? ` (and ${suppressed} more refusals of ${key} not recorded one by one)` : '';
    await this.deps.audit.record({ type: 'connection.refused', at: now, peerAddress: peer, code, detail: `${detail}${more}` });
  }
}
