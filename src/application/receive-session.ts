// One connection on the receiver, top to bottom: handshake, the sender's key, the manifest and its
// admission, ACCEPT, pieces, the whole-file check, the final name. Everything the peer does wrong
// ends as a CLOSE with a reason, a failed transfer record and an audit event; nothing it sends
// reaches the final name unverified, and what it may take of the receiver is bounded
// (docs/defences.md).
import { fail, ok, SecureTransferError, type ErrorCode, type Result } from '../domain/errors.js';
import { ACK_BATCH, ACK_DELAY_MS } from '../domain/limits.js';
import { fingerprintOf } from '../domain/fingerprint.js';
import { formatPeer } from '../domain/peer-address.js';
import { defaultBurst } from '../domain/policy/token-bucket.js';
import type { PartialFile } from '../domain/ports/files.js';
import type { Connection } from '../domain/ports/transport.js';
import { pieceRange } from '../domain/transfer/manifest.js';
import type { ReceivingTransfer } from '../domain/transfer/receiving-transfer.js';
import { transferRootInput } from '../domain/transfer/transfer-root.js';
import { encodeAccept, encodeAck, encodeNack, encodeVerified, PIECE_HEADER_LENGTH } from '../domain/wire/messages.js';
import { AckBatcher } from './ack-batcher.js';
import { DurablePieceSink } from './durable-piece-sink.js';
import { responderHandshake } from './handshake.js';
import { READS_AHEAD, READS_AHEAD_FROM_DISK } from './hash-pieces-ahead.js';
import { checkHeldPieces, type HeldPieceCheck } from './held-piece-check.js';
import { PieceIntake } from './piece-intake.js';
import { ProgressWatch } from './progress-watch.js';
import { RateLimitedConnection } from './rate-limited-connection.js';
import { SecureChannel } from './secure-channel.js';
import { SessionBuffers } from './session-buffers.js';
import { closeWithReason } from './session-close.js';
import type { ReceiveSessionDeps, ReceiveSessionLimits, SessionHost, SessionOutcome } from './session-host.js';
import { TransferAdmission } from './transfer-admission.js';
import { TransferRecords } from './transfer-records.js';

/** Bodies this large (pieces) are read into lent buffers; smaller messages are not worth it. */
const LEND_BODIES_FROM = 64 * 1024;
/** How long a session waits for a pool buffer before it checks whether it should stop. */
const POOL_WAIT_MS = 500;
/** Codes that mean the connection is gone: there is nobody to send a CLOSE to. */
const CONNECTION_GONE: readonly ErrorCode[] = ['E_CONNECTION_LOST', 'E_INTERRUPTED', 'E_TIMEOUT', 'E_TOO_SLOW'];

function codeOf(e: unknown): ErrorCode {
  return e instanceof SecureTransferError ? e.code : 'E_INTERNAL';
}

/** What exists once a transfer is accepted. */
interface Accepted {
  readonly transfer: ReceivingTransfer;
  readonly records: TransferRecords;
  readonly partial: PartialFile;
  readonly sink: DurablePieceSink;
  readonly intake: PieceIntake;
}

export class ReceiveSession {
  private readonly channel: SecureChannel;
  /** The connection the session reads and writes through (rate-limited when there is a limit). */
  private readonly connection: Connection;
  /** The rate limit, when there is one: decompressed bytes are charged to it too. */
  private readonly limiter: RateLimitedConnection | undefined;
  /** The connection without the rate limit, for discarding input after CLOSE. */
  private readonly raw: Connection;
  private readonly peer: string;
  /** ACKs wait here for company (ACK_BATCH); every other reply flushes them first. */
  private readonly replies: AckBatcher;
  private readonly admission: TransferAdmission;
  /** Why the session was stopped from outside its read loop (shutdown, the progress rule, a failed check). */
  private stopped: { readonly code: ErrorCode; readonly detail: string } | undefined;
  private outcome: SessionOutcome | undefined;
  /** The sender ended the session with its own CLOSE: its reason is no offence. */
  private closedByPeer = false;
  /** Set once the transfer has a record, a partial file and its ACCEPT on the way. */
  private accepted: Accepted | undefined;
  /** A record this session made, until ACCEPT: removed again if the transfer gets no piece. */
  private records: TransferRecords | undefined;
  private partial: PartialFile | undefined;
  /** The partial file was created by this session for a new transfer, so it is this session's to remove. */
  private partialCreated = false;
  private buffers: SessionBuffers | undefined;
  private progress: ProgressWatch | undefined;
  private heldCheck: { readonly check: HeldPieceCheck; readonly done: Promise<void> } | undefined;

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
    // A late batch that cannot be sent means the connection is gone: the read loop sees that too.
    this.replies = new AckBatcher((messages) => this.channel.sendMessages(messages), ACK_BATCH, ACK_DELAY_MS, (e) =>
      deps.logger.debug('could not send ACKs', { peer: this.peer, reason: (e as Error).message }),
    );
    this.admission = new TransferAdmission(deps, limits, host);
  }

  /** Ends the session from outside (shutdown): the transfer is left resumable, marked interrupted. */
  interrupt(): void {
    this.stop('E_INTERRUPTED', 'the receiver is shutting down');
  }

  async run(): Promise<SessionOutcome> {
    const { audit, clock } = this.deps;
    await audit.record({ type: 'connection.opened', at: clock.now(), peerAddress: this.peer });
    try {
      return await this.runProtocol();
    } finally {
      this.progress?.stop();
      // The held-piece check reads the partial file and may still queue an ACK: it stops first.
      await this.heldCheck?.check.stop();
      await this.heldCheck?.done;
      this.replies.discard();
      this.channel.destroyKeys();
      await this.accepted?.sink.settled();
      await this.partial?.close().catch(() => undefined);
      await this.forgetIfEmpty();
      this.buffers?.giveBackAll();
      this.admission.release();
      this.connection.destroy();
      await audit.record({ type: 'connection.closed', at: clock.now(), peerAddress: this.peer, detail: `${this.connection.bytesRead} bytes in, ${this.connection.bytesWritten} out` });
    }
  }

  private async runProtocol(): Promise<SessionOutcome> {
    const { audit, clock, crypto } = this.deps;
    let handshake;
    let expired = false;
    // docs/defences.md: a deadline for the whole handshake, so a slow peer cannot hold a slot.
    const deadline = setTimeout(() => {
      expired = true;
      this.connection.destroy();
    }, this.limits.handshakeTimeoutMs);
    try {
      handshake = await responderHandshake(this.channel, crypto, this.deps.identity);
    } catch (e) {
      const code = expired ? 'E_TIMEOUT' : codeOf(e);
      const detail = expired ? `handshake not finished within ${this.limits.handshakeTimeoutMs} ms` : (e as Error).message;
      await audit.record({ type: 'handshake.failed', at: clock.now(), peerAddress: this.peer, code, detail });
      return { kind: 'handshake-failed', code, detail };
    } finally {
      clearTimeout(deadline);
      this.host.handshakeEnded();
    }
    this.connection.setIdleTimeout(this.limits.idleTimeoutMs);
    const fingerprint = fingerprintOf(handshake.clientKey, crypto.sha256);
    try {
      return await this.afterHandshake(handshake.payload, handshake.clientKey, fingerprint);
    } catch (e) {
      // Anything unexpected after the handshake (a file-system or database error) still ends as
      // a CLOSE with a reason and a record, never as an exception out of the session.
      return this.end(codeOf(e), (e as Error).message, fingerprint);
    }
  }

  private async afterHandshake(payload: Uint8Array, clientKey: Uint8Array, fingerprint: string): Promise<SessionOutcome> {
    const { audit, clock } = this.deps;
    const untrusted = await this.authorize(clientKey, fingerprint);
    if (untrusted) {
      await this.close('E_UNTRUSTED_KEY', untrusted.toPeer);
      await audit.record({ type: 'handshake.failed', at: clock.now(), peerAddress: this.peer, peerFingerprint: fingerprint, code: 'E_UNTRUSTED_KEY', detail: untrusted.detail });
      return { kind: 'handshake-failed', code: 'E_UNTRUSTED_KEY', detail: untrusted.detail };
    }
    await audit.record({ type: 'handshake.succeeded', at: clock.now(), peerAddress: this.peer, peerFingerprint: fingerprint });
    const admitted = await this.admission.admit(payload, fingerprint);
    if (!admitted.ok) {
      await this.close(admitted.code, admitted.detail);
      // No transferId field: the id is the peer's choice and no record exists, so the event is
      // coalesced with the source's other refusals (docs/defences.md#audit).
      await audit.record({ type: 'error', at: clock.now(), peerAddress: this.peer, peerFingerprint: fingerprint, code: admitted.code, detail: admitted.auditDetail });
      return { kind: 'refused', code: admitted.code, detail: admitted.detail };
    }
    const { transfer, earlier } = admitted.value;
    this.partial = admitted.value.partial;
    const records = new TransferRecords(this.deps, transfer.manifest, this.peer, fingerprint, earlier, () => this.connection.bytesRead + this.connection.bytesWritten);
    const accepted = await this.accept(transfer, records);
    if (!accepted.ok) return this.end(accepted.code, accepted.detail, fingerprint, transfer);
    return this.receive(accepted.value, fingerprint);
  }

  /** The record first, then the partial file, then ACCEPT: a database that cannot write refuses before any file exists. */
  private async accept(transfer: ReceivingTransfer, records: TransferRecords): Promise<Result<Accepted>> {
    const { clock, crypto, codec, folder } = this.deps;
    const m = transfer.manifest;
    const heldCount = transfer.pieces.countIn('held');
    const held = { pieces: heldCount, bytes: m.fileSize - transfer.missingBytes() };
    const opened = await records.open(folder.path, held);
    if (!opened.ok) return opened;
    this.records = records;
    if (!this.partial) {
      // A new transfer's partial file must not exist yet: whatever sits under its name (a
      // planted file or link) is refused, never opened or followed.
      const create = !records.isResume || !(await folder.hasPartial(m.transferId));
      try {
        this.partial = await folder.openPartial(m.transferId, create);
      } catch (e) {
        return fail(codeOf(e), (e as Error).message);
      }
      this.partialCreated = !records.isResume;
    }
    const partial = this.partial;
    const sink = new DurablePieceSink(partial, (batch, totals, extra) => records.recordBatch(batch, totals, extra), clock, held);
    const buffers = new SessionBuffers(this.deps.pool, PIECE_HEADER_LENGTH + m.pieceSize);
    this.buffers = buffers;
    const progress = new ProgressWatch(this.limits.progress, clock, () => this.raw.bytesRead + this.raw.bytesWritten + intake.inflated, (detail) => this.stop('E_TOO_SLOW', detail));
    this.progress = progress;
    const intake: PieceIntake = new PieceIntake({
      transfer,
      codec,
      sha256: crypto.sha256,
      sink,
      buffers,
      progress,
      limiter: this.limiter,
      ack: (index) => this.ack(transfer, index),
      nack: (message) => this.replies.flush([message]),
      wrote: (bytes) => this.host.wrote(m.transferId, bytes),
    });
    await records.started(heldCount);
    this.accepted = { transfer, records, partial, sink, intake };
    const offer = transfer.accepted();
    await this.channel.sendMessages([encodeAccept(m.pieceCount, offer.held, offer.heldHashes)]);
    this.startHeldCheck(this.accepted);
    progress.start();
    return ok(this.accepted);
  }

  /** Pieces until TRANSFER_COMPLETE, the sender's CLOSE, or the end of the connection. */
  private async receive(a: Accepted, fingerprint: string): Promise<SessionOutcome> {
    const m = a.transfer.manifest;
    const limits = { maxPieceBody: PIECE_HEADER_LENGTH + m.pieceSize, maxAcceptBody: 0 };
    const bodies = {
      lend: (length: number): Uint8Array | undefined | 'wait' => (length < LEND_BODIES_FROM ? undefined : (this.buffers!.lend() ?? 'wait')),
      wait: async () => {
        // Waiting for the shared pool is the receiver's doing; waiting for this session's own
        // buffers to come back from the disk is not.
        if (this.buffers!.lastWaitWasThePool) this.progress!.excuse();
        await this.buffers!.whenGiven(POOL_WAIT_MS);
        if (this.stopped) throw new SecureTransferError('E_CONNECTION_LOST', 'the session was closed while it waited for a buffer');
      },
    };
    try {
      for (;;) {
        const message = await this.channel.readMessage(limits, bodies);
        switch (message.type) {
          case 'piece': {
            const taken = await a.intake.take(message.piece);
            if (!taken.ok) return await this.end(taken.code, taken.detail, fingerprint, a.transfer);
            break;
          }
          case 'transfer-complete':
            return await this.finish(a, message.root, fingerprint);
          case 'close':
            this.closedByPeer = true;
            return await this.end(message.code, `the sender closed the transfer: ${message.reason}`, fingerprint, a.transfer);
          default:
            return await this.end('E_UNEXPECTED_MESSAGE', `unexpected ${message.type} from the sender`, fingerprint, a.transfer);
        }
      }
    } catch (e) {
      const why = this.stopped ?? { code: codeOf(e), detail: (e as Error).message };
      return this.end(why.code, why.detail, fingerprint, a.transfer);
    }
  }

  /** TRANSFER_COMPLETE: the whole-file check, every piece durable, the final name, VERIFIED. */
  private async finish(a: Accepted, declaredRoot: Uint8Array, fingerprint: string): Promise<SessionOutcome> {
    const { crypto, folder } = this.deps;
    const m = a.transfer.manifest;
    const root = crypto.sha256(transferRootInput(m.fileSize, a.transfer.pieces.allHashes()));
    const complete = a.transfer.complete(declaredRoot, root);
    if (!complete.ok) return this.end(complete.code, complete.detail, fingerprint, a.transfer);
    let path: string;
    try {
      // Every piece durable and recorded (the last sync covers the whole file) before the link.
      await a.sink.flush();
      await a.partial.close();
      this.partial = undefined;
      path = await folder.finalize(m.transferId, m.fileName);
    } catch (e) {
      return this.end(codeOf(e), (e as Error).message, fingerprint, a.transfer);
    }
    await a.records.completed(path);
    await this.replies.flush([encodeVerified(root)]).catch(() => undefined);
    await this.connection.end().catch(() => undefined);
    this.outcome = { kind: 'completed', transferId: m.transferId, path };
    return this.outcome;
  }

  /**
   * Ends the transfer: tells the peer why (unless it told us, or the connection is gone) and
   * records the failure; a transfer that never reached ACCEPT is a refusal.
   */
  private async end(code: ErrorCode, detail: string, fingerprint: string, transfer?: ReceivingTransfer): Promise<SessionOutcome> {
    if (this.outcome) return this.outcome;
    const { audit, clock } = this.deps;
    if (!this.closedByPeer && !CONNECTION_GONE.includes(code)) await this.close(code, detail);
    const a = this.accepted;
    if (a) {
      await a.records.failed(code, detail, a.sink);
      this.outcome = { kind: 'failed', transferId: a.transfer.manifest.transferId, code, detail, closedByPeer: this.closedByPeer, nothingWritten: this.startedWithoutPieces() };
    } else {
      await audit.record({ type: 'error', at: clock.now(), peerAddress: this.peer, transferId: transfer?.manifest.transferId, peerFingerprint: fingerprint, code, detail: `transfer refused: ${detail}` });
      this.outcome = { kind: 'refused', code, detail, closedByPeer: this.closedByPeer };
    }
    return this.outcome;
  }

  /** Stops the session from outside its read loop: the loop's read fails and ends it with this reason. */
  private stop(code: ErrorCode, detail: string): void {
    this.stopped ??= { code, detail };
    this.connection.destroy();
  }

  /** Reads back the held pieces beside the reception of the missing ones; the sender finishes only after every verdict. */
  private startHeldCheck(a: Accepted): void {
    const { crypto, logger } = this.deps;
    const { transfer, sink, records } = a;
    const m = transfer.manifest;
    const indexes = transfer.pieces.indexesIn('held');
    if (indexes.length === 0) return;
    // Reading one ahead checks about twice as fast as pieces arrive here: enough unless far more
    // is held than missing, where the check is what the transfer waits for.
    const readsAhead = indexes.length > 2 * transfer.pieces.countIn('missing') ? READS_AHEAD_FROM_DISK : READS_AHEAD;
    const check = checkHeldPieces(a.partial, m, indexes, (i) => transfer.pieces.hash(i), crypto.sha256, readsAhead);
    const done = (async () => {
      let damaged = 0;
      for await (const { index, intact } of check.verdicts) {
        if (this.outcome || this.stopped) return;
        const verdict = transfer.heldChecked(index, intact);
        if (!verdict.ok) return this.stop(verdict.code, verdict.detail);
        if (verdict.value === 'confirm') {
          await this.ack(transfer, index);
          continue;
        }
        damaged++;
        sink.dropHeld(pieceRange(m, index).length);
        await this.replies.flush([encodeNack(index, 'E_HELD_PIECE_DAMAGED')]);
      }
      if (damaged === 0) return logger.info('resume: every recorded piece read back intact', { transferId: m.transferId, recorded: indexes.length });
      logger.warn('resume: recorded pieces failed re-verification and are sent again', { transferId: m.transferId, recorded: indexes.length, damaged });
      await records.heldDamaged(damaged, indexes.length);
    })().catch((e: unknown) => {
      // A verdict that cannot be sent means the connection is gone: the read loop sees that too
      // and ends the session with its reason.
      logger.debug('resume: the held-piece check stopped', { transferId: m.transferId, reason: (e as Error).message });
    });
    this.heldCheck = { check, done };
  }

  /** ACKs wait for company, except the last one the sender waits for before TRANSFER_COMPLETE. */
  private async ack(transfer: ReceivingTransfer, index: number): Promise<void> {
    if (transfer.pieces.allDone) await this.replies.flush([encodeAck(index)]);
    else await this.replies.add(encodeAck(index));
  }

  private close(code: ErrorCode, detail: string): Promise<void> {
    const { clock, logger } = this.deps;
    return closeWithReason({ replies: this.replies, host: this.host, raw: this.raw, connection: this.connection, clock, logger, peer: this.peer }, code, detail);
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

  /** This session made the transfer's record and wrote none of its pieces. */
  private startedWithoutPieces(): boolean {
    return (this.records?.madeHere ?? false) && (this.accepted?.intake.written ?? 0) === 0;
  }

  /**
   * A transfer this session started that never got a piece leaves nothing behind: no partial
   * file and no record, so refused or abandoned sessions cannot pile them up.
   */
  private async forgetIfEmpty(): Promise<void> {
    const records = this.records;
    if (!records || !this.startedWithoutPieces() || this.outcome?.kind === 'completed') return;
    try {
      if (this.partialCreated) await this.deps.folder.discardPartial(records.transferId);
      await records.forget();
    } catch (e) {
      this.deps.logger.error('could not remove an empty transfer', { transferId: records.transferId, reason: (e as Error).message });
    }
  }
}
