// The receiver's path from a verified piece to a durable record (docs/requirements.md#durability, kept fast for
// docs/requirements.md#speed). Writes are submitted without waiting for each (one in flight on the thread pool
// while the next piece is decrypted and hashed); every DURABLE_BATCH_PIECES pieces or
// DURABLE_BATCH_MS milliseconds a batch is made durable in the background: wait for its writes,
// fdatasync, then record it. A piece is never recorded before its bytes are durable.
import { DURABLE_BATCH_MS, DURABLE_BATCH_PIECES } from '../domain/limits.js';
import type { Clock } from '../domain/ports/clock.js';
import type { PartialFile } from '../domain/ports/files.js';
import type { PieceRecord, TransferUpdate } from '../domain/ports/transfer-store.js';

/**
 * Writes in flight at once. One already overlaps the disk (thread pool) with decrypting and
 * hashing the next piece; with four, concurrent pwrite(2)s on one file spun on its inode lock
 * and the 1 GiB transfer got slower (measured: 8.3 s with one, 9.5 s with four).
 */
const MAX_WRITES_IN_FLIGHT = 1;

export interface DurableTotals {
  readonly pieces: number;
  readonly bytes: number;
}

/** Records a durable batch with the running totals (and any final fields) in one transaction. */
export type RecordBatch = (batch: PieceRecord[], totals: DurableTotals, extra: TransferUpdate) => Promise<void>;

export class DurablePieceSink {
  private readonly inflight = new Set<Promise<void>>();
  private unrecorded: (PieceRecord & { readonly length: number })[] = [];
  private failure: unknown;
  private background: Promise<void> = Promise.resolve();
  private flushing = false;
  private lastFlushAt: number;
  private totals: DurableTotals;

  constructor(
    private readonly partial: PartialFile,
    private readonly record: RecordBatch,
    private readonly clock: Clock,
    /** What earlier attempts already made durable (a resume). */
    initial: DurableTotals,
  ) {
    this.totals = initial;
    this.lastFlushAt = clock.now();
  }

  /**
   * Submits a verified piece's bytes; waits only while the pipeline is full. Throws an earlier
   * write's failure. onWritten runs once the bytes are no longer needed (written or failed), so
   * the caller may reuse their buffer then and not before.
   */
  async write(offset: number, data: Uint8Array, onWritten?: () => void): Promise<void> {
    this.throwIfFailed();
    while (this.inflight.size >= MAX_WRITES_IN_FLIGHT) await Promise.race(this.inflight);
    const write: Promise<void> = this.partial
      .write(offset, data)
      .catch((e: unknown) => {
        this.failure ??= e;
      })
      .finally(() => {
        this.inflight.delete(write);
        onWritten?.();
      });
    this.inflight.add(write);
  }

  /** A written piece joins the next batch; a due batch starts in the background. */
  add(piece: PieceRecord, length: number): void {
    this.unrecorded.push({ index: piece.index, hash: piece.hash, length });
    const due = this.unrecorded.length >= DURABLE_BATCH_PIECES || this.clock.now() - this.lastFlushAt >= DURABLE_BATCH_MS;
    if (due && !this.flushing) this.background = this.flushBatch({});
  }

  /**
   * A piece counted in the initial totals (held by an earlier attempt) turned out damaged: it
   * leaves the totals until it is written again. Its record is replaced when it is.
   */
  dropHeld(length: number): void {
    this.totals = { pieces: this.totals.pieces - 1, bytes: this.totals.bytes - length };
  }

  /** Waits until no write is in flight (their buffers are free then); never throws. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  /** Waits for every write and batch, then makes the rest durable and records it with extra. */
  async flush(extra: TransferUpdate = {}): Promise<DurableTotals> {
    await this.background;
    await this.flushBatch(extra);
    this.throwIfFailed();
    return this.totals;
  }

  private async flushBatch(extra: TransferUpdate): Promise<void> {
    this.flushing = true;
    try {
      const batch = this.unrecorded;
      this.unrecorded = [];
      this.lastFlushAt = this.clock.now();
      // Every write submitted so far, the batch's included, must be done before the sync.
      await Promise.all([...this.inflight]);
      this.throwIfFailed();
      if (batch.length > 0) await this.partial.sync();
      let { pieces, bytes } = this.totals;
      for (const p of batch) {
        pieces++;
        bytes += p.length;
      }
      this.totals = { pieces, bytes };
      if (batch.length > 0 || Object.keys(extra).length > 0) await this.record(batch.map(({ index, hash }) => ({ index, hash })), this.totals, extra);
    } catch (e) {
      this.failure ??= e;
    } finally {
      this.flushing = false;
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
