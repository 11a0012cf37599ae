// The zstd level for `--compression-level auto` (docs/requirements.md#speed). Compression buys throughput only
// while the network is slower than the compressor: on a slow link a higher level sends fewer
// bytes for free, on a fast one it is the bottleneck (1 GiB of log-like text over loopback:
// 9.3 s at level 3, 7.0 s at level 1, for 27.7% and 26.8% of the bytes). So the sender watches
// what it waits for, as zstd's own --adapt does: the next piece (compression) or the network.
// Times come in as values; this module never reads a clock.

/** The range auto moves in: never harder than the fixed default (3), never below 1. */
export const AUTO_LEVEL_FLOOR = 1;
export const AUTO_LEVEL_CEILING = 3;
/** Pieces between two decisions: enough for millisecond timings to add up. */
export const ADAPT_EVERY_PIECES = 16;
/** One wait must exceed the other this many times before the level moves (no flapping). */
const DOMINANCE = 2;

export class AdaptiveCompressionLevel {
  private current = AUTO_LEVEL_CEILING;
  private pieces = 0;
  private waitedForPieces = 0;
  private waitedForNetwork = 0;

  get level(): number {
    return this.current;
  }

  /**
   * One piece sent: how long the sender waited for it to be read and compressed, and how long
   * for the network to take it once sealed (milliseconds).
   */
  observe(pieceWaitMs: number, networkWaitMs: number): void {
    this.pieces++;
    this.waitedForPieces += Math.max(0, pieceWaitMs);
    this.waitedForNetwork += Math.max(0, networkWaitMs);
    if (this.pieces < ADAPT_EVERY_PIECES) return;
    if (this.waitedForPieces > DOMINANCE * this.waitedForNetwork) this.current = Math.max(AUTO_LEVEL_FLOOR, this.current - 1);
    else if (this.waitedForNetwork > DOMINANCE * this.waitedForPieces) this.current = Math.min(AUTO_LEVEL_CEILING, this.current + 1);
    this.pieces = 0;
    this.waitedForPieces = 0;
    this.waitedForNetwork = 0;
  }
}
