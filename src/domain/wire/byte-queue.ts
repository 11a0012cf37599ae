/**
 * Bytes received but not yet decoded, kept as a list of chunks so appending never copies
 * the whole backlog. take(n) copies out exactly n bytes.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** Up to n bytes from the front without consuming them; a view when they sit in one chunk. */
  peek(n: number): Uint8Array {
    const want = Math.min(n, this.total);
    const first = this.chunks[0];
    if (first && first.length - this.head >= want) return first.subarray(this.head, this.head + want);
    return this.copyOut(want, false);
  }

  /** Consumes n bytes: a view when they sit in one chunk, else a copy (into `into` when it is large enough). */
  take(n: number, into?: Uint8Array): Uint8Array {
    if (n > this.total) throw new RangeError(`ByteQueue: take(${n}) with ${this.total} queued`);
    return this.copyOut(n, true, into);
  }

  /** Consumes n bytes by copying them into dest (always a copy, never a view). */
  takeInto(n: number, dest: Uint8Array): void {
    if (n > this.total || n > dest.length) throw new RangeError(`ByteQueue: takeInto(${n}) with ${this.total} queued, ${dest.length} room`);
    this.copyOut(n, true, dest, true);
  }

  private copyOut(n: number, consume: boolean, into?: Uint8Array, mustCopy = false): Uint8Array {
    const first = this.chunks[0];
    if (consume && !mustCopy && first && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.advance(n);
      return out;
    }
    const out = into && into.length >= n ? into.subarray(0, n) : new Uint8Array(n);
    let at = 0;
    let ci = 0;
    let offset = this.head;
    while (at < n) {
      const c = this.chunks[ci] as Uint8Array;
      const slice = c.subarray(offset, Math.min(c.length, offset + (n - at)));
      out.set(slice, at);
      at += slice.length;
      ci++;
      offset = 0;
    }
    if (consume) this.advance(n);
    return out;
  }

  private advance(n: number): void {
    this.total -= n;
    let left = n;
    while (left > 0) {
      const c = this.chunks[0] as Uint8Array;
      const available = c.length - this.head;
      if (available > left) {
        this.head += left;
        return;
      }
      left -= available;
      this.chunks.shift();
      this.head = 0;
    }
  }
}
