// Whether the next piece is worth compressing (docs/requirements.md#speed). Data that did not shrink (media,
// archives, encrypted files) will not shrink a piece later either, so after a miss the sender
// skips compression for a run of pieces, doubling the run after each further miss, and probes
// again at its end; one piece that shrinks returns to compressing every piece. Sending raw is
// always allowed (docs/requirements.md#compression), so a skip never changes what the receiver accepts.

/** A piece must shrink below this share of its size to count as compressible. */
export const WORTHWHILE_RATIO = 0.97;
const FIRST_SKIP = 4;
const LONGEST_SKIP = 64;

export class CompressionProbe {
  private skipLeft = 0;
  private nextSkip = FIRST_SKIP;

  /** Whether to compress the next piece; counts the piece when it is skipped. */
  shouldCompress(): boolean {
    if (this.skipLeft === 0) return true;
    this.skipLeft--;
    return false;
  }

  /** Reports a compressed piece's size. */
  observe(rawLength: number, compressedLength: number): void {
    if (compressedLength < rawLength * WORTHWHILE_RATIO) {
      this.skipLeft = 0;
      this.nextSkip = FIRST_SKIP;
      return;
    }
    this.skipLeft = this.nextSkip;
    this.nextSkip = Math.min(LONGEST_SKIP, this.nextSkip * 2);
  }
}
