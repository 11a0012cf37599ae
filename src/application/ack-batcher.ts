// Small replies (ACKs) collected into one record and one socket write, bounded in count and in
// delay (ACK_BATCH, ACK_DELAY_MS); anything else sent through it goes at once, after them.
import type { Clock } from '../domain/ports/clock.js';

export class AckBatcher {
  private waiting: Uint8Array[] = [];
  /** Counts the delays started; a delay that ends after a flush or a discard finds a newer count and does nothing. */
  private delays = 0;
  private delayRunning = false;

  constructor(
    private readonly send: (messages: Uint8Array[]) => Promise<void>,
    private readonly batch: number,
    private readonly delayMs: number,
    private readonly clock: Clock,
    /** A send that fails after the delay has no caller: it is reported here instead. */
    private readonly onLateFailure: (e: unknown) => void,
  ) {
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`ACK batch ${batch}`);
  }

  /** Queues a message; sends the batch when it is full, else within the delay. */
  async add(message: Uint8Array): Promise<void> {
    this.waiting.push(message);
    if (this.waiting.length >= this.batch) return this.flush();
    if (this.delayRunning) return;
    this.delayRunning = true;
    const delay = ++this.delays;
    void this.clock.sleep(this.delayMs).then(() => {
      if (delay !== this.delays) return;
      this.delayRunning = false;
      this.flush().catch(this.onLateFailure);
    });
  }

  /** Sends what waits, then the given messages, in one call. */
  async flush(then: readonly Uint8Array[] = []): Promise<void> {
    this.cancelDelay();
    const messages = [...this.waiting, ...then];
    this.waiting = [];
    if (messages.length > 0) await this.send(messages);
  }

  /** Drops what waits (the session is over). */
  discard(): void {
    this.cancelDelay();
    this.waiting = [];
  }

  private cancelDelay(): void {
    this.delays++;
    this.delayRunning = false;
  }
}
