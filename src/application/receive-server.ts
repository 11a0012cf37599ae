// Use case: serve until stopped (docs/defences.md). Admission happens before any cryptography:
// banned sources, the per-source connection and handshake caps, and the global cap on handshakes
// in progress with random early drop are refused with a REFUSE frame. Each admitted connection
// gets its own session; the server owns what sessions share (the disk and memory budgets, the
// transfer claims) and counts their offences toward bans. A maintenance round expires abandoned
// partial files and prunes the audit table. stop() interrupts sessions, which leave their
// transfers resumable.
import type { ErrorCode } from '../domain/errors.js';
import { formatPeer } from '../domain/peer-address.js';
import { addressKey } from '../domain/policy/address-key.js';
import { BanPolicy, type Ban, type BanRules } from '../domain/policy/ban-policy.js';
import { ReceiverCapacity, type CapacityRules } from '../domain/policy/capacity.js';
import { MemoryBudget } from '../domain/policy/memory-budget.js';
import { orphanPartials, transfersToExpire } from '../domain/policy/partial-expiry.js';
import { isOffence } from '../domain/policy/penalties.js';
import { dropStartup, type StartupRules } from '../domain/policy/startup-throttle.js';
import type { BanBoard } from '../domain/ports/ban-board.js';
import type { ReservationBoard } from '../domain/ports/reservation-board.js';
import type { TransferClaims } from '../domain/ports/transfer-claims.js';
import type { Listener, Transport, Connection } from '../domain/ports/transport.js';
import { encodeRefuse } from '../domain/wire/frame.js';
import { BanSharing } from './ban-sharing.js';
import { BufferPool } from './buffer-pool.js';
import { readProxyHeader } from './proxied-connection.js';
import { ReceiveSession } from './receive-session.js';
import type { ReceiveSessionDeps, ReceiveSessionLimits, SessionHost, SessionOutcome } from './session-host.js';
import { ServerAudit } from './server-audit.js';
import { SharedDiskSpace } from './shared-disk-space.js';

export interface ReceiveServerOptions extends ReceiveSessionLimits {
  readonly host: string;
  readonly port: number;
  readonly maxConcurrentPerIp: number;
  readonly maxHandshakesPerIp: number;
  readonly startups: StartupRules;
  readonly ban: Omit<BanRules, 'maxTracked'>;
  readonly capacity: CapacityRules;
  /** Bytes of piece buffers and per-piece state all sessions together may hold. */
  readonly maxReceiveMemory: number;
  /** An incomplete transfer untouched this long is expired. */
  readonly partialRetentionMs: number;
  /** Audit events older than this are deleted. */
  readonly auditRetentionMs: number;
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

/** Address keys whose offences and bans are tracked at once: bounds memory under a flood. */
const MAX_TRACKED_ADDRESSES = 100_000;
/** Bytes of state per piece a session keeps (its hash and its state). */
const PIECE_STATE_BYTES = 33;
/** Piece state may take this share of the memory budget; buffers the rest. */
const PIECE_STATE_SHARE = 0.25;
const DEFAULT_MAINTENANCE_MS = 60_000;
/** How soon a ban, offences or disk reservations of another receiver on the same database count here too. */
const SHARING_POLL_MS = 2_000;
/** How long stop() waits to give this receiver's disk reservation back to the others. */
const STOP_PUBLISH_WAIT_MS = 2_000;
/** A balancer sends its PROXY header with the connection: a few seconds is ample. */
const PROXY_HEADER_TIMEOUT_MS = 5_000;
/** The share of the piece-state budget the transfers of one source may hold. */
const MAX_PIECE_STATE_SHARE_PER_SOURCE = 0.5;
/** Connections draining a CLOSE at once; beyond it a CLOSE is sent and the socket closed at once. */
const MAX_LINGERING = 256;
/** How often the output folder is listed for partial files without an owner. */
const ORPHAN_SWEEP_MS = 3_600_000;
/** Transfers expired per maintenance round, so one round never runs long. */
const EXPIRE_BATCH = 200;

interface Source {
  connections: number;
  handshakes: number;
  /** Piece-state bytes this source's transfers hold. */
  pieceState: number;
}

export class ReceiveServer {
  private listener: Listener | undefined;
  private readonly sessions = new Set<ReceiveSession>();
  private readonly running = new Set<Promise<SessionOutcome>>();
  private readonly sources = new Map<string, Source>();
  private readonly bans: BanPolicy;
  private readonly capacity: ReceiverCapacity;
  private readonly pieceState: MemoryBudget;
  private readonly pool: BufferPool;
  private readonly audit: ServerAudit;
  private readonly deps: ReceiveSessionDeps;
  private handshakes = 0;
  /** Sessions draining after their CLOSE. */
  private lingering = 0;
  private maintenance: NodeJS.Timeout | undefined;
  private readonly banSharing: BanSharing | undefined;
  private readonly reservationBoard: ReservationBoard | undefined;
  /** Set at start, once the output folder's id is known. */
  private diskSharing: SharedDiskSpace | undefined;
  private readonly claims: TransferClaims | undefined;
  private sharingPoll: NodeJS.Timeout | undefined;
  /** A receiver alone needs no id of its own: nobody else reads what it shares. */
  private get receiverId(): string {
    return this.options.receiverId ?? 'alone';
  }
  /** When partial files without an owner were last looked for. */
  private orphansSweptAt = -Infinity;
  /** Set by stop(): connections still reading their PROXY header are not admitted any more. */
  private stopping = false;
  /** Connections from a balancer whose PROXY header has not arrived yet. */
  private readonly awaitingHeader = new Set<Connection>();
  private maintaining: Promise<void> | undefined;

  constructor(
    private readonly transport: Transport,
    deps: Omit<ReceiveSessionDeps, 'pool'> & {
      /** Bans and offences shared with the other receivers on the same database (docs/scaling.md); none for one receiver alone. */
      readonly banBoard?: BanBoard | undefined;
      /** Disk reservations shared with the receivers writing to the same output folder. */
      readonly reservations?: ReservationBoard | undefined;
      /** Which receiver works on a transfer, across receivers; none for one receiver alone. */
      readonly claims?: TransferClaims | undefined;
    },
    private readonly options: ReceiveServerOptions,
    /** Observes each finished session (tests, the CLI's summary lines). */
    private readonly onSession: (outcome: SessionOutcome) => void = () => undefined,
  ) {
    this.bans = new BanPolicy({ ...options.ban, maxTracked: MAX_TRACKED_ADDRESSES });
    this.capacity = new ReceiverCapacity(options.capacity);
    this.pieceState = new MemoryBudget(Math.floor(options.maxReceiveMemory * PIECE_STATE_SHARE));
    this.pool = new BufferPool(options.maxReceiveMemory - this.pieceState.limit);
    this.audit = new ServerAudit(deps.audit, deps.logger, deps.clock);
    this.deps = { ...deps, audit: this.audit, pool: this.pool };
    this.claims = deps.claims;
    this.reservationBoard = deps.reservations;
    this.banSharing =
      deps.banBoard &&
      new BanSharing({
        board: deps.banBoard,
        policy: this.bans,
        clock: deps.clock,
        logger: deps.logger,
        receiverId: this.receiverId,
        windowMs: options.ban.windowMs,
        onBan: (ban) => this.banned(ban, 'offences reported by other receivers'),
      });
  }

  async start(): Promise<Listener> {
    if (this.reservationBoard) {
      this.diskSharing = new SharedDiskSpace({
        board: this.reservationBoard,
        clock: this.deps.clock,
        logger: this.deps.logger,
        receiverId: this.receiverId,
        folderId: await this.deps.folder.identity(),
        reserved: () => this.capacity.reserved,
      });
    }
    await this.maintain();
    await this.share();
    if (this.banSharing || this.diskSharing) {
      this.sharingPoll = setInterval(() => void this.share(), SHARING_POLL_MS);
      this.sharingPoll.unref();
    }
    this.listener = await this.transport.listen({
      host: this.options.host,
      port: this.options.port,
      onConnection: (connection) => (this.options.proxy ? this.acceptProxied(connection, this.options.proxy) : this.accept(connection)),
      onError: (e) => this.deps.logger.error('a connection could not be accepted', { reason: e.message }),
    });
    this.maintenance = setInterval(() => void this.maintain(), this.options.maintenanceIntervalMs ?? DEFAULT_MAINTENANCE_MS);
    this.maintenance.unref();
    return this.listener;
  }

  /** Stops accepting, interrupts sessions in flight and waits for them to record their state. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const c of this.awaitingHeader) c.destroy();
    clearInterval(this.maintenance);
    clearInterval(this.sharingPoll);
    // The listener's close resolves only once every connection is gone, so sessions are
    // interrupted while it stops accepting, not after.
    const closed = this.listener?.close();
    for (const session of this.sessions) session.interrupt();
    await Promise.allSettled([...this.running]);
    await this.maintaining;
    await this.audit.flush(true);
    // What this receiver promised goes back to the others now rather than when its heartbeat
    // stops moving; a database that does not answer soon is not waited for.
    if (this.diskSharing) await Promise.race([this.diskSharing.publish(), this.deps.clock.sleep(STOP_PUBLISH_WAIT_MS)]);
    await closed;
  }

  /** Sources with connections, handshakes or transfers in progress (tests of the memory bound). */
  get trackedSources(): number {
    return this.sources.size;
  }

  /** Bytes of piece buffers lent out or kept idle (diagnostics and tests). */
  get poolBytes(): number {
    return this.pool.inUse;
  }

  /** Bytes of piece buffers lent out to sessions now. */
  get lentPoolBytes(): number {
    return this.pool.lentOut;
  }

  /**
   * One maintenance round: expire abandoned transfers, prune old audit events, record the
   * summaries of coalesced events. Never throws: a failing store is logged and tried next round.
   */
  maintain(): Promise<void> {
    this.maintaining ??= this.runMaintenance().finally(() => (this.maintaining = undefined));
    return this.maintaining;
  }

  /**
   * One exchange with the other receivers on the database, as each poll makes it (public for
   * tests that need one now rather than within the poll interval); never throws.
   */
  async share(): Promise<void> {
    await Promise.all([this.banSharing?.poll(), this.diskSharing?.publish(), this.diskSharing?.watch()]);
  }

  private async runMaintenance(): Promise<void> {
    const { clock, logger, store, folder } = this.deps;
    try {
      const now = clock.now();
      const stale = await store.listIncomplete('receiver', now - this.options.partialRetentionMs, EXPIRE_BATCH);
      for (const t of transfersToExpire(stale, now, this.options.partialRetentionMs, (id) => this.capacity.isClaimed(id))) {
        await folder.discardPartial(t.id);
        const detail = `incomplete for longer than ${Math.round(this.options.partialRetentionMs / 1000)} s (last activity ${new Date(t.updatedAt).toISOString()}): partial file removed`;
        await store.update(t.id, 'receiver', { status: 'expired', errorCode: 'E_EXPIRED', errorDetail: detail, updatedAt: now });
        await this.audit.record({ type: 'transfer.expired', at: now, transferId: t.id, peerAddress: t.peerAddress, code: 'E_EXPIRED', detail: `"${t.fileName}" ${detail}` });
      }
      if (now - this.orphansSweptAt >= ORPHAN_SWEEP_MS) {
        await this.removeOrphanPartials(now);
        this.orphansSweptAt = now;
      }
      await this.banSharing?.prune(now);
      await this.diskSharing?.prune(now);
      const pruned = await this.audit.pruneBefore(now - this.options.auditRetentionMs);
      if (pruned > 0) logger.info('audit events pruned', { count: pruned });
      await this.audit.flush();
    } catch (e) {
      logger.error('maintenance round failed; it runs again later', { reason: (e as Error).message });
    }
  }

  /**
   * Partial files no incomplete transfer owns, older than the retention. Listing the output
   * folder reads every name in it, received files included, so this runs at start and hourly,
   * not every round.
   */
  private async removeOrphanPartials(now: number): Promise<void> {
    const { folder, store } = this.deps;
    const old = orphanPartials(await folder.listPartials(), now, this.options.partialRetentionMs, (id) => this.capacity.isClaimed(id));
    for (const orphan of old.slice(0, EXPIRE_BATCH)) {
      const t = await store.get(orphan.transferId, 'receiver');
      if (t !== undefined && t.status !== 'completed' && t.status !== 'expired') continue; // expiry's business
      await folder.discardPartial(orphan.transferId);
      await this.audit.record({ type: 'transfer.expired', at: now, transferId: orphan.transferId, code: 'E_EXPIRED', detail: `a partial file no incomplete transfer owns, untouched since ${new Date(orphan.modifiedAt).toISOString()}: removed` });
    }
  }

  private source(key: string): Source {
    let s = this.sources.get(key);
    if (!s) {
      s = { connections: 0, handshakes: 0, pieceState: 0 };
      this.sources.set(key, s);
    }
    return s;
  }

  /**
   * Behind a balancer (docs/scaling.md): only a trusted address may connect, and its first bytes
   * must be a PROXY v2 header, read within a few seconds; the client it names is then admitted
   * like any other. A balancer's own connection (a LOCAL header, a health check) is closed after
   * its header, so the balancer's address never earns an offence: banning it would lock everyone out.
   */
  private acceptProxied(connection: Connection, proxy: { readonly trusted: (address: string) => boolean }): void {
    if (!proxy.trusted(connection.remoteAddress)) {
      return this.refuse(connection, 'E_PROXY', `${connection.remoteAddress} is not a trusted proxy (ST_TRUSTED_PROXIES) and this receiver takes connections only through one`);
    }
    // Headers in waiting count like handshakes in progress: bounded, and short-lived.
    if (this.awaitingHeader.size >= this.options.startups.full) {
      return this.refuse(connection, 'E_BUSY', `${this.awaitingHeader.size} connections are waiting for their PROXY header`);
    }
    this.awaitingHeader.add(connection);
    const deadline = setTimeout(() => connection.destroy(), Math.min(PROXY_HEADER_TIMEOUT_MS, this.options.handshakeTimeoutMs));
    readProxyHeader(connection)
      .then(({ connection: proxied, client }) => {
        clearTimeout(deadline);
        this.awaitingHeader.delete(connection);
        // A LOCAL header is the balancer's own health check: it needs no session.
        if (client === undefined || this.stopping) return connection.destroy();
        this.accept(proxied);
      })
      .catch(async (e: unknown) => {
        clearTimeout(deadline);
        this.awaitingHeader.delete(connection);
        this.refuse(connection, 'E_PROXY', (e as Error).message, 'handshake.failed');
      });
  }

  private accept(connection: Connection): void {
    const key = addressKey(connection.remoteAddress);
    const now = this.deps.clock.now();
    const ban = this.bans.banned(key, now);
    if (ban) return this.refuse(connection, 'E_BANNED', `banned until ${new Date(ban.until).toISOString()} after ${ban.offences} offences (ban ${ban.round})`);
    const known = this.sources.get(key);
    if ((known?.connections ?? 0) >= this.options.maxConcurrentPerIp) {
      return this.refuse(connection, 'E_BUSY', `more than ${this.options.maxConcurrentPerIp} concurrent connections from ${key}`);
    }
    if ((known?.handshakes ?? 0) >= this.options.maxHandshakesPerIp) {
      return this.refuse(connection, 'E_BUSY', `${this.options.maxHandshakesPerIp} handshakes from ${key} already in progress`);
    }
    if (dropStartup(this.options.startups, this.handshakes, this.options.random())) {
      return this.refuse(connection, 'E_BUSY', `${this.handshakes} handshakes in progress (limit ${this.options.startups.start}:${this.options.startups.rate}:${this.options.startups.full})`);
    }
    const source = this.source(key);
    source.connections++;
    source.handshakes++;
    this.handshakes++;
    let handshaking = true;
    let slotHeld = true;
    /** Transfers this session claimed, with their piece counts, until released. */
    const claimed = new Map<string, number>();
    // The source's entry goes once nothing of it is left, whichever release comes last.
    const forgetIfIdle = () => {
      if (source.connections <= 0 && source.handshakes <= 0 && source.pieceState <= 0 && this.sources.get(key) === source) this.sources.delete(key);
    };
    /** Gives back what this receiver reserved for a transfer (not the claim across receivers). */
    const releaseHere = (transferId: string, pieceCount: number) => {
      if (!claimed.delete(transferId)) return;
      this.capacity.release(transferId);
      void this.diskSharing?.publish();
      this.pieceState.give(pieceCount * PIECE_STATE_BYTES);
      source.pieceState -= pieceCount * PIECE_STATE_BYTES;
      forgetIfIdle();
    };
    const host: SessionHost = {
      admit: async (claim) => {
        const stateBytes = claim.pieceCount * PIECE_STATE_BYTES;
        // One source never holds more than half of it, however lenient its sessions' pace.
        if (source.pieceState + stateBytes > this.pieceState.limit * MAX_PIECE_STATE_SHARE_PER_SOURCE) {
          return { ok: false, code: 'E_BUSY', detail: `the transfers from ${key} already hold their share of the receiver's memory for transfer state` };
        }
        if (!this.pieceState.take(stateBytes)) {
          return { ok: false, code: 'E_BUSY', detail: `the receiver's memory for transfer state is taken (${this.pieceState.inUse} of ${this.pieceState.limit} bytes)` };
        }
        let reservedElsewhere = 0;
        let freeSpace: number;
        try {
          reservedElsewhere = (await this.diskSharing?.reservedElsewhere()) ?? 0;
          // Measured after the database answered: bytes written meanwhile leave the reservations
          // and show in the free space together.
          freeSpace = await this.deps.folder.freeSpace();
        } catch (e) {
          this.pieceState.give(stateBytes);
          return { ok: false, code: 'E_UNAVAILABLE', detail: `the receiver cannot measure the space it may promise right now (${(e as Error).message}); try again later` };
        }
        const admitted = this.capacity.admit({ ...claim, freeSpace, reservedElsewhere });
        if (!admitted.ok) {
          this.pieceState.give(stateBytes);
          return admitted;
        }
        claimed.set(claim.transferId, claim.pieceCount);
        source.pieceState += stateBytes;
        void this.diskSharing?.publish();
        // Then across receivers: one that works on this transfer now keeps it.
        let elsewhere = false;
        try {
          elsewhere = this.claims !== undefined && !(await this.claims.claim(claim.transferId));
        } catch (e) {
          releaseHere(claim.transferId, claim.pieceCount);
          return { ok: false, code: 'E_UNAVAILABLE', detail: `the receiver cannot claim the transfer in its database right now (${(e as Error).message}); try again later` };
        }
        if (elsewhere) {
          releaseHere(claim.transferId, claim.pieceCount);
          return { ok: false, code: 'E_BUSY', detail: `transfer ${claim.transferId} is in progress on another receiver` };
        }
        return admitted;
      },
      wrote: (transferId, bytes) => this.capacity.wrote(transferId, bytes),
      release: (transferId, pieceCount) => {
        if (!claimed.has(transferId)) return;
        void this.claims?.release(transferId).catch((e: unknown) => this.deps.logger.error('could not release a transfer claim', { transferId, reason: (e as Error).message }));
        releaseHere(transferId, pieceCount);
      },
      handshakeEnded: () => {
        if (!handshaking) return;
        handshaking = false;
        this.handshakes--;
        source.handshakes--;
        forgetIfIdle();
      },
      releaseSlot: () => {
        if (!slotHeld) return;
        slotHeld = false;
        source.connections--;
        forgetIfIdle();
      },
      startLinger: () => {
        if (this.lingering >= MAX_LINGERING) return false;
        this.lingering++;
        return true;
      },
      endLinger: () => void this.lingering--,
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
        if (this.countsAsOffence(outcome)) await this.recordOffence(key, outcome.code);
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
        // Whatever the session's own clean-up did not reach is given back here.
        for (const [transferId, pieceCount] of [...claimed]) host.release(transferId, pieceCount);
        host.releaseSlot();
      });
    this.running.add(run);
  }

  private countsAsOffence(outcome: SessionOutcome): outcome is Exclude<SessionOutcome, { kind: 'completed' }> {
    if (outcome.kind === 'completed') return false;
    if (outcome.kind === 'handshake-failed') return outcome.code !== 'E_INTERRUPTED';
    // A sender that ended the session with its own CLOSE says why; that is no offence.
    if (outcome.closedByPeer) return false;
    // Taking an ACCEPT (a reservation, a record, audit rows) and dropping the connection before
    // the first piece is what a flood of cheap sessions looks like: it counts.
    if (outcome.kind === 'failed' && outcome.nothingWritten && outcome.code === 'E_CONNECTION_LOST') return true;
    return isOffence(outcome.code);
  }

  private async recordOffence(key: string, code: ErrorCode): Promise<void> {
    const ban = this.bans.recordOffence(key, this.deps.clock.now());
    if (ban) await this.banned(ban, `the last ${code}`);
    else this.banSharing?.offended(key);
  }

  /** A ban decided here, from offences here or reported by the others: shared and audited. */
  private async banned(ban: Ban, cause: string): Promise<void> {
    await this.banSharing?.banned(ban);
    await this.audit.record({
      type: 'ban',
      at: this.deps.clock.now(),
      peerAddress: ban.key,
      code: 'E_BANNED',
      detail: `${ban.offences} offences within ${this.options.ban.windowMs / 1000} s (${cause}): ban ${ban.round}, refused until ${new Date(ban.until).toISOString()}`,
    });
  }

  /**
   * Refuses before any cryptography: a REFUSE frame with the reason, a close, an audit record
   * (coalesced per source by the audit trail). Nothing here can reject.
   */
  private refuse(connection: Connection, code: ErrorCode, detail: string, type: 'connection.refused' | 'handshake.failed' = 'connection.refused'): void {
    const peer = formatPeer(connection.remoteAddress, connection.remotePort);
    void (async () => {
      await connection.write(encodeRefuse(code)).catch(() => undefined);
      await connection.end().catch(() => undefined);
      connection.destroy();
      await this.audit.record({ type, at: this.deps.clock.now(), peerAddress: peer, code, detail });
    })().catch((e: unknown) => this.deps.logger.error('refusal failed', { peer, reason: (e as Error).message }));
  }
}
