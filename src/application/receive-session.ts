// One connection on the receiver, top to bottom: handshake, the sender's key, the manifest and its
// admission, ACCEPT, pieces, the whole-file check, the final name. Everything the peer does wrong
// ends as a CLOSE with a reason, a failed transfer record and an audit event; nothing it sends
// reaches the final name unverified, and what it may take of the receiver is bounded
// (docs/defences.md).
import { failureOf, SecureTransferError, type ErrorCode } from '../domain/errors.js';
import { ACK_BATCH, ACK_DELAY_MS } from '../domain/limits.js';
import { fingerprintOf } from '../domain/fingerprint.js';
import { formatPeer } from '../domain/peer-address.js';
import { defaultBurst } from '../domain/policy/token-bucket.js';
import type { Connection } from '../domain/ports/transport.js';
import type { ReceivingTransfer } from '../domain/transfer/receiving-transfer.js';
import { encodeAck, encodeVerified, PIECE_HEADER_LENGTH } from '../domain/wire/messages.js';
import { AckBatcher } from './ack-batcher.js';
import { responderHandshakeWithin } from './handshake.js';
import { UNTIMED } from './pipeline-waits.js';
import { RateLimitedConnection } from './rate-limited-connection.js';
import { SecureChannel } from './secure-channel.js';
import { closeWithReason } from './session-close.js';
import { SessionTransfer, type Accepted } from './session-transfer.js';
import type { ReceiveSessionDeps, ReceiveSessionLimits, SessionHost, SessionOutcome } from './session-host.js';
import { authorizeClient, TransferAdmission } from './transfer-admission.js';
import { completeTransfer } from './transfer-completion.js';
import { TransferRecords } from './transfer-records.js';

/** Codes that mean the connection is gone: there is nobody to send a CLOSE to. */
const CONNECTION_GONE: readonly ErrorCode[] = ['E_CONNECTION_LOST', 'E_INTERRUPTED', 'E_TIMEOUT', 'E_TOO_SLOW'];

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
  /** The transfer, once admitted: its record, partial file and piece path. */
  private readonly transfer: SessionTransfer;

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
    this.replies = new AckBatcher(
      (messages) => this.channel.sendMessages(messages),
      ACK_BATCH,
      ACK_DELAY_MS,
      deps.clock,
      (e) => deps.logger.debug('could not send ACKs', { peer: this.peer, reason: (e as Error).message }),
    );
    this.admission = new TransferAdmission(deps, limits, host);
    this.transfer = new SessionTransfer({
      deps,
      limits,
      host,
      channel: this.channel,
      limiter: this.limiter,
      moved: () => this.raw.bytesRead + this.raw.bytesWritten,
      ack: (transfer, index) => this.ack(transfer, index),
      nack: (message) => this.replies.flush([message]),
      stop: (code, detail) => this.stop(code, detail),
      ended: () => this.outcome !== undefined || this.stopped !== undefined,
    });
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
      // The held-piece check reads the partial file and may still queue an ACK: it stops first.
      await this.transfer.stopWork();
      this.replies.discard();
      this.channel.destroyKeys();
      await this.transfer.release(this.outcome?.kind === 'completed');
      this.admission.release();
      this.connection.destroy();
      await audit.record({
        type: 'connection.closed',
        at: clock.now(),
        peerAddress: this.peer,
        detail: `${this.connection.bytesRead} bytes in, ${this.connection.bytesWritten} out`,
      });
    }
  }

  private async runProtocol(): Promise<SessionOutcome> {
    const { audit, clock, crypto } = this.deps;
    let handshake;
    try {
      handshake = await responderHandshakeWithin(this.channel, crypto, this.deps.identity, this.limits.handshakeTimeoutMs, this.connection);
    } catch (e) {
      const { code, detail } = failureOf(e);
      await audit.record({ type: 'handshake.failed', at: clock.now(), peerAddress: this.peer, code, detail });
      return { kind: 'handshake-failed', code, detail };
    } finally {
      this.host.handshakeEnded();
    }
    this.connection.setIdleTimeout(this.limits.idleTimeoutMs);
    const fingerprint = fingerprintOf(handshake.clientKey, crypto.sha256);
    try {
      return await this.afterHandshake(handshake.payload, handshake.clientKey, fingerprint);
    } catch (e) {
      // Anything unexpected after the handshake (a file-system or database error) still ends as
      // a CLOSE with a reason and a record, never as an exception out of the session.
      const { code, detail } = this.stopped ?? failureOf(e);
      return this.end(code, detail, fingerprint);
    }
  }

  private async afterHandshake(payload: Uint8Array, clientKey: Uint8Array, fingerprint: string): Promise<SessionOutcome> {
    const { audit, clock } = this.deps;
    const untrusted = await authorizeClient(this.deps, this.peer, clientKey, fingerprint);
    if (untrusted) {
      await this.close('E_UNTRUSTED_KEY', untrusted.toPeer);
      await audit.record({
        type: 'handshake.failed',
        at: clock.now(),
        peerAddress: this.peer,
        peerFingerprint: fingerprint,
        code: 'E_UNTRUSTED_KEY',
        detail: untrusted.detail,
      });
      return { kind: 'handshake-failed', code: 'E_UNTRUSTED_KEY', detail: untrusted.detail };
    }
    await audit.record({ type: 'handshake.succeeded', at: clock.now(), peerAddress: this.peer, peerFingerprint: fingerprint });
    let listDeadline: ReturnType<typeof setTimeout> | undefined;
    const admitted = await this.admission
      .admit(payload, fingerprint, async (atMost) => {
        // The whole list within one idle timeout: a trickle cannot hold its memory for longer.
        listDeadline ??= setTimeout(
          () => this.stop('E_TIMEOUT', `the entry list did not arrive within ${this.limits.idleTimeoutMs / 1000} s`),
          this.limits.idleTimeoutMs,
        );
        const bytes = await this.readEntries(atMost);
        // atMost is what remains of the list: with it all here, the admission's own work that
        // follows (database, disk claim) is not the sender's to hurry.
        if (bytes.length >= atMost) clearTimeout(listDeadline);
        return bytes;
      })
      .finally(() => clearTimeout(listDeadline));
    if (!admitted.ok) {
      await this.close(admitted.code, admitted.detail);
      // No transferId field: the id is the peer's choice and no record exists, so the event is
      // coalesced with the source's other refusals (docs/defences.md#audit).
      await audit.record({
        type: 'error',
        at: clock.now(),
        peerAddress: this.peer,
        peerFingerprint: fingerprint,
        code: admitted.code,
        detail: admitted.auditDetail,
      });
      return { kind: 'refused', code: admitted.code, detail: admitted.detail };
    }
    const { transfer, earlier, partial } = admitted.value;
    const records = new TransferRecords(
      this.deps,
      transfer.manifest,
      this.peer,
      fingerprint,
      earlier,
      () => this.connection.bytesRead + this.connection.bytesWritten,
    );
    const accepted = await this.transfer.accept(transfer, records, partial);
    if (!accepted.ok) return this.end(accepted.code, accepted.detail, fingerprint, transfer);
    return this.receive(accepted.value, fingerprint);
  }

  /** The next part of a folder's entry list; anything else from the sender ends the session. */
  private async readEntries(atMost: number): Promise<Uint8Array> {
    const message = await this.channel.readMessage({ maxPieceBody: 0, maxAcceptBody: 0, maxEntriesBody: atMost });
    if (message.type === 'entries') return message.bytes;
    if (message.type === 'close') {
      this.closedByPeer = true;
      throw new SecureTransferError(message.code, `the sender closed the transfer: ${message.reason}`);
    }
    throw new SecureTransferError('E_UNEXPECTED_MESSAGE', `${message.type} from the sender while its entry list was due`);
  }

  /** Pieces until TRANSFER_COMPLETE, the sender's CLOSE, or the end of the connection. */
  private async receive(a: Accepted, fingerprint: string): Promise<SessionOutcome> {
    const m = a.transfer.manifest;
    const limits = { maxPieceBody: PIECE_HEADER_LENGTH + m.pieceSize, maxAcceptBody: 0 };
    const bodies = a.buffers.bodySource(
      () => a.progress.excuse(),
      () => this.stopped !== undefined,
    );
    this.channel.waits = a.waits;
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
      const why = this.stopped ?? failureOf(e);
      return this.end(why.code, why.detail, fingerprint, a.transfer);
    }
  }

  /** TRANSFER_COMPLETE: the whole-file check and the final name (transfer-completion.ts), then VERIFIED. */
  private async finish(a: Accepted, declaredRoot: Uint8Array, fingerprint: string): Promise<SessionOutcome> {
    this.channel.waits = UNTIMED;
    const waits = a.waits.report();
    const done = await completeTransfer(a, declaredRoot, { folder: this.deps.folder, sha256: this.deps.crypto.sha256 });
    this.transfer.partialClosed();
    if (!done.ok) return this.end(done.code, done.detail, fingerprint, a.transfer);
    await this.replies.flush([encodeVerified(done.value.root)]).catch(() => undefined);
    await this.connection.end().catch(() => undefined);
    this.outcome = { kind: 'completed', transferId: a.transfer.manifest.transferId, path: done.value.path, waits };
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
    const a = this.transfer.accepted;
    if (a) {
      await a.records.failed(code, detail, a.sink);
      this.outcome = {
        kind: 'failed',
        transferId: a.transfer.manifest.transferId,
        code,
        detail,
        closedByPeer: this.closedByPeer,
        nothingWritten: this.transfer.startedWithoutPieces(),
      };
    } else {
      await audit.record({
        type: 'error',
        at: clock.now(),
        peerAddress: this.peer,
        transferId: transfer?.manifest.transferId,
        peerFingerprint: fingerprint,
        code,
        detail: `transfer refused: ${detail}`,
      });
      this.outcome = { kind: 'refused', code, detail, closedByPeer: this.closedByPeer };
    }
    return this.outcome;
  }

  /** Stops the session from outside its read loop: the loop's read fails and ends it with this reason. */
  private stop(code: ErrorCode, detail: string): void {
    this.stopped ??= { code, detail };
    this.connection.destroy();
  }

  /** ACKs wait for company, except the last one the sender waits for before TRANSFER_COMPLETE. */
  private async ack(transfer: ReceivingTransfer, index: number): Promise<void> {
    if (transfer.pieces.allDone) await this.replies.flush([encodeAck(index)]);
    else await this.replies.add(encodeAck(index));
  }

  private close(code: ErrorCode, detail: string): Promise<void> {
    const { clock, logger } = this.deps;
    return closeWithReason(
      { replies: this.replies, host: this.host, raw: this.raw, connection: this.connection, clock, logger, peer: this.peer },
      code,
      detail,
    );
  }
}
