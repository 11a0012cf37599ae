// The one pool of piece-sized buffers on the receiver (docs/defences.md#memory). Piece bodies are
// read into reused buffers because a fresh 1 MiB buffer per piece costs a page fault per 4 KiB
// and work for the garbage collector; the pool is shared by all sessions and bounded in bytes,
// so together they never hold more than its budget, whatever the peers declare. A buffer that
// does not fit waits (the session stops reading, and TCP slows its sender) or, where waiting
// could deadlock, is made outside the pool and left to the collector.
import { MemoryBudget } from '../domain/policy/memory-budget.js';

/** Idle buffers kept for reuse, at most this share of the budget. */
const SPARE_SHARE = 0.25;

export class BufferPool {
  private readonly budget: MemoryBudget;
  /** Idle buffers by size. */
  private readonly spares = new Map<number, Uint8Array[]>();
  private spareBytes = 0;
  /** Buffers handed out and not yet given back: only these are taken back, and only once. */
  private readonly lent = new Set<ArrayBufferLike>();
  private waiters: (() => void)[] = [];
  private lentBytes = 0;

  constructor(limitBytes: number) {
    this.budget = new MemoryBudget(limitBytes);
  }

  /** A buffer of exactly size bytes, or undefined when the budget has no room for it now. */
  take(size: number): Uint8Array | undefined {
    const spare = this.spares.get(size)?.pop();
    if (spare) {
      this.spareBytes -= size;
      this.lent.add(spare.buffer);
      this.lentBytes += size;
      return spare;
    }
    // Idle buffers of other sizes give way to one that is needed now.
    while (!this.budget.take(size)) {
      if (!this.dropOneSpare()) return undefined;
    }
    const buffer = new Uint8Array(size);
    this.lent.add(buffer.buffer);
    this.lentBytes += size;
    return buffer;
  }

  /** Gives back a buffer from take() (a view of it is enough); anything else is ignored. */
  give(view: Uint8Array): void {
    if (!this.lent.delete(view.buffer)) return;
    const buffer = new Uint8Array(view.buffer);
    this.lentBytes -= buffer.length;
    if (this.spareBytes + buffer.length <= this.budget.limit * SPARE_SHARE) {
      const list = this.spares.get(buffer.length) ?? [];
      list.push(buffer);
      this.spares.set(buffer.length, list);
      this.spareBytes += buffer.length;
    } else {
      this.budget.give(buffer.length);
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves at the next give() (a buffer may fit then), or after timeoutMs at the latest. */
  whenGiven(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve();
      }, timeoutMs);
      this.waiters.push(wake);
    });
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

  private dropOneSpare(): boolean {
    for (const [size, list] of this.spares) {
      if (list.pop()) {
        this.spareBytes -= size;
        this.budget.give(size);
        if (list.length === 0) this.spares.delete(size);
        return true;
      }
    }
    return false;
  }
}
