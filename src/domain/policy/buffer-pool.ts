// The one kind of buffer pool in the code (docs/defences.md#memory). Large buffers (piece bodies,
// sealed records, aligned staging for direct I/O) are reused rather than made per piece: a fresh
// 1 MiB buffer costs a page fault per 4 KiB and work for the garbage collector, measurably on
// this kind of machine. Every pool is bounded in bytes: buffers lent out and kept idle together
// never exceed its limit, whatever a peer declares, and at most spareLimit bytes stay idle.
// Pure: memory comes from the allocate function it is given, waiting is the caller's business.
import { MemoryBudget } from './memory-budget.js';

export interface BufferPoolOptions {
  /** Idle bytes kept for reuse; the rest of what comes back is let go. Default: the whole limit. */
  readonly spareLimit?: number;
  /** Makes a buffer of at least size bytes, or undefined when none can be had (aligned memory). */
  readonly allocate?: (size: number) => Uint8Array | undefined;
}

export class BufferPool {
  private readonly budget: MemoryBudget;
  private readonly spareLimit: number;
  private readonly allocate: (size: number) => Uint8Array | undefined;
  /** Idle buffers, whole. */
  private spares: Uint8Array[] = [];
  private spareBytes = 0;
  /** Whole buffers handed out (by their memory) and not yet given back: only these are taken back, once. */
  private readonly lent = new Map<ArrayBufferLike, Uint8Array>();
  private lentBytes = 0;
  private listeners: (() => void)[] = [];

  constructor(limitBytes: number, options: BufferPoolOptions = {}) {
    this.budget = new MemoryBudget(limitBytes);
    this.spareLimit = Math.min(limitBytes, options.spareLimit ?? limitBytes);
    this.allocate = options.allocate ?? ((size) => new Uint8Array(size));
  }

  /**
   * A view of exactly size bytes on a pooled buffer (the smallest idle one that fits, up to twice
   * the size, else a new one), or undefined when the limit has no room for it now.
   */
  take(size: number): Uint8Array | undefined {
    // Larger than the whole pool: no idle buffer is thrown away for a request that cannot fit.
    if (size > this.budget.limit) return undefined;
    const spare = this.bestSpare(size);
    if (spare) {
      this.spares = this.spares.filter((s) => s !== spare);
      this.spareBytes -= spare.length;
      return this.lend(spare, size);
    }
    // Idle buffers too small for this one give way to it.
    while (!this.budget.take(size)) {
      if (!this.dropOneSpare()) return undefined;
    }
    const made = this.allocate(size);
    if (!made || made.length < size) {
      this.budget.give(size);
      return undefined;
    }
    // The allocator may round up (whole pages): the budget counts what it really made.
    if (!this.budget.take(made.length - size)) {
      this.budget.give(size);
      return undefined;
    }
    return this.lend(made, size);
  }

  /** take(), or a buffer made outside the pool (left to the collector) when the limit is reached. */
  takeOrMake(size: number): Uint8Array {
    return this.take(size) ?? new Uint8Array(size);
  }

  /** Gives back a buffer from take() (any view of it is enough); anything else is ignored. */
  give(view: Uint8Array): void {
    const whole = this.lent.get(view.buffer);
    if (!whole) return;
    this.lent.delete(view.buffer);
    this.lentBytes -= whole.length;
    if (this.spareBytes + whole.length <= this.spareLimit) {
      this.spares.push(whole);
      this.spareBytes += whole.length;
    } else {
      this.budget.give(whole.length);
    }
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }

  /**
   * A lent buffer leaves the pool for good: its memory is about to be handed to another thread
   * (transferred, which detaches it here). Its bytes leave the budget.
   */
  handOver(view: Uint8Array): void {
    const whole = this.lent.get(view.buffer);
    if (!whole) return;
    this.lent.delete(view.buffer);
    this.lentBytes -= whole.length;
    this.budget.give(whole.length);
  }

  /**
   * Keeps a buffer made elsewhere (memory handed back by another thread) as a spare, if the
   * spare limit and the budget have room; the caller must not use it afterwards. A buffer the
   * pool already knows is ignored.
   */
  adopt(view: Uint8Array): void {
    const whole = new Uint8Array(view.buffer);
    if (this.lent.has(view.buffer) || this.spares.some((s) => s.buffer === view.buffer)) return;
    if (this.spareBytes + whole.length > this.spareLimit || !this.budget.take(whole.length)) return;
    this.spares.push(whole);
    this.spareBytes += whole.length;
  }

  /** Calls listener once, at the next give() (a buffer may fit then). Returns a way to cancel. */
  onNextGive(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Bytes lent out now. */
  get lentOut(): number {
    return this.lentBytes;
  }

  /** Bytes lent out or kept idle. */
  get inUse(): number {
    return this.budget.inUse;
  }

  get limit(): number {
    return this.budget.limit;
  }

  private lend(whole: Uint8Array, size: number): Uint8Array {
    this.lent.set(whole.buffer, whole);
    this.lentBytes += whole.length;
    return whole.subarray(0, size);
  }

  /**
   * The smallest idle buffer that fits, if it is at most twice the size: a small request does not
   * tie up a much larger buffer (a session of small pieces holding piece buffers of 2 MiB).
   */
  private bestSpare(size: number): Uint8Array | undefined {
    let best: Uint8Array | undefined;
    for (const spare of this.spares) {
      if (spare.length >= size && spare.length <= 2 * Math.max(size, 1) && (!best || spare.length < best.length)) best = spare;
    }
    return best;
  }

  private dropOneSpare(): boolean {
    const spare = this.spares.pop();
    if (!spare) return false;
    this.spareBytes -= spare.length;
    this.budget.give(spare.length);
    return true;
  }
}
