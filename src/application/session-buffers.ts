// The piece buffers one session borrows from the receiver's shared pool. A buffer goes back only
// when nothing refers to it any more: at once for a piece that was decompressed, refused or
// NACKed, after its write for raw data; whatever is left goes back when the session ends.
import { SecureTransferError } from '../domain/errors.js';
import type { BufferPool } from '../domain/policy/buffer-pool.js';

/** Pool buffers one session may hold: a body being filled, one being written, one decompressed. */
const MAX_HELD_BUFFERS = 3;
/** Bodies this large (pieces) are read into lent buffers; smaller messages are not worth it. */
const LEND_BODIES_FROM = 64 * 1024;
/** How long a session waits for a pool buffer before it checks whether it should stop. */
const POOL_WAIT_MS = 500;

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

  /**
   * Where the channel reads piece bodies: into lent buffers from LEND_BODIES_FROM bytes, waiting
   * for one when none may be had. Waiting for the shared pool is the receiver's doing (excused
   * by the progress rule); waiting for this session's own buffers to come back from the disk is not.
   */
  bodySource(excuse: () => void, stopped: () => boolean) {
    return {
      lend: (length: number): Uint8Array | undefined | 'wait' => (length < LEND_BODIES_FROM ? undefined : (this.lend() ?? 'wait')),
      wait: async (): Promise<void> => {
        if (this.poolWasEmpty) excuse();
        await this.nextGiveOrTimeout();
        if (stopped()) throw new SecureTransferError('E_CONNECTION_LOST', 'the session was closed while it waited for a buffer');
      },
    };
  }

  /** Resolves at the pool's next give() (a buffer may fit then), or after POOL_WAIT_MS at the latest. */
  private nextGiveOrTimeout(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        cancel();
        resolve();
      };
      const cancel = this.pool.onNextGive(done);
      const timer = setTimeout(done, POOL_WAIT_MS);
    });
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
