// Applies a TokenBucket to a Connection's reads (docs/defences.md#rate). While it waits it does not read, so
// the transport's queue fills, the socket pauses, and TCP flow control slows the peer.
import type { Clock } from '../domain/ports/clock.js';
import type { Connection } from '../domain/ports/transport.js';
import { TokenBucket } from '../domain/policy/token-bucket.js';

export class RateLimitedConnection implements Connection {
  private readonly bucket: TokenBucket;
  private debt = 0;

  constructor(
    private readonly inner: Connection,
    private readonly clock: Clock,
    ratePerSec: number,
    burst: number,
  ) {
    this.bucket = new TokenBucket(ratePerSec, burst, clock.now());
  }

  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }

  get remotePort(): number {
    return this.inner.remotePort;
  }

  get bytesRead(): number {
    return this.inner.bytesRead;
  }

  get bytesWritten(): number {
    return this.inner.bytesWritten;
  }

  async read(): Promise<Uint8Array | null> {
    if (this.debt > 0) {
      await this.clock.sleep(this.debt);
      this.debt = 0;
    }
    const chunk = await this.inner.read();
    // The wait comes before the next read, so the bytes in hand are processed at once.
    if (chunk !== null) this.debt = this.bucket.take(chunk.length, this.clock.now());
    return chunk;
  }

  /**
   * Charges bytes that did not cross the wire but cost as much (what decompression added before
   * a write), and waits until the bucket has paid for them: many small compressed pieces can
   * arrive in one read, so the wait cannot be left to the next read.
   */
  async charge(n: number): Promise<void> {
    if (n <= 0) return;
    const wait = this.bucket.take(n, this.clock.now());
    if (wait > 0) await this.clock.sleep(wait);
    this.debt = 0; // the wait paid every token owed, those of the last read included
  }

  write(bytes: Uint8Array, onReleased?: () => void): Promise<void> {
    return this.inner.write(bytes, onReleased);
  }

  setIdleTimeout(ms: number): void {
    this.inner.setIdleTimeout(ms);
  }

  end(): Promise<void> {
    return this.inner.end();
  }

  destroy(): void {
    this.inner.destroy();
  }
}
