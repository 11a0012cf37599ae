// One piece, top to bottom (PROTOCOL.md §6): check its header against the manifest, decode it
// (zstd, at most the piece's length), hash it, judge it, write it, acknowledge it. The decisions
// are the transfer's (receiving-transfer.ts); the I/O is here. A piece that fails its hash is
// NACKed and may come again; anything else wrong ends the transfer with the reason returned.
import { fail, ok, type Result } from '../domain/errors.js';
import type { Codec } from '../domain/ports/codec.js';
import type { ReceivingTransfer } from '../domain/transfer/receiving-transfer.js';
import type { ProgressRules } from '../domain/policy/progress-rule.js';
import type { PartialFile } from '../domain/ports/files.js';
import { encodeNack, PIECE_HEADER_LENGTH, type PieceMessage } from '../domain/wire/messages.js';
import { DurablePieceSink } from './durable-piece-sink.js';
import type { DurableTotals } from './piece-batches.js';
import { PipelineWaits, RECEIVER_WAITS, type ReceiverWait, type WaitTimer } from './pipeline-waits.js';
import { ProgressWatch } from './progress-watch.js';
import type { RateLimitedConnection } from './rate-limited-connection.js';
import { SessionBuffers } from './session-buffers.js';
import type { ReceiveSessionDeps } from './session-host.js';
import type { TransferRecords } from './transfer-records.js';

export interface PieceIntakeDeps {
  readonly transfer: ReceivingTransfer;
  readonly codec: Codec;
  readonly sha256: (data: Uint8Array) => Uint8Array;
  readonly sink: DurablePieceSink;
  readonly buffers: SessionBuffers;
  readonly progress: ProgressWatch;
  /** The connection's rate limit, when there is one: what decompression adds is charged too. */
  readonly limiter: RateLimitedConnection | undefined;
  /** Sends an ACK (batched) or, for the last piece, at once. */
  readonly ack: (index: number) => Promise<void>;
  /** Sends a NACK at once, with the ACKs waiting before it. */
  readonly nack: (message: Uint8Array) => Promise<void>;
  /** Bytes reached the disk: they leave the transfer's disk reservation. */
  readonly wrote: (bytes: number) => void;
  /** Where the session's loop waited: the disk's share is counted here. */
  readonly waits: WaitTimer<'disk'>;
}

export class PieceIntake {
  /** Bytes decompression added: they count as progress and against the rate limit like bytes read. */
  inflated = 0;
  /** Pieces written by this session. */
  written = 0;

  constructor(private readonly deps: PieceIntakeDeps) {}

  async take(piece: PieceMessage): Promise<Result<void>> {
    const { transfer, sha256, sink, buffers, progress } = this.deps;
    const checked = transfer.checkPiece(piece, piece.data.length);
    if (!checked.ok) return checked;
    const slot = checked.value;
    const decoded = await this.decode(piece, slot.length, slot.compressed);
    if (!decoded.ok) return decoded;
    const data = decoded.value;
    const hash = sha256(data);
    const verdict = transfer.judgePiece(slot, data.length, hash, piece.hash);
    if (!verdict.ok || verdict.value === 'nack') {
      buffers.giveBack(data);
      if (!verdict.ok) return verdict;
      await this.deps.nack(encodeNack(slot.index, 'E_PIECE_HASH'));
      return ok(undefined);
    }
    try {
      // The buffer goes back once its write is done, not before.
      await this.deps.waits.during(
        'disk',
        progress.whileWriting(() => sink.write(slot.offset, data, () => buffers.giveBack(data))),
      );
    } catch (e) {
      return fail('E_IO', `cannot write the partial file: ${(e as Error).message}`);
    }
    transfer.written(slot);
    this.written++;
    this.deps.wrote(data.length);
    // ACK means verified and handed to the disk; durability follows in batches, and a resume
    // asks the receiver what it holds, never the ACK count.
    sink.add({ index: slot.index, hash }, slot.length);
    await this.deps.ack(slot.index);
    return ok(undefined);
  }

  /**
   * The piece's bytes: the body itself when raw, else decompressed into a pool buffer (or, with
   * the pool taken, a buffer of its own: waiting here could deadlock sessions that each hold a
   * body), after which the compressed body goes back at once.
   */
  private async decode(piece: PieceMessage, length: number, compressed: boolean): Promise<Result<Uint8Array>> {
    if (!compressed) return ok(piece.data);
    const { buffers, codec } = this.deps;
    const into = buffers.lend() ?? new Uint8Array(length);
    let data: Uint8Array;
    try {
      data = codec.decompress(piece.data, length, into);
    } catch (e) {
      buffers.giveBack(into);
      return fail('E_DECOMPRESS', `piece ${piece.index}: ${(e as Error).message}`);
    } finally {
      buffers.giveBack(piece.data);
    }
    // An adapter that allocates its own result leaves the lent buffer unused.
    if (data.buffer !== into.buffer) buffers.giveBack(into);
    // The rate limit holds for bytes written as well as read: pieces of zeros cost the sender
    // what they cost the disk.
    this.inflated += data.length - piece.data.length;
    await this.deps.limiter?.charge(data.length - piece.data.length);
    return ok(data);
  }
}

export interface IntakeParts {
  readonly intake: PieceIntake;
  readonly sink: DurablePieceSink;
  readonly buffers: SessionBuffers;
  readonly progress: ProgressWatch;
  /** Where the session's loop waits, from ACCEPT on (the channel counts the network's share). */
  readonly waits: PipelineWaits<ReceiverWait>;
}

/** The piece path of an accepted transfer, with its sink, its buffers and its progress rule. */
export function intakeFor(p: {
  readonly transfer: ReceivingTransfer;
  readonly partial: PartialFile;
  readonly records: TransferRecords;
  /** What earlier attempts made durable. */
  readonly held: DurableTotals;
  readonly deps: Pick<ReceiveSessionDeps, 'clock' | 'codec' | 'crypto' | 'pool'>;
  readonly progressRules: ProgressRules;
  readonly limiter: RateLimitedConnection | undefined;
  /** Bytes the connection has moved, without the rate limit. */
  readonly moved: () => number;
  readonly tooSlow: (detail: string) => void;
  readonly ack: (index: number) => Promise<void>;
  readonly nack: (message: Uint8Array) => Promise<void>;
  readonly wrote: (bytes: number) => void;
}): IntakeParts {
  const { transfer, records, deps } = p;
  const sink = new DurablePieceSink(p.partial, (batch, totals, extra) => records.recordBatch(batch, totals, extra), deps.clock, p.held);
  const buffers = new SessionBuffers(deps.pool, PIECE_HEADER_LENGTH + transfer.manifest.pieceSize);
  const progress = new ProgressWatch(p.progressRules, deps.clock, () => p.moved() + intake.inflated, p.tooSlow);
  const waits = new PipelineWaits<ReceiverWait>(deps.clock, RECEIVER_WAITS);
  const intake: PieceIntake = new PieceIntake({
    transfer,
    codec: deps.codec,
    sha256: deps.crypto.sha256,
    sink,
    buffers,
    progress,
    limiter: p.limiter,
    ack: p.ack,
    nack: p.nack,
    wrote: p.wrote,
    waits,
  });
  return { intake, sink, buffers, progress, waits };
}
