// The piece buffers one session borrows from the receiver's shared pool. A buffer goes back only
// when nothing refers to it any more: at once for a piece that was decompressed, refused or
// NACKed, after its write for raw data; whatever is left goes back when the session ends.
import type { BufferPool } from './buffer-pool.js';

/** Pool buffers one session may hold: a body being filled, one being written, one decompressed. */
const MAX_HELD_BUFFERS = 3;

export class SessionBuffers {
  private readonly held = new Set<Uint8Array>();
  /** The last lend found the shared pool empty (not merely this session's share used up). */
  private poolWasEmpty = false;

  constructor(
    private readonly pool: BufferPool,
    private readonly size: number,
  ) {}

  /** A buffer of the session's size, or undefined when none may be had now. */
  lend(): Uint8Array | undefined {
    // One session can never hold the pool: beyond its share it waits for its own buffers.
    if (this.held.size >= MAX_HELD_BUFFERS) {
      this.poolWasEmpty = false;
      return undefined;
    }
    const buffer = this.pool.take(this.size);
    this.poolWasEmpty = buffer === undefined;
    if (buffer) this.held.add(buffer);
    return buffer;
  }

  /** Whether the last refusal was the shared pool's (the receiver's doing) rather than this session's share. */
  get lastWaitWasThePool(): boolean {
    return this.poolWasEmpty;
  }

  /** Waits until some buffer comes back to the pool, or the time is up. */
  whenGiven(timeoutMs: number): Promise<void> {
    return this.pool.whenGiven(timeoutMs);
  }

  /** Gives back the buffer a view belongs to; a buffer not lent here is left to the collector. */
  giveBack(view: Uint8Array): void {
    for (const buffer of this.held) {
      if (buffer.buffer !== view.buffer) continue;
      this.held.delete(buffer);
      this.pool.give(buffer);
      return;
    }
  }

  giveBackAll(): void {
    for (const buffer of this.held) this.pool.give(buffer);
    this.held.clear();
  }
}
