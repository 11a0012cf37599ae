// Pieces recorded in batches, on both sides (docs/requirements.md#durability): a record per
// piece would make the database the bound of a fast transfer. Every DURABLE_BATCH_PIECES pieces
// or DURABLE_BATCH_MS milliseconds a batch is recorded in the background with the running totals,
// after whatever must come first (the receiver's writes and fdatasync: beforeRecord).
import { DURABLE_BATCH_MS, DURABLE_BATCH_PIECES } from '../domain/limits.js';
import type { Clock } from '../domain/ports/clock.js';
import type { PieceRecord, TransferUpdate } from '../domain/ports/transfer-store.js';

export interface DurableTotals {
  readonly pieces: number;
  readonly bytes: number;
}

/** Records a batch with the running totals (and any final fields) in one transaction. */
export type RecordBatch = (batch: PieceRecord[], totals: DurableTotals, extra: TransferUpdate) => Promise<void>;

export class PieceBatches {
  private unrecorded: (PieceRecord & { readonly length: number })[] = [];
  private failure: Error | undefined;
  private background: Promise<void> = Promise.resolve();
  private recording = false;
  private lastRecordAt: number;
  private totals: DurableTotals;

  constructor(
    private readonly record: RecordBatch,
    private readonly clock: Clock,
    /** What earlier attempts already recorded (a resume). */
    initial: DurableTotals,
    /** Runs before a batch of batchSize pieces is recorded; its failure fails the batch. */
    private readonly beforeRecord: (batchSize: number) => Promise<void> = async () => undefined,
  ) {
    this.totals = initial;
    this.lastRecordAt = clock.now();
  }

  /** A done piece joins the next batch; a due batch starts in the background. Throws an earlier batch's failure. */
  add(piece: PieceRecord, length: number): void {
    this.throwIfFailed();
    this.unrecorded.push({ index: piece.index, hash: piece.hash, length });
    const due = this.unrecorded.length >= DURABLE_BATCH_PIECES || this.clock.now() - this.lastRecordAt >= DURABLE_BATCH_MS;
    if (due && !this.recording) this.background = this.recordBatch({});
  }

  /**
   * A piece counted in the initial totals (held by an earlier attempt) turned out damaged: it
   * leaves the totals until it is done again.
   */
  dropHeld(length: number): void {
    this.totals = { pieces: this.totals.pieces - 1, bytes: this.totals.bytes - length };
  }

  /** Records failure as this sink's, to be thrown by the next add() or flush(). */
  fail(failure: unknown): void {
    this.failure ??= failure instanceof Error ? failure : new Error(String(failure));
  }

  /** Waits for the batch in the background, then records the rest with extra. */
  async flush(extra: TransferUpdate = {}): Promise<DurableTotals> {
    await this.background;
    await this.recordBatch(extra);
    this.throwIfFailed();
    return this.totals;
  }

  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private async recordBatch(extra: TransferUpdate): Promise<void> {
    this.recording = true;
    try {
      const batch = this.unrecorded;
      this.unrecorded = [];
      this.lastRecordAt = this.clock.now();
      await this.beforeRecord(batch.length);
      this.throwIfFailed();
      let { pieces, bytes } = this.totals;
      for (const p of batch) {
        pieces++;
        bytes += p.length;
      }
      this.totals = { pieces, bytes };
      if (batch.length > 0 || Object.keys(extra).length > 0)
        await this.record(
          batch.map(({ index, hash }) => ({ index, hash })),
          this.totals,
          extra,
        );
    } catch (e) {
      this.fail(e);
    } finally {
      this.recording = false;
    }
  }
}
