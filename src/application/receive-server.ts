// Use case: serve until stopped (docs/defences.md). Admission happens before any cryptography
// (connection-gate.ts); each admitted connection gets its own session and a host for what it
// claims of the budgets all sessions share (server-session-host.ts); the server counts sessions'
// offences toward bans, shares bans, offences and disk reservations with other receivers on the
// same database (docs/scaling.md), and runs the housekeeping (receiver-maintenance.ts). stop()
// interrupts sessions, which leave their transfers resumable.
import type { ErrorCode } from '../domain/errors.js';
import { formatPeer } from '../domain/peer-address.js';
import { addressKey } from '../domain/policy/address-key.js';
import { BanPolicy, type BanRules } from '../domain/policy/ban-policy.js';
import { ReceiverCapacity, type CapacityRules } from '../domain/policy/capacity.js';
import { MemoryBudget } from '../domain/policy/memory-budget.js';
import type { BanBoard } from '../domain/ports/ban-board.js';
import type { ReservationBoard } from '../domain/ports/reservation-board.js';
import type { TransferClaims } from '../domain/ports/transfer-claims.js';
import type { Connection, Listener, Transport } from '../domain/ports/transport.js';
import { encodeRefuse } from '../domain/wire/frame.js';
import { BanSharing } from './ban-sharing.js';
import { BufferPool } from '../domain/policy/buffer-pool.js';
import { ConnectionGate, type GateRules } from './connection-gate.js';
import { ProxyFront } from './proxy-front.js';
import { ReceiveSession } from './receive-session.js';
import { ReceiverMaintenance, type MaintenanceRules } from './receiver-maintenance.js';
import { ServerAudit } from './server-audit.js';
import { ServerSessionHost, type SharedBudgets } from './server-session-host.js';
import type { ReceiveSessionDeps, ReceiveSessionLimits, SessionOutcome } from './session-host.js';
import { countsAsOffence, SessionOffences } from './session-offences.js';
import { SharedDiskSpace } from './shared-disk-space.js';

export interface ReceiveServerOptions extends ReceiveSessionLimits, GateRules, MaintenanceRules {
  readonly host: string;
  readonly port: number;
  readonly ban: Omit<BanRules, 'maxTracked'>;
  readonly capacity: CapacityRules;
  /** Bytes of piece buffers and per-piece state all sessions together may hold. */
  readonly maxReceiveMemory: number;
  /** How often the maintenance round runs (expiry, audit pruning, coalesced summaries). */
  readonly maintenanceIntervalMs?: number;
  /** A number in [0, 1) for random early drop; randomness comes in from outside. */
  readonly random: () => number;
  /**
   * ST_PROXY_PROTOCOL=v2: every connection must come from a trusted balancer and start with a
   * PROXY protocol v2 header naming the client; undefined accepts clients directly.
   */
  readonly proxy?: { readonly trusted: (address: string) => boolean } | undefined;
  /** This receiver's id among those sharing a database (bans, offences, disk reservations). */
  readonly receiverId?: string | undefined;
}

/** What the server shares with other receivers on the same database; none for one receiver alone. */
export interface SharedStateDeps {
  /** Bans and offences (docs/scaling.md#bans-and-offences). */
  readonly banBoard?: BanBoard | undefined;
  /** Disk reservations on a shared output folder. */
  readonly reservations?: ReservationBoard | undefined;
  /** Which receiver works on a transfer. */
  readonly claims?: TransferClaims | undefined;
}

/** Address keys whose offences and bans are tracked at once: bounds memory under a flood. */
const MAX_TRACKED_ADDRESSES = 100_000;
/** Piece state may take this share of the memory budget; buffers the rest. */
const PIECE_STATE_SHARE = 0.25;
/** Share of the piece buffers' budget that may stay idle for reuse. */
const POOL_SPARE_SHARE = 0.25;
const DEFAULT_MAINTENANCE_MS = 60_000;
/** How soon a ban, offences or disk reservations of another receiver on the same database count here too. */
const SHARING_POLL_MS = 2_000;
/** How long stop() waits to give this receiver's disk reservation back to the others. */
const STOP_PUBLISH_WAIT_MS = 2_000;

export class ReceiveServer {
  private listener: Listener | undefined;
  private readonly sessions = new Set<ReceiveSession>();
  private readonly running = new Set<Promise<SessionOutcome>>();
  private readonly bans: BanPolicy;
  private readonly gate: ConnectionGate;
  private readonly capacity: ReceiverCapacity;
  private readonly pool: BufferPool;
  private readonly audit: ServerAudit;
  private readonly deps: ReceiveSessionDeps;
  private readonly budgets: SharedBudgets;
  private readonly maintenance: ReceiverMaintenance;
  private readonly banSharing: BanSharing | undefined;
  private readonly offences: SessionOffences;
  /** Disk reservations shared on the output folder; the sharing itself starts with the server. */
  private readonly reservations: ReservationBoard | undefined;
  /** Set at start, once the output folder's id is known. */
  private diskSharing: SharedDiskSpace | undefined;
  private timers: NodeJS.Timeout[] = [];
  /** Connections through a balancer (ST_PROXY_PROTOCOL=v2). */
  private readonly proxyFront: ProxyFront | undefined;

  constructor(
    private readonly transport: Transport,
    deps: Omit<ReceiveSessionDeps, 'pool'> & SharedStateDeps,
    private readonly options: ReceiveServerOptions,
    /** Observes each finished session (tests, the CLI's summary lines). */
    private readonly onSession: (outcome: SessionOutcome) => void = () => undefined,
  ) {
    this.bans = new BanPolicy({ ...options.ban, maxTracked: MAX_TRACKED_ADDRESSES });
    this.gate = new ConnectionGate(options, this.bans, options.random);
    this.capacity = new ReceiverCapacity(options.capacity);
    const pieceState = new MemoryBudget(Math.floor(options.maxReceiveMemory * PIECE_STATE_SHARE));
    const poolBytes = options.maxReceiveMemory - pieceState.limit;
    // Idle piece buffers keep at most a quarter: the rest of the budget is for sessions.
    this.pool = new BufferPool(poolBytes, { spareLimit: Math.floor(poolBytes * POOL_SPARE_SHARE) });
    this.audit = new ServerAudit(deps.audit, deps.logger, deps.clock);
    this.offences = new SessionOffences(this.bans, () => this.banSharing, this.audit, deps.clock, options.ban.windowMs);
    this.deps = { ...deps, audit: this.audit, pool: this.pool };
    this.budgets = {
      gate: this.gate,
      capacity: this.capacity,
      pieceState,
      folder: deps.folder,
      logger: deps.logger,
      claims: deps.claims,
      diskSharing: () => this.diskSharing,
      lingering: { count: 0 },
    };
    this.banSharing =
      deps.banBoard &&
      new BanSharing({
        board: deps.banBoard,
        policy: this.bans,
        clock: deps.clock,
        logger: deps.logger,
        receiverId: this.receiverId,
        windowMs: options.ban.windowMs,
        onBan: (ban) => this.offences.banned(ban, 'offences reported by other receivers'),
      });
    this.maintenance = new ReceiverMaintenance(
      {
        ...this.deps,
        audit: this.audit,
        inUse: (id) => this.capacity.isClaimed(id),
        pruneShared: async (now) => {
          await this.banSharing?.prune(now);
          await this.diskSharing?.prune(now);
        },
      },
      options,
    );
    const proxy = options.proxy;
    this.proxyFront =
      proxy &&
      new ProxyFront(
        { trusted: proxy.trusted, maxWaiting: options.startups.full, handshakeTimeoutMs: options.handshakeTimeoutMs },
        (c) => this.accept(c),
        (c, code, detail, type) => this.refuse(c, code, detail, type),
      );
    this.reservations = deps.reservations;
  }

  async start(): Promise<Listener> {
    if (this.reservations) {
      const { clock, logger, folder } = this.deps;
      this.diskSharing = new SharedDiskSpace({
        board: this.reservations,
        clock,
        logger,
        receiverId: this.receiverId,
        folderId: await folder.identity(),
        reserved: () => this.capacity.reserved,
      });
    }
    await this.maintain();
    await this.share();
    if (this.banSharing || this.diskSharing) this.every(SHARING_POLL_MS, () => this.share());
    this.listener = await this.transport.listen({
      host: this.options.host,
      port: this.options.port,
      onConnection: (connection) => (this.proxyFront ? this.proxyFront.accept(connection) : this.accept(connection)),
      onError: (e) => this.deps.logger.error('a connection could not be accepted', { reason: e.message }),
    });
    this.every(this.options.maintenanceIntervalMs ?? DEFAULT_MAINTENANCE_MS, () => this.maintain());
    return this.listener;
  }

  /** Stops accepting, interrupts sessions in flight and waits for them to record their state. */
  async stop(): Promise<void> {
    this.proxyFront?.stop();
    for (const t of this.timers) clearInterval(t);
    // The listener's close resolves only once every connection is gone, so sessions are
    // interrupted while it stops accepting, not after.
    const closed = this.listener?.close();
    for (const session of this.sessions) session.interrupt();
    await Promise.allSettled([...this.running]);
    await this.maintenance.settled();
    await this.audit.flush(true);
    // What this receiver promised goes back to the others now rather than when its heartbeat
    // stops moving; a database that does not answer soon is not waited for.
    if (this.diskSharing) await Promise.race([this.diskSharing.publish(), this.deps.clock.sleep(STOP_PUBLISH_WAIT_MS)]);
    await closed;
  }

  /** Sources with connections, handshakes or transfers in progress (tests of the memory bound). */
  get trackedSources(): number {
    return this.gate.tracked;
  }

  /** Bytes of piece buffers lent out or kept idle (diagnostics and tests). */
  get poolBytes(): number {
    return this.pool.inUse;
  }

  /** Bytes of piece buffers lent out to sessions now. */
  get lentPoolBytes(): number {
    return this.pool.lentOut;
  }

  /** One maintenance round (public for tests that set the clock); never throws. */
  maintain(): Promise<void> {
    return this.maintenance.run();
  }

  /**
   * One exchange with the other receivers on the database, as each poll makes it (public for
   * tests that need one now rather than within the poll interval); never throws.
   */
  async share(): Promise<void> {
    await Promise.all([this.banSharing?.poll(), this.diskSharing?.publish(), this.diskSharing?.watch()]);
  }

  /** A receiver alone needs no id of its own: nobody else reads what it shares. */
  private get receiverId(): string {
    return this.options.receiverId ?? 'alone';
  }

  private every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => void task(), ms);
    timer.unref();
    this.timers.push(timer);
  }

  private accept(connection: Connection): void {
    const key = addressKey(connection.remoteAddress);
    const refusal = this.gate.refusal(key, this.deps.clock.now());
    if (refusal) return this.refuse(connection, refusal.code, refusal.detail);
    const host = new ServerSessionHost(this.budgets, key, this.gate.enter(key));
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
        if (countsAsOffence(outcome)) await this.offences.record(key, outcome.code);
        this.onSession(outcome);
        return outcome;
      })
      .catch((e: unknown): SessionOutcome => {
        this.deps.logger.error('session bookkeeping failed', { peer: key, error: (e as Error).stack ?? String(e) });
        return { kind: 'refused', code: 'E_INTERNAL', detail: (e as Error).message };
      })
      .finally(() => {
        this.sessions.delete(session);
        this.running.delete(run);
        host.releaseAll();
      });
    this.running.add(run);
  }

  /**
   * Refuses before any cryptography: a REFUSE frame with the reason, a close, an audit record
   * (coalesced per source by the audit trail). Nothing here can reject.
   */
  private refuse(
    connection: Connection,
    code: ErrorCode,
    detail: string,
    type: 'connection.refused' | 'handshake.failed' = 'connection.refused',
  ): void {
    const peer = formatPeer(connection.remoteAddress, connection.remotePort);
    void (async () => {
      await connection.write(encodeRefuse(code)).catch(() => undefined);
      await connection.end().catch(() => undefined);
      connection.destroy();
      await this.audit.record({ type, at: this.deps.clock.now(), peerAddress: peer, code, detail });
    })().catch((e: unknown) => this.deps.logger.error('refusal failed', { peer, reason: (e as Error).message }));
  }
}
