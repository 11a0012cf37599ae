// The receiver's path from a verified piece to a durable record (docs/requirements.md#durability,
// kept fast for docs/requirements.md#speed). Writes are submitted without waiting for each (one in
// flight on the thread pool while the next piece is decrypted and hashed); pieces are recorded in
// batches (PieceBatches), each made durable first: wait for its writes, fdatasync, then record
// it. A piece is never recorded before its bytes are durable.
import type { Clock } from '../domain/ports/clock.js';
import type { PartialFile } from '../domain/ports/files.js';
import type { PieceRecord, TransferUpdate } from '../domain/ports/transfer-store.js';
import { PieceBatches, type DurableTotals, type RecordBatch } from './piece-batches.js';

/**
 * Writes in flight at once. One already overlaps the disk (thread pool) with decrypting and
 * hashing the next piece; with four, concurrent pwrite(2)s on one file spun on its inode lock
 * and the 1 GiB transfer got slower (measured: 8.3 s with one, 9.5 s with four).
 */
const MAX_WRITES_IN_FLIGHT = 1;

export class DurablePieceSink {
  private readonly inflight = new Set<Promise<void>>();
  private readonly batches: PieceBatches;

  constructor(
    private readonly partial: PartialFile,
    record: RecordBatch,
    clock: Clock,
    /** What earlier attempts already made durable (a resume). */
    initial: DurableTotals,
  ) {
    // Every write submitted so far, the batch's included, must be done and synced before its record.
    this.batches = new PieceBatches(record, clock, initial, async (batchSize) => {
      await Promise.all([...this.inflight]);
      this.batches.throwIfFailed();
      if (batchSize > 0) await this.partial.sync();
    });
  }

  /**
   * Submits a verified piece's bytes; waits only while the pipeline is full. Throws an earlier
   * write's failure. onWritten runs once the bytes are no longer needed (written or failed), so
   * the caller may reuse their buffer then and not before.
   */
  async write(offset: number, data: Uint8Array, onWritten?: () => void): Promise<void> {
    this.batches.throwIfFailed();
    while (this.inflight.size >= MAX_WRITES_IN_FLIGHT) await Promise.race(this.inflight);
    const write: Promise<void> = this.partial
      .write(offset, data)
      .catch((e: unknown) => this.batches.fail(e))
      .finally(() => {
        this.inflight.delete(write);
        onWritten?.();
      });
    this.inflight.add(write);
  }

  /** A written piece joins the next batch; a due batch is made durable in the background. */
  add(piece: PieceRecord, length: number): void {
    this.batches.add(piece, length);
  }

  /** A held piece turned out damaged: it leaves the totals until it is written again (PieceBatches.dropHeld). */
  dropHeld(length: number): void {
    this.batches.dropHeld(length);
  }

  /** Waits until no write is in flight (their buffers are free then); never throws. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  /** Waits for every write and batch, then makes the rest durable and records it with extra. */
  flush(extra: TransferUpdate = {}): Promise<DurableTotals> {
    return this.batches.flush(extra);
  }
}
