// One connection on the receiver: handshake, manifest, admission, pieces, whole-file check, final
// name. Everything the peer does wrong ends as a CLOSE with a reason, a failed transfer record
// and an audit event; nothing it sends reaches the final name unverified (docs/defences.md), and
// what it may take of the receiver is bounded (docs/defences.md).
import { constantTimeEqual } from '../domain/bytes.js';
import { SecureTransferError, type ErrorCode, type Result } from '../domain/errors.js';
import { ACK_BATCH, ACK_DELAY_MS, CLOSE_LINGER_MS } from '../domain/limits.js';
import { defaultBurst } from '../domain/policy/token-bucket.js';
import { fingerprintOf } from '../domain/fingerprint.js';
import { formatPeer } from '../domain/peer-address.js';
import type { TransferClaim } from '../domain/policy/capacity.js';
import { ProgressRule, type ProgressRules } from '../domain/policy/progress-rule.js';
import type { AuditLog } from '../domain/ports/audit-log.js';
import type { Codec } from '../domain/ports/codec.js';
import type { Clock } from '../domain/ports/clock.js';
import type { CryptoPrimitives, KeyPair } from '../domain/ports/crypto-primitives.js';
import type { PartialFile, ReceiveFolder } from '../domain/ports/files.js';
import type { Logger } from '../domain/ports/logger.js';
import type { TransferRecord, TransferStore } from '../domain/ports/transfer-store.js';
import type { Connection } from '../domain/ports/transport.js';
import { decodeManifest, pieceRange, type Manifest } from '../domain/transfer/manifest.js';
import { piecesOf } from '../domain/transfer/piece-set.js';
import { initialReceiverState, receiverStep, type HeldPiece, type ReceiverEffect, type ReceiverEvent, type ReceiverState } from '../domain/transfer/receiver-machine.js';
import { judgeResume } from '../domain/transfer/resume-policy.js';
import { transferRootInput } from '../domain/transfer/transfer-root.js';
import { encodeAccept, encodeAck, encodeClose, encodeNack, encodeVerified, PIECE_HEADER_LENGTH, type PieceMessage } from '../domain/wire/messages.js';
import { AckBatcher } from './ack-batcher.js';
import type { BufferPool } from './buffer-pool.js';
import type { ClientAuthorization } from '../domain/ports/client-authorization.js';
import { DurablePieceSink } from './durable-piece-sink.js';
import { hashPiecesAhead, READS_AHEAD, READS_AHEAD_FROM_DISK, type PieceHashing } from './hash-pieces-ahead.js';
import { responderHandshake } from './handshake.js';
import { RateLimitedConnection } from './rate-limited-connection.js';
import { SecureChannel } from './secure-channel.js';

export interface ReceiveSessionDeps {
  readonly crypto: CryptoPrimitives;
  readonly codec: Codec;
  readonly clock: Clock;
  readonly store: TransferStore;
  readonly audit: AuditLog;
  readonly folder: ReceiveFolder;
  readonly logger: Logger;
  readonly identity: KeyPair;
  readonly clients: ClientAuthorization;
  /** Piece buffers shared by every session, bounded in bytes. */
  readonly pool: BufferPool;
}

export interface ReceiveSessionLimits {
  readonly maxTransferSize: number;
  /** ST_MAX_PAYLOAD_SIZE: the largest message, so the largest piece message, accepted. */
  readonly maxPayloadSize: number;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** ST_RATE_LIMIT_BYTES_PER_SEC; 0 means unlimited. Counts bytes read and bytes written to disk. */
  readonly rateLimitBytesPerSec: number;
  /** The least a session must move per interval after ACCEPT. */
  readonly progress: ProgressRules;
}

/** What a session claims of the receiver before it accepts a transfer: room on disk, and memory for its pieces. */
export interface AdmissionClaim extends TransferClaim {
  readonly pieceCount: number;
}

/** What a session asks of the server that runs it. */
export interface SessionHost {
  /** Claims the transfer id (on every receiver sharing the database), its disk space and its memory; a failure says which limit. */
  admit(claim: AdmissionClaim): Promise<Result<void>>;
  /** Bytes of the claimed transfer reached the disk. */
  wrote(transferId: string, bytes: number): void;
  /** Gives back what admit() took, the claim across receivers included (idempotent). */
  release(transferId: string, pieceCount: number): void;
  /** The handshake finished or failed: it no longer counts against the caps in progress. */
  handshakeEnded(): void;
  /** The session no longer counts against its source's connection cap (it only drains a CLOSE). */
  releaseSlot(): void;
  /** Whether the session may linger after its CLOSE (false when too many already do); endLinger() when done. */
  startLinger(): boolean;
  endLinger(): void;
}

export type SessionOutcome =
  | { readonly kind: 'handshake-failed'; readonly code: ErrorCode; readonly detail: string }
  | { readonly kind: 'refused'; readonly code: ErrorCode; readonly detail: string; readonly closedByPeer?: boolean }
  | { readonly kind: 'completed'; readonly transferId: string; readonly path: string }
  | {
      readonly kind: 'failed';
      readonly transferId: string;
      readonly code: ErrorCode;
      readonly detail: string;
      readonly closedByPeer?: boolean;
      /** A new transfer that got ACCEPT and never a piece: it leaves nothing behind but its audit. */
      readonly nothingWritten?: boolean;
    };

/** Bodies this large (pieces) are read into lent buffers; smaller messages are not worth it. */
const LEND_BODIES_FROM = 64 * 1024;
/** How long a session waits for a pool buffer before it checks whether it should stop. */
const POOL_WAIT_MS = 500;
/** Pool buffers one session may hold: a body being filled, one being written, one decompressed. */
const MAX_HELD_BUFFERS = 3;
/** A disk write that kept the session waiting this long pauses the progress rule for that interval. */
const DISK_WAIT_EXCUSE_MS = 1000;

function codeOf(e: unknown): ErrorCode {
  return e instanceof SecureTransferError ? e.code : 'E_INTERNAL';
}

export class ReceiveSession {
  private readonly channel: SecureChannel;
  private readonly connection: Connection;
  /** The rate limit, when there is one: decompressed bytes are charged to it too. */
  private readonly limiter: RateLimitedConnection | undefined;
  /** The connection without the rate limit, for discarding input after CLOSE. */
  private readonly raw: Connection;
  private readonly peer: string;
  private state: ReceiverState = initialReceiverState;
  private partial: PartialFile | undefined;
  private manifest: Manifest | undefined;
  private outcome: SessionOutcome | undefined;
  private interrupted = false;
  private handshakeExpired = false;
  /** Why the progress rule closed the session, once it did. */
  private tooSlow: string | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  /** This session created the transfer's record (not a resume): it removes it if no piece arrives. */
  private createdHere = false;
  /** Pieces this session wrote. */
  private piecesWritten = 0;
  /** Bytes decompression added: they count as progress and against the rate limit like bytes read. */
  private inflated = 0;
  /** The sender ended the session with its own CLOSE: its reason is no offence. */
  private closedByPeer = false;
  /** The partial file was created by this session (a new transfer), so it is this session's to remove. */
  private partialCreated = false;
  /** Set while the session waits on the receiver itself (a pool buffer, the disk): the progress rule pauses. */
  private waitingOnReceiver = 0;
  private waitedOnReceiver = false;
  private poolWasEmpty = false;
  /** Set once the transfer has a database record: failures after that are transfer failures. */
  private recorded = false;
  /** The current piece's decoded bytes, between decode-piece and store-piece. */
  private decoded: Uint8Array | undefined;
  private finalPath: string | undefined;
  /** The transfer this session claimed from its host, and its piece count. */
  private claimed: { readonly id: string; readonly pieceCount: number } | undefined;
  /** What the database held before this connection: a resume adds to it. */
  private earlier: TransferRecord | undefined;
  /** Writes pieces and makes them durable in batches, once the transfer is accepted. */
  private sink: DurablePieceSink | undefined;
  /**
   * Pool buffers this session holds. One goes back to the pool only when nothing refers to it
   * any more: at once for a piece that was decompressed, refused or NACKed, after its write for
   * raw data; whatever is left goes back when the session ends and its writes are done.
   */
  private readonly held = new Set<Uint8Array>();
  /** Set while the current piece's raw data waits for its write (its body must not be reused). */
  private bodyInWrite = false;
  /** ACKs wait here for company (ACK_BATCH); every other reply flushes them first. */
  private readonly replies: AckBatcher;
  /** A resume's read-back of the held pieces, running beside the reception of the missing ones. */
  private heldCheck: { readonly hashing: PieceHashing; readonly done: Promise<void> } | undefined;
  constructor(
    connection: Connection,
    private readonly deps: ReceiveSessionDeps,
    private readonly limits: ReceiveSessionLimits,
    private readonly host: SessionHost,
  ) {
    const rate = limits.rateLimitBytesPerSec;
    this.raw = connection;
    this.limiter = rate > 0 ? new RateLimitedConnection(connection, deps.clock, rate, defaultBurst(rate)) : undefined;
    this.connection = this.limiter ?? connection;
    this.channel = new SecureChannel(this.connection);
    this.peer = formatPeer(connection.remoteAddress, connection.remotePort);
    // A late batch that cannot be sent means the connection is gone: the main loop reads that too.
    this.replies = new AckBatcher((messages) => this.channel.sendMessages(messages), ACK_BATCH, ACK_DELAY_MS, (e) =>
      deps.logger.debug('could not send ACKs', { peer: this.peer, reason: (e as Error).message }),
    );
  }

  /** Ends the session from outside (shutdown): the transfer is left resumable, marked interrupted. */
  interrupt(): void {
    this.interrupted = true;
    this.connection.destroy();
  }

  async run(): Promise<SessionOutcome> {
    const { audit, clock } = this.deps;
    await audit.record({ type: 'connection.opened', at: clock.now(), peerAddress: this.peer });
    try {
      return await this.runProtocol();
    } finally {
      clearInterval(this.progressTimer);
      // The held-piece check reads the partial file and may still queue an ACK: it stops first.
      await this.heldCheck?.hashing.stop();
      await this.heldCheck?.done;
      this.replies.discard();
      this.channel.destroyKeys();
      await this.sink?.settled();
      await this.partial?.close().catch(() => undefined);
      await this.forgetIfEmpty();
      for (const buffer of this.held) this.deps.pool.give(buffer);
      this.held.clear();
      if (this.claimed) this.host.release(this.claimed.id, this.claimed.pieceCount);
      this.connection.destroy();
      await audit.record({ type: 'connection.closed', at: clock.now(), peerAddress: this.peer, detail: `${this.connection.bytesRead} bytes in, ${this.connection.bytesWritten} out` });
    }
  }

  /** This session created the transfer and wrote none of its pieces. */
  private startedWithoutPieces(): boolean {
    return this.createdHere && this.piecesWritten === 0;
  }

  /**
   * A transfer this session started that never got a piece leaves nothing behind: no partial
   * file and no record, so refused or abandoned sessions cannot pile them up.
   */
  private async forgetIfEmpty(): Promise<void> {
    const m = this.manifest;
    if (!m || !this.startedWithoutPieces() || this.outcome?.kind === 'completed') return;
    try {
      if (this.partialCreated) await this.deps.folder.discardPartial(m.transferId);
      await this.deps.store.delete(m.transferId, 'receiver');
    } catch (e) {
      this.deps.logger.error('could not remove an empty transfer', { transferId: m.transferId, reason: (e as Error).message });
    }
  }

  private async runProtocol(): Promise<SessionOutcome> {
    const { audit, clock, crypto } = this.deps;
    let handshake;
    // docs/defences.md: a deadline for the whole handshake, so a slow peer cannot hold a slot.
    const deadline = setTimeout(() => {
      this.handshakeExpired = true;
      this.connection.destroy();
    }, this.limits.handshakeTimeoutMs);
    try {
      handshake = await responderHandshake(this.channel, crypto, this.deps.identity);
    } catch (e) {
      const code = this.handshakeExpired ? 'E_TIMEOUT' : codeOf(e);
      const detail = code === 'E_TIMEOUT' ? `handshake not finished within ${this.limits.handshakeTimeoutMs} ms` : (e as Error).message;
      await audit.record({ type: 'handshake.failed', at: clock.now(), peerAddress: this.peer, code, detail });
      return { kind: 'handshake-failed', code, detail };
    } finally {
      clearTimeout(deadline);
      this.host.handshakeEnded();
    }
    this.connection.setIdleTimeout(this.limits.idleTimeoutMs);
    const clientFingerprint = fingerprintOf(handshake.clientKey, crypto.sha256);
    try {
      return await this.afterHandshake(handshake.payload, handshake.clientKey, clientFingerprint);
    } catch (e) {
      // Anything unexpected after the handshake (a file-system or database error) still ends as
      // a CLOSE with a reason and a record, never as an exception out of the session.
      if (!this.outcome) await this.apply({ type: 'failure', code: codeOf(e), detail: (e as Error).message, fromPeer: false }, clientFingerprint);
      return this.outcome ?? { kind: 'refused', code: codeOf(e), detail: (e as Error).message };
    }
  }

  private async afterHandshake(payload: Uint8Array, clientKey: Uint8Array, clientFingerprint: string): Promise<SessionOutcome> {
    const { audit, clock, crypto } = this.deps;
    const refusal = await this.authorize(clientKey, clientFingerprint);
    if (refusal) {
      await this.sendClose('E_UNTRUSTED_KEY', refusal.toPeer);
      await audit.record({ type: 'handshake.failed', at: clock.now(), peerAddress: this.peer, peerFingerprint: clientFingerprint, code: 'E_UNTRUSTED_KEY', detail: refusal.detail });
      return { kind: 'handshake-failed', code: 'E_UNTRUSTED_KEY', detail: refusal.detail };
    }
    await audit.record({ type: 'handshake.succeeded', at: clock.now(), peerAddress: this.peer, peerFingerprint: clientFingerprint });

    const decoded = decodeManifest(payload, { maxTransferSize: this.limits.maxTransferSize, maxPayloadSize: this.limits.maxPayloadSize });
    if (!decoded.ok) {
      await this.sendClose(decoded.code, decoded.detail);
      await audit.record({ type: 'error', at: clock.now(), peerAddress: this.peer, peerFingerprint: clientFingerprint, code: decoded.code, detail: `manifest refused: ${decoded.detail}` });
      return { kind: 'refused', code: decoded.code, detail: decoded.detail };
    }
    const manifest = decoded.value;
    this.manifest = manifest;
    const refuse = async (code: ErrorCode, detail: string): Promise<SessionOutcome> => {
      await this.sendClose(code, detail);
      // No transferId field: the id is the peer's choice and no record exists, so the event is
      // coalesced with the source's other refusals (docs/defences.md#audit).
      await audit.record({ type: 'error', at: clock.now(), peerAddress: this.peer, peerFingerprint: clientFingerprint, code, detail: `transfer ${manifest.transferId} refused: ${detail}` });
      return { kind: 'refused', code, detail };
    };
    let earlier: TransferRecord | undefined;
    try {
      earlier = await this.deps.store.get(manifest.transferId, 'receiver');
    } catch (e) {
      return refuse('E_UNAVAILABLE', `the receiver cannot read its database: ${(e as Error).message}`);
    }
    // The sender's key is judged before the id is claimed: whoever merely knows an id cannot
    // keep its owner's resume busy (docs/defences.md#resume).
    const judged = judgeResume(manifest, { earlier, clientFingerprint });
    if (!judged.ok) return refuse(judged.code, judged.detail);
    this.earlier = judged.value ? earlier : undefined; // a resume this receiver never recorded starts afresh
    let held = this.earlier ? (await this.deps.store.pieces(manifest.transferId, 'receiver')).filter((p) => p.index < manifest.pieceCount) : [];
    const nameTaken = await this.deps.folder.exists(manifest.fileName);
    if (!nameTaken) {
      // The partial file is sparse: only the bytes still to come need room (a damaged held piece
      // is written again where its bytes already are). The id is claimed before its partial
      // file is opened, so expiry cannot remove the file under a resume.
      const admitted = await this.admit(manifest, clientFingerprint, held);
      if (!admitted.ok) return refuse(admitted.code, admitted.detail);
      if (held.length > 0 && !(await this.deps.folder.hasPartial(manifest.transferId))) {
        // Recorded pieces without their file (removed by hand): everything comes again.
        held = [];
        this.host.release(manifest.transferId, manifest.pieceCount);
        this.claimed = undefined;
        const again = await this.admit(manifest, clientFingerprint, held);
        if (!again.ok) return refuse(again.code, again.detail);
      }
      if (held.length > 0) this.partial = await this.deps.folder.openPartial(manifest.transferId, false);
    }
    const refused = await this.apply({ type: 'manifest', manifest, nameTaken, held }, clientFingerprint);
    if (refused) return refused;
    this.startProgressRule();

    const limits = { maxPieceBody: PIECE_HEADER_LENGTH + manifest.pieceSize, maxAcceptBody: 0 };
    const bodies = {
      lend: (length: number): Uint8Array | undefined | 'wait' => (length < LEND_BODIES_FROM ? undefined : (this.lendBuffer() ?? 'wait')),
      wait: async () => {
        // Waiting for the shared pool is the receiver's doing; waiting for this session's own
        // buffers to come back from the disk is not.
        if (this.poolWasEmpty) this.waitedOnReceiver = true;
        await this.deps.pool.whenGiven(POOL_WAIT_MS);
        if (this.tooSlow !== undefined || this.interrupted) throw new SecureTransferError('E_CONNECTION_LOST', 'the session was closed while it waited for a buffer');
      },
    };
    try {
      while (!this.outcome) {
        const message = await this.channel.readMessage(limits, bodies);
        switch (message.type) {
          case 'piece':
            this.bodyInWrite = false;
            await this.apply({ type: 'piece', header: message.piece, dataLength: message.piece.data.length }, clientFingerprint, message.piece);
            if (!this.bodyInWrite) this.returnBody(message.piece.data);
            // Decoded bytes that were not handed to a write (a NACKed piece) go back at once.
            if (this.decoded) this.returnBody(this.decoded);
            this.decoded = undefined;
            break;
          case 'transfer-complete': {
            const computedRoot = crypto.sha256(transferRootInput(manifest.fileSize, piecesOf(this.state).allHashes()));
            await this.apply({ type: 'transfer-complete', declaredRoot: message.root, computedRoot }, clientFingerprint);
            break;
          }
          case 'close':
            this.closedByPeer = true;
            await this.apply({ type: 'failure', code: message.code, detail: `the sender closed the transfer: ${message.reason}`, fromPeer: true }, clientFingerprint);
            break;
          default:
            await this.apply({ type: 'failure', code: 'E_UNEXPECTED_MESSAGE', detail: `unexpected ${message.type} from the sender`, fromPeer: false }, clientFingerprint);
        }
      }
    } catch (e) {
      if (!this.outcome) {
        const code = this.interrupted ? 'E_INTERRUPTED' : this.tooSlow !== undefined ? 'E_TOO_SLOW' : codeOf(e);
        const detail = this.tooSlow ?? (e as Error).message;
        const lost = code === 'E_CONNECTION_LOST' || code === 'E_INTERRUPTED' || code === 'E_TIMEOUT' || code === 'E_TOO_SLOW';
        await this.apply({ type: 'failure', code, detail, fromPeer: lost }, clientFingerprint);
      }
    }
    return this.outcome!;
  }

  /**
   * After ACCEPT the session must keep moving bytes (docs/defences.md#slow-senders): an idle
   * timeout alone restarts on every record, so a trickle would hold the session for ever.
   */
  private startProgressRule(): void {
    const { clock } = this.deps;
    const moved = () => this.raw.bytesRead + this.raw.bytesWritten + this.inflated;
    const rule = new ProgressRule(this.limits.progress, clock.now(), moved());
    this.progressTimer = setInterval(() => {
      if (this.waitingOnReceiver > 0 || this.waitedOnReceiver) {
        // The receiver kept this session waiting (its pool, its disk): the interval says
        // nothing about the sender, so it starts again.
        this.waitedOnReceiver = false;
        rule.restart(clock.now(), moved());
        return;
      }
      const slow = rule.check(clock.now(), moved());
      if (slow === undefined || this.outcome) return;
      this.tooSlow = `too slow: ${slow}`;
      clearInterval(this.progressTimer);
      this.connection.destroy();
    }, this.limits.progress.intervalMs);
    this.progressTimer.unref();
  }

  /** Claims the transfer's id, disk space and memory from the host, for the bytes not held. */
  private async admit(m: Manifest, sender: string, held: readonly HeldPiece[]): Promise<Result<void>> {
    let heldBytes = 0;
    for (const p of held) heldBytes += pieceRange(m, p.index).length;
    const freeSpace = await this.deps.folder.freeSpace();
    const admitted = await this.host.admit({ transferId: m.transferId, sender, bytes: m.fileSize - heldBytes, freeSpace, pieceCount: m.pieceCount });
    if (admitted.ok) this.claimed = { id: m.transferId, pieceCount: m.pieceCount };
    return admitted;
  }

  /**
   * docs/requirements.md#pieces: held pieces are checked, never assumed. Each piece ACCEPT listed as held is read
   * back from the partial file and hashed while the missing pieces arrive; an intact one is
   * ACKed, one that no longer matches its record (a damaged or truncated file, or one that cannot
   * be read) is NACKed and comes again. The sender finishes only after every verdict.
   */
  private startHeldCheck(m: Manifest, fingerprint: string): void {
    const { crypto, logger } = this.deps;
    const pieces = piecesOf(this.state);
    const indexes = pieces.indexesIn('held');
    if (indexes.length === 0) return;
    const partial = this.partial!;
    // Reading one ahead checks about twice as fast as pieces arrive here: enough unless far more
    // is held than missing, where the check is what the transfer waits for.
    const readsAhead = indexes.length > 2 * pieces.countIn('missing') ? READS_AHEAD_FROM_DISK : READS_AHEAD;
    const hashing = hashPiecesAhead((offset, length, into) => partial.read(offset, length, into), m, indexes, crypto.sha256, readsAhead);
    const done = (async () => {
      let damaged = 0;
      for (const index of indexes) {
        const hash = await hashing.hashes.get(index)!.catch(() => undefined);
        if (this.outcome) return;
        const intact = hash !== undefined && constantTimeEqual(hash, piecesOf(this.state).hash(index));
        if (!intact) damaged++;
        await this.apply({ type: 'held-checked', index, intact }, fingerprint);
      }
      if (damaged > 0) {
        // Bytes that changed on this receiver's disk after they were recorded: worth an audit record.
        const detail = `${damaged} of ${indexes.length} recorded pieces no longer matched their records when read back; they are sent again`;
        logger.warn('resume: recorded pieces failed re-verification and are sent again', { transferId: m.transferId, recorded: indexes.length, damaged });
        await this.deps.audit.record({ type: 'error', at: this.deps.clock.now(), peerAddress: this.peer, transferId: m.transferId, peerFingerprint: fingerprint, code: 'E_HELD_PIECE_DAMAGED', detail });
      } else {
        logger.info('resume: every recorded piece read back intact', { transferId: m.transferId, recorded: indexes.length });
      }
    })().catch((e: unknown) => {
      // A verdict that cannot be sent means the connection is gone: the main loop reads that too
      // and ends the session with its reason.
      logger.debug('resume: the held-piece check stopped', { transferId: m.transferId, reason: (e as Error).message });
    });
    this.heldCheck = { hashing, done };
  }

  /** Bytes on the network for this transfer: earlier attempts plus this connection. */
  private wireBytes(): number {
    return (this.earlier?.wireBytes ?? 0) + this.connection.bytesRead + this.connection.bytesWritten;
  }

  /** The allow-list decision; a list that cannot be read refuses (fail closed). */
  private async authorize(clientKey: Uint8Array, fingerprint: string): Promise<{ detail: string; toPeer: string } | undefined> {
    const toPeer = `this receiver does not accept the key ${fingerprint}`;
    try {
      if (await this.deps.clients.allows(clientKey)) return undefined;
      return { detail: `client key ${fingerprint} is not on the allow-list`, toPeer };
    } catch (e) {
      this.deps.logger.error('allow-list unreadable: refusing the client', { peer: this.peer, reason: (e as Error).message });
      return { detail: `allow-list unreadable, client refused: ${(e as Error).message}`, toPeer };
    }
  }

  /** Steps the machine and carries out its effects, which may feed further events. */
  private async apply(first: ReceiverEvent, fingerprint: string, piece?: PieceMessage): Promise<SessionOutcome | undefined> {
    const events: ReceiverEvent[] = [first];
    while (events.length > 0 && !this.outcome) {
      const step = receiverStep(this.state, events.shift()!);
      this.state = step.state;
      for (const effect of step.effects) {
        const next = await this.perform(effect, fingerprint, piece);
        if (next) events.push(next);
      }
    }
    return this.outcome?.kind === 'refused' ? this.outcome : undefined;
  }

  private async perform(effect: ReceiverEffect, fingerprint: string, piece?: PieceMessage): Promise<ReceiverEvent | undefined> {
    const { store, audit, clock, crypto, codec, folder } = this.deps;
    const m = this.manifest!;
    switch (effect.type) {
      case 'accept': {
        const now = clock.now();
        const heldCount = piecesOf(this.state).countIn('held');
        const held = { pieces: heldCount, bytes: m.fileSize - this.missingBytes() };
        // The record first: a database that cannot write refuses the transfer before any file
        // exists (docs/defences.md#database).
        try {
          if (this.earlier) {
            await store.update(m.transferId, 'receiver', {
              status: 'in-progress',
              piecesDone: held.pieces,
              bytesDone: held.bytes,
              peerAddress: this.peer,
              attempts: this.earlier.attempts + 1,
              errorCode: null,
              errorDetail: null,
              updatedAt: now,
            });
          } else {
            await store.create({
              id: m.transferId,
              role: 'receiver',
              fileName: m.fileName,
              localPath: folder.path,
              fileSize: m.fileSize,
              pieceSize: m.pieceSize,
              pieceCount: m.pieceCount,
              compression: m.compression,
              status: 'in-progress',
              piecesDone: 0,
              bytesDone: 0,
              wireBytes: 0,
              peerAddress: this.peer,
              peerFingerprint: fingerprint,
              createdAt: now,
              updatedAt: now,
              completedAt: null,
              errorCode: null,
              errorDetail: null,
              sourceModifiedAt: null,
              attempts: 1,
            });
            this.createdHere = true;
          }
        } catch (e) {
          this.deps.logger.error('cannot record a transfer: refusing it', { transferId: m.transferId, reason: (e as Error).message });
          return { type: 'failure', code: 'E_UNAVAILABLE', detail: `the receiver cannot record transfers right now (${(e as Error).message}); try again later`, fromPeer: false };
        }
        try {
          // A new transfer's partial file must not exist yet: whatever sits under its name
          // (a planted file or link) is refused, never opened or followed.
          if (!this.partial) {
            this.partial = await folder.openPartial(m.transferId, !this.earlier);
            this.partialCreated = !this.earlier;
          }
        } catch (e) {
          return { type: 'failure', code: codeOf(e), detail: (e as Error).message, fromPeer: false };
        }
        this.sink = new DurablePieceSink(
          this.partial,
          (batch, totals, extra) =>
            store.recordPieces(m.transferId, 'receiver', batch, { piecesDone: totals.pieces, bytesDone: totals.bytes, wireBytes: this.wireBytes(), updatedAt: clock.now(), ...extra }),
          clock,
          held,
        );
        if (this.earlier) {
          await audit.record({ type: 'transfer.resumed', at: now, peerAddress: this.peer, transferId: m.transferId, peerFingerprint: fingerprint, detail: `"${m.fileName}": recorded ${heldCount} of ${m.pieceCount} pieces, read back while the rest arrives` });
        } else {
          await audit.record({ type: 'transfer.started', at: now, peerAddress: this.peer, transferId: m.transferId, peerFingerprint: fingerprint, detail: `"${m.fileName}", ${m.fileSize} bytes in ${m.pieceCount} pieces` });
        }
        this.recorded = true;
        await this.channel.sendMessages([encodeAccept(m.pieceCount, effect.held, effect.heldHashes)]);
        this.startHeldCheck(m, fingerprint);
        return undefined;
      }
      case 'confirm-held':
        // Already recorded by the attempt that wrote it: only the sender needs telling.
        await this.sendAck(effect.index);
        return undefined;
      case 'held-damaged':
        this.sink!.dropHeld(pieceRange(m, effect.index).length);
        await this.replies.flush([encodeNack(effect.index, 'E_HELD_PIECE_DAMAGED')]);
        return undefined;
      case 'decode-piece': {
        const p = piece!;
        let data: Uint8Array;
        try {
          if (effect.compressed) {
            // Decompressed into a pool buffer too (or, with the pool taken, a buffer of its own:
            // waiting here could deadlock sessions that each hold a body); it goes back after
            // its write like a raw body.
            const into = this.lendBuffer() ?? new Uint8Array(PIECE_HEADER_LENGTH + m.pieceSize);
            try {
              data = codec.decompress(p.data, effect.maxLength, into);
            } catch (e) {
              this.returnBody(into);
              throw e;
            }
            // An adapter that allocates its own result leaves the lent buffer unused.
            if (data.buffer !== into.buffer) this.returnBody(into);
            // The rate limit holds for bytes written as well as read: what decompression adds
            // is charged too, so pieces of zeros cost the sender what they cost the disk.
            this.inflated += data.length - p.data.length;
            await this.limiter?.charge(data.length - p.data.length);
          } else {
            data = p.data;
          }
        } catch (e) {
          return { type: 'failure', code: 'E_DECOMPRESS', detail: `piece ${p.index}: ${(e as Error).message}`, fromPeer: false };
        }
        this.decoded = data;
        return { type: 'piece-decoded', index: p.index, length: data.length, computedHash: crypto.sha256(data), declaredHash: p.hash };
      }
      case 'store-piece': {
        const data = this.decoded!;
        try {
          // Raw data is a view of the lent body: it goes back only once its write is done (and
          // decompressed data's buffer likewise, while the compressed body goes back at once).
          if (data.buffer === piece?.data.buffer) this.bodyInWrite = true;
          const started = clock.now();
          this.waitingOnReceiver++;
          try {
            await this.sink!.write(effect.offset, data, () => this.returnBody(data));
          } finally {
            this.waitingOnReceiver--;
            // Only a disk that really held the session up excuses the interval.
            if (clock.now() - started >= DISK_WAIT_EXCUSE_MS) this.waitedOnReceiver = true;
          }
        } catch (e) {
          return { type: 'failure', code: 'E_IO', detail: `cannot write the partial file: ${(e as Error).message}`, fromPeer: false };
        }
        this.piecesWritten++;
        this.host.wrote(m.transferId, data.length);
        this.decoded = undefined;
        return { type: 'piece-stored', index: effect.index };
      }
      case 'ack': {
        // ACK means verified and handed to the disk; durability follows in batches
        // (DURABLE_BATCH_*), and a resume asks the receiver what it holds, never the ACK count.
        this.sink!.add({ index: effect.index, hash: Uint8Array.from(piecesOf(this.state).hash(effect.index)) }, pieceRange(m, effect.index).length);
        await this.sendAck(effect.index);
        return undefined;
      }
      case 'nack':
        await this.replies.flush([encodeNack(effect.index, effect.code)]);
        return undefined;
      case 'finalize': {
        try {
          // Every piece durable and recorded (the last sync covers the whole file) before the link.
          await this.sink!.flush();
          await this.partial!.close();
          this.partial = undefined;
          this.finalPath = await folder.finalize(m.transferId, m.fileName);
        } catch (e) {
          return { type: 'failure', code: codeOf(e), detail: (e as Error).message, fromPeer: false };
        }
        return { type: 'finalized' };
      }
      case 'send-verified': {
        const now = clock.now();
        // The file is complete and under its name: a record that cannot be written is logged,
        // and the sender still hears VERIFIED.
        await store
          .update(m.transferId, 'receiver', { status: 'completed', localPath: this.finalPath!, wireBytes: this.wireBytes(), completedAt: now, updatedAt: now })
          .catch((e: unknown) => this.deps.logger.error('could not record a completed transfer', { transferId: m.transferId, reason: (e as Error).message }));
        await audit.record({ type: 'transfer.completed', at: now, peerAddress: this.peer, transferId: m.transferId, peerFingerprint: fingerprint, detail: this.finalPath });
        await this.replies.flush([encodeVerified(effect.root)]).catch(() => undefined);
        await this.connection.end().catch(() => undefined);
        this.outcome = { kind: 'completed', transferId: m.transferId, path: this.finalPath! };
        return undefined;
      }
      case 'abort': {
        if (effect.notifyPeer) await this.sendClose(effect.code, effect.detail);
        const now = clock.now();
        if (this.recorded) {
          const status = effect.code === 'E_INTERRUPTED' ? 'interrupted' : 'failed';
          // Pieces written so far are verified: make them durable so a resume keeps them.
          try {
            if (!this.sink) throw new Error('no pieces were accepted');
            await this.sink.flush({ status, errorCode: effect.code, errorDetail: effect.detail });
          } catch (e) {
            this.deps.logger.error('could not record the held pieces of a failed transfer', { transferId: m.transferId, reason: (e as Error).message });
            await store
              .update(m.transferId, 'receiver', { status, errorCode: effect.code, errorDetail: effect.detail, wireBytes: this.wireBytes(), updatedAt: now })
              .catch((again: unknown) => this.deps.logger.error('could not record a failed transfer', { transferId: m.transferId, reason: (again as Error).message }));
          }
          await audit.record({ type: 'transfer.failed', at: now, peerAddress: this.peer, transferId: m.transferId, peerFingerprint: fingerprint, code: effect.code, detail: effect.detail });
          this.outcome = { kind: 'failed', transferId: m.transferId, code: effect.code, detail: effect.detail, closedByPeer: this.closedByPeer, nothingWritten: this.startedWithoutPieces() };
        } else {
          await audit.record({ type: 'error', at: now, peerAddress: this.peer, transferId: m.transferId, peerFingerprint: fingerprint, code: effect.code, detail: `transfer refused: ${effect.detail}` });
          this.outcome = { kind: 'refused', code: effect.code, detail: effect.detail, closedByPeer: this.closedByPeer };
        }
        return undefined;
      }
      default: {
        const exhaustive: never = effect;
        return exhaustive;
      }
    }
  }

  /** ACKs wait for company, except the last one the sender waits for before TRANSFER_COMPLETE. */
  private async sendAck(index: number): Promise<void> {
    if (piecesOf(this.state).allDone) await this.replies.flush([encodeAck(index)]);
    else await this.replies.add(encodeAck(index));
  }

  /** A piece-sized buffer from the shared pool, to be given back with returnBody; undefined when the pool has none now. */
  private lendBuffer(): Uint8Array | undefined {
    // One session can never hold the pool: beyond its share it waits for its own buffers.
    if (this.held.size >= MAX_HELD_BUFFERS) {
      this.poolWasEmpty = false;
      return undefined;
    }
    const buffer = this.deps.pool.take(PIECE_HEADER_LENGTH + this.manifest!.pieceSize);
    this.poolWasEmpty = buffer === undefined;
    if (buffer) this.held.add(buffer);
    return buffer;
  }

  /** Gives a pool buffer back (a view of it is enough); others are left to the collector. */
  private returnBody(view: Uint8Array): void {
    for (const buffer of this.held) {
      if (buffer.buffer !== view.buffer) continue;
      this.held.delete(buffer);
      this.deps.pool.give(buffer);
      return;
    }
  }

  /** Bytes of the pieces neither held nor done. */
  private missingBytes(): number {
    const m = this.manifest!;
    const pieces = piecesOf(this.state);
    let missing = 0;
    for (let i = 0; i < m.pieceCount; i++) if (pieces.state(i) !== 'done' && pieces.state(i) !== 'held') missing += pieceRange(m, i).length;
    return missing;
  }

  private async sendClose(code: ErrorCode, detail: string): Promise<void> {
    try {
      await this.replies.flush([encodeClose(code, detail)]);
      // Draining the CLOSE no longer counts against the source's connection cap.
      this.host.releaseSlot();
      // Linger before the FIN too: a middlebox that tears down both directions on a half-close
      // would otherwise reset the sender before it reads the CLOSE (seen with a test proxy).
      await this.linger();
      await this.connection.end();
    } catch (e) {
      this.deps.logger.debug('could not deliver CLOSE', { peer: this.peer, code, reason: (e as Error).message });
    }
  }

  /**
   * After CLOSE, reads and discards what the peer still sends, until it closes or for at most
   * CLOSE_LINGER_MS. Closing a socket with unread data makes the kernel send a reset, and a reset
   * can make the peer's kernel drop the CLOSE before the peer reads it: the peer would learn
   * "connection lost" instead of the reason.
   */
  private async linger(): Promise<void> {
    const { clock } = this.deps;
    // Lingering sockets no longer count against their source: their number is bounded here.
    if (!this.host.startLinger()) return;
    try {
      const end = clock.now() + CLOSE_LINGER_MS;
      // A silent peer ends the wait through the idle timeout, a chatty one through the deadline.
      this.raw.setIdleTimeout(CLOSE_LINGER_MS);
      while (clock.now() < end) {
        const chunk = await this.raw.read().catch(() => null);
        if (chunk === null) return;
      }
    } finally {
      this.host.endLinger();
    }
  }
}
