// How many pieces the sender keeps in flight (docs/PERFORMANCE.md#the-window). A fixed count
// caps a transfer at count x piece size per round trip: 16 pieces of 1 MiB over 100 ms is
// 168 MB/s, a seventh of a 10 Gbit/s link. The adaptive window measures the path as BBR does:
// the round trip as the shortest time from handing a piece over to its ACK (queues only ever
// add to it), and the delivery rate as the bytes acknowledged between a piece's sending and its
// ACK over that time (the fastest of the recent ones). It keeps twice their product in flight:
// enough to fill the path while ACKs come back in batches, and, while the window itself is what
// limits the rate, double the last round's, so it grows round trip by round trip until the path
// or the bound stops it. The shortest round trip is kept for the whole transfer: the window's
// own queue makes every later sample longer, and forgetting the short ones would let the window
// feed on its own queue (BBR drains the path now and then to measure it again; a transfer's
// path rarely changes, and a longer one only makes this window smaller, never below the
// initial one). Times are milliseconds from the caller's clock.
import { DEFAULT_PIPELINE_WINDOW, MAX_PIPELINE_BYTES } from '../limits.js';

/** BBR's gain: in flight, twice the path's bandwidth-delay product. */
const GAIN = 2;
/** Delivery-rate samples kept for the maximum: the last few round trips' worth of ACKs. */
const RATE_SAMPLES = 64;
/** The shortest round trip a sample may claim. */
const MIN_SAMPLE_MS = 1;

interface InFlight {
  readonly at: number;
  /** Bytes acknowledged in all when the piece was handed over. */
  readonly deliveredBefore: number;
  readonly bytes: number;
}

export interface WindowBounds {
  /** Pieces in flight before anything is measured, and never fewer. */
  readonly initial: number;
  /** Pieces in flight at most. */
  readonly max: number;
}

export class PipelineWindow {
  private readonly inFlight = new Map<number, InFlight>();
  private delivered = 0;
  private minRttMs = Infinity;
  private readonly rates: number[] = [];
  private pieces: number;

  private acks = 0;

  private constructor(private readonly bounds: WindowBounds) {
    if (!Number.isInteger(bounds.initial) || bounds.initial < 1 || !Number.isInteger(bounds.max) || bounds.max < bounds.initial) {
      throw new RangeError(`a pipeline window needs 1 <= initial <= max pieces, not ${bounds.initial} and ${bounds.max}`);
    }
    this.pieces = bounds.initial;
  }

  /** Always this many pieces. */
  static fixed(pieces: number): PipelineWindow {
    return new PipelineWindow({ initial: pieces, max: pieces });
  }

  /** Measured, between bounds.initial and bounds.max pieces. */
  static adaptive(bounds: WindowBounds): PipelineWindow {
    return new PipelineWindow(bounds);
  }

  /** The sender's window for pieces of pieceSize bytes: adaptive, from the default count up to the byte bound. */
  static forPieces(pieceSize: number): PipelineWindow {
    const initial = DEFAULT_PIPELINE_WINDOW;
    return PipelineWindow.adaptive({ initial, max: Math.max(initial, Math.floor(MAX_PIPELINE_BYTES / pieceSize)) });
  }

  /** Pieces that may be in flight now. */
  get size(): number {
    return this.pieces;
  }

  /** The shortest round trip measured so far, if any. */
  get roundTripMs(): number | undefined {
    return Number.isFinite(this.minRttMs) ? this.minRttMs : undefined;
  }

  /** A piece of bytes wire bytes was handed over at a time. */
  sent(index: number, bytes: number, at: number): void {
    this.inFlight.set(index, { at, deliveredBefore: this.delivered, bytes });
  }

  /** A piece was refused: it is sent again, and its time says nothing about the path. */
  dropped(index: number): void {
    this.inFlight.delete(index);
  }

  /** A piece's ACK arrived at a time. */
  acked(index: number, at: number): void {
    const piece = this.inFlight.get(index);
    if (!piece) return;
    this.inFlight.delete(index);
    this.delivered += piece.bytes;
    this.acks++;
    // No sample is shorter than a millisecond: ACKs come in batches, and a piece acknowledged
    // in a burst right after it left would make the path look nearly infinitely fast.
    const rtt = Math.max(at - piece.at, MIN_SAMPLE_MS);
    this.minRttMs = Math.min(this.minRttMs, rtt);
    this.rates.push((this.delivered - piece.deliveredBefore) / rtt);
    if (this.rates.length > RATE_SAMPLES) this.rates.shift();
    if (this.bounds.max === this.bounds.initial) return;
    const bytesPerMs = Math.max(...this.rates);
    // Pieces as they went on the wire: compressed ones are smaller, and more of them fit the path.
    const pieceBytes = this.delivered / this.acks;
    const wanted = Math.ceil((GAIN * bytesPerMs * this.minRttMs) / pieceBytes);
    this.pieces = Math.min(this.bounds.max, Math.max(this.bounds.initial, wanted));
  }
}
