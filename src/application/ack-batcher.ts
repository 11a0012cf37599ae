// Small replies (ACKs) collected into one record and one socket write, bounded in count and in
// delay (ACK_BATCH, ACK_DELAY_MS); anything else sent through it goes at once, after them.

export class AckBatcher {
  private waiting: Uint8Array[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly send: (messages: Uint8Array[]) => Promise<void>,
    private readonly batch: number,
    private readonly delayMs: number,
    /** A send that fails from the timer has no caller: it is reported here instead. */
    private readonly onLateFailure: (e: unknown) => void,
  ) {
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`ACK batch ${batch}`);
  }

  /** Queues a message; sends the batch when it is full, else within the delay. */
  async add(message: Uint8Array): Promise<void> {
    this.waiting.push(message);
    if (this.waiting.length >= this.batch) return this.flush();
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(this.onLateFailure);
    }, this.delayMs);
  }

  /** Sends what waits, then the given messages, in one call. */
  async flush(then: readonly Uint8Array[] = []): Promise<void> {
    this.cancelTimer();
    const messages = [...this.waiting, ...then];
    this.waiting = [];
    if (messages.length > 0) await this.send(messages);
  }

  /** Drops what waits (the session is over). */
  discard(): void {
    this.cancelTimer();
    this.waiting = [];
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
