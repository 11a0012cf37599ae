// docs/defences.md: a token bucket per connection that really limits the bytes read. Pure: the caller
// passes the time and sleeps for the delay it gets back before reading again, so the socket's
// buffers fill and TCP slows the sender down.

export class TokenBucket {
  private tokens: number;
  private last: number;

  /**
   * ratePerSec bytes are added each second up to burst. The bucket may go into debt by one read
   * (reads come in chunks); the debt is paid back by the delay take() returns.
   */
  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    now: number,
  ) {
    if (!(ratePerSec > 0) || !(burst > 0)) throw new RangeError('TokenBucket: rate and burst must be positive');
    this.tokens = burst;
    this.last = now;
  }

  /** Accounts for n bytes just read at time now (ms); returns how many ms to wait before the next read. */
  take(n: number, now: number): number {
    const elapsed = Math.max(0, now - this.last);
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSec) / 1000);
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.ratePerSec);
  }
}

/** A tenth of a second's worth, at least one full record, so short bursts do not skew the rate. */
export function defaultBurst(ratePerSec: number): number {
  return Math.max(64 * 1024, Math.floor(ratePerSec / 10));
}
