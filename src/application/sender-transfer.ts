// Drives the sender state machine over an established channel: a writer task sends the pieces
// the machine asks for (prepared by PiecePreparation, then sealed and written) while a reader
// task feeds ACK, NACK, VERIFIED and CLOSE back into it. Several pieces are in flight at once
// (the window). The machine says when a piece is done.
import { failureOf, type Failure } from '../domain/errors.js';
import type { PieceRecord } from '../domain/ports/transfer-store.js';
import { pieceRange } from '../domain/transfer/manifest.js';
import { PieceSet } from '../domain/transfer/piece-set.js';
import type { PipelineWindow } from '../domain/transfer/pipeline-window.js';
import {
  initialSenderState,
  senderStep,
  type SenderEffect,
  type SenderEvent,
  type SenderState,
} from '../domain/transfer/sender-machine.js';
import { transferRootInput } from '../domain/transfer/transfer-root.js';
import { encodeClose, encodePieceHeader, encodeTransferComplete, maxAcceptBodyFor } from '../domain/wire/messages.js';
import type { PieceHashes } from './hash-pieces-ahead.js';
import { PipelineWaits, SENDER_WAITS, type SenderWait, type WaitReport } from './pipeline-waits.js';
import { PiecePreparation, type PiecePreparationOptions } from './piece-preparation.js';
import type { SecureChannel } from './secure-channel.js';

/** What the piece preparation needs (the source, codec, compressor and level), and the transfer's own. */
export interface SenderTransferOptions extends PiecePreparationOptions {
  readonly channel: SecureChannel;
  /** Pieces in flight: a fixed count, or a window that adapts to the path. */
  readonly window: number | PipelineWindow;
  /** A resume's head start: hashes of the source's pieces the receiver probably holds. */
  readonly prehashed?: PieceHashes | undefined;
  /**
   * Called as each piece is done: sent and acknowledged, or (held true) held by the receiver and
   * confirmed by both sides' checks (a resume). What it throws fails the transfer.
   */
  readonly onDone: (piece: PieceRecord, held: boolean) => void;
}

const WRITE_FAILURE_GRACE_MS = 250;

type Work = { readonly kind: 'piece'; readonly index: number } | { readonly kind: 'complete'; readonly pieceHashes: Uint8Array };
type Outcome = { ok: true; waits?: WaitReport<SenderWait> } | Failure;

export function runSenderTransfer(o: SenderTransferOptions): Promise<Outcome> {
  return new SenderTransfer(o).run();
}

class SenderTransfer {
  private state: SenderState;
  private readonly pieces: PiecePreparation;
  /** What the machine asked the writer to send, in order. */
  private readonly work: Work[] = [];
  private wakeWriter: (() => void) | undefined;
  private outcome: Outcome | undefined;
  private settle!: (outcome: Outcome) => void;
  /** The writer's waits from ACCEPT until every piece is done. */
  private waits: PipelineWaits<SenderWait> | undefined;
  private waitReport: WaitReport<SenderWait> | undefined;

  constructor(private readonly o: SenderTransferOptions) {
    this.state = initialSenderState(o.manifest, o.window);
    this.pieces = new PiecePreparation(o);
  }

  run(): Promise<Outcome> {
    const finished = new Promise<Outcome>((resolve) => (this.settle = resolve));
    // A failed write usually means the receiver closed the connection, and its CLOSE with the
    // reason may be waiting to be read: the reader gets a moment to report it first.
    this.writer().catch((e: unknown) => setTimeout(() => this.outcome ?? this.failFrom(e), WRITE_FAILURE_GRACE_MS));
    this.reader().catch((e: unknown) => {
      if (!this.outcome) this.failFrom(e);
    });
    return finished;
  }

  /** Steps the machine and carries out what it asks; throws what onDone throws. */
  private apply(event: SenderEvent): void {
    const step = senderStep(this.state, event);
    this.state = step.state;
    for (const effect of step.effects) this.handle(effect);
  }

  private handle(effect: SenderEffect): void {
    switch (effect.type) {
      case 'send-piece':
        this.work.push({ kind: 'piece', index: effect.index });
        this.wakeWriter?.();
        return;
      case 'piece-done':
        this.o.onDone({ index: effect.index, hash: effect.hash }, effect.held);
        return;
      case 'send-complete':
        this.waitReport = this.waits?.report();
        this.work.push({ kind: 'complete', pieceHashes: Uint8Array.from(effect.pieceHashes) });
        this.wakeWriter?.();
        return;
      case 'completed':
        void this.finish(this.waitReport ? { ok: true, waits: this.waitReport } : { ok: true }, false);
        return;
      case 'abort':
        void this.finish({ ok: false, code: effect.code, detail: effect.detail }, effect.notifyPeer);
        return;
      default: {
        const exhaustive: never = effect;
        return exhaustive;
      }
    }
  }

  private async finish(result: Outcome, notifyPeer: boolean): Promise<void> {
    if (this.outcome) return;
    this.outcome = result;
    this.wakeWriter?.();
    if (!result.ok && notifyPeer) {
      await this.o.channel.sendMessages([encodeClose(result.code, result.detail)]).catch(() => undefined);
    }
    this.settle(result);
  }

  private failFrom(e: unknown): void {
    const { code, detail } = failureOf(e);
    // A connection that is gone or a record that failed authentication cannot carry a CLOSE.
    this.apply({ type: 'failure', code, detail, fromPeer: code === 'E_CONNECTION_LOST' || code === 'E_DECRYPT_FAILED' });
  }

  private async writer(): Promise<void> {
    while (!this.outcome) {
      const next = this.work.shift();
      if (!next) {
        await this.waited('window', new Promise<void>((resolve) => (this.wakeWriter = resolve)));
        this.wakeWriter = undefined;
      } else if (next.kind === 'piece') {
        await this.sendPiece(next.index);
      } else {
        const root = this.o.crypto.sha256(transferRootInput(this.o.manifest, next.pieceHashes));
        this.apply({ type: 'complete-sent', root });
        await this.o.channel.sendMessages([encodeTransferComplete(root)]);
      }
    }
  }

  private async sendPiece(index: number): Promise<void> {
    const range = pieceRange(this.o.manifest, index);
    // Read-ahead: the next pieces' reads (and compression, on a PieceCompressor) run while this
    // one is hashed and sealed.
    const piece = this.pieces.prepare(index);
    this.pieces.readAhead(this.queuedPieces());
    const { hash, data, encoding } = await piece;
    const header = encodePieceHeader({ index, offset: range.offset, rawLength: range.length, encoding, hash }, data.length);
    // The machine hears of the piece before its bytes are written: it refuses an ACK for a piece
    // still queued, and a quick receiver may answer as soon as the bytes arrive.
    this.apply({ type: 'piece-sent', index, hash, wire: { bytes: header.length + data.length, at: this.o.clock.elapsedMs() } });
    // sendMessages seals every record before it first yields; what follows is the network's time.
    const sent = this.o.channel.sendMessages([header, data]);
    const sealedAt = this.o.clock.now();
    try {
      await this.waited('socket', sent);
    } finally {
      this.pieces.sealed(await piece, this.o.clock.now() - sealedAt);
    }
  }

  /** Counts the wait while pieces flow (not before ACCEPT, nor while VERIFIED is awaited). */
  private waited<T>(cause: SenderWait, work: Promise<T>): Promise<T> {
    return this.waits && this.state.phase === 'sending' ? this.waits.during(cause, work) : work;
  }

  private *queuedPieces(): Iterable<number> {
    for (const next of this.work) if (next.kind === 'piece') yield next.index;
  }

  /**
   * Hashes each piece the receiver says it holds, from our source, for the machine to compare
   * with the receiver's hash (a resume only). Runs beside the writer: the missing pieces flow
   * meanwhile, and TRANSFER_COMPLETE waits for the last comparison.
   */
  private async hashHeld(indexes: readonly number[]): Promise<void> {
    for (const index of indexes) {
      const ours = (await this.o.prehashed?.get(index)?.catch(() => undefined)) ?? (await this.pieces.hashOf(index));
      if (this.outcome) return;
      this.apply({ type: 'held-hashed', index, ours });
      if (this.outcome) return;
    }
  }

  private async reader(): Promise<void> {
    const { manifest, channel } = this.o;
    // Hashes of held pieces come only with a resume.
    const limits = {
      maxPieceBody: 0,
      maxAcceptBody: manifest.resume ? maxAcceptBodyFor(manifest.pieceCount) : 4 + Math.ceil(manifest.pieceCount / 8),
    };
    while (!this.outcome) {
      const message = await channel.readMessage(limits);
      switch (message.type) {
        case 'accept': {
          this.waits = new PipelineWaits(this.o.clock, SENDER_WAITS);
          this.pieces.waits = this.waits;
          this.apply({ type: 'accepted', pieceCount: message.pieceCount, held: message.held, heldHashes: message.heldHashes });
          if (this.outcome) break;
          const held = PieceSet.bitfieldIndexes(message.held, manifest.pieceCount);
          if (held.length > 0) this.hashHeld(held).catch((e: unknown) => this.failFrom(e));
          break;
        }
        case 'ack':
          this.apply({ type: 'ack', index: message.index, at: this.o.clock.elapsedMs() });
          break;
        case 'nack':
          this.apply({ type: 'nack', index: message.index, code: message.code });
          break;
        case 'verified':
          this.apply({ type: 'verified', root: message.root });
          break;
        case 'close':
          this.apply({
            type: 'failure',
            code: message.code,
            detail: `the receiver closed the transfer: ${message.reason}`,
            fromPeer: true,
          });
          break;
        default:
          this.apply({
            type: 'failure',
            code: 'E_UNEXPECTED_MESSAGE',
            detail: `unexpected ${message.type} from the receiver`,
            fromPeer: false,
          });
      }
    }
  }
}
