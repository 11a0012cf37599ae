// Open file handles of a folder's files, a bounded number at a time: a piece of small files
// touches dozens of them, and opening each for every piece would cost more than the I/O.
// A handle in use is never closed under its user; idle ones close, least recently used first,
// in the background, after whatever the owner asks to do with them first (a tree syncs a file
// it wrote to before letting go of it).
import type { FileHandle } from 'node:fs/promises';

interface Slot {
  readonly opening: Promise<FileHandle>;
  users: number;
}

/** Called when an idle handle is chosen to close: work to do with it first, or nothing. */
export type BeforeClose = (index: number) => ((handle: FileHandle) => Promise<void>) | undefined;

export class HandleCache {
  /** Least recently used first: a slot moves to the end each time it is used. */
  private readonly slots = new Map<number, Slot>();
  /** Handles being let go of. */
  private readonly closing = new Set<Promise<void>>();
  /**
   * The first failure of the work done before a close. It stays: a sync that failed (EIO on
   * writeback) is reported once by the kernel, to the descriptor that asked, so a later sync on
   * a new descriptor would succeed and hide it; every later settle() and closeAll() throws it.
   */
  private failure: Error | undefined;

  constructor(
    private readonly openFile: (index: number) => Promise<FileHandle>,
    private readonly maxOpen = 32,
    private readonly beforeClose: BeforeClose = () => undefined,
  ) {}

  /** Runs io with the file's handle, opened if it is not. */
  async with<T>(index: number, io: (handle: FileHandle) => Promise<T>): Promise<T> {
    let slot = this.slots.get(index);
    if (slot) {
      this.slots.delete(index);
    } else {
      const opening = this.openFile(index);
      slot = { opening, users: 0 };
      // A failed open is not kept: the next use tries again and reports its own error.
      opening.catch(() => {
        if (this.slots.get(index)?.opening === opening) this.slots.delete(index);
      });
    }
    this.slots.set(index, slot);
    slot.users++;
    try {
      return await io(await slot.opening);
    } finally {
      slot.users--;
      this.trim();
    }
  }

  /** Chooses the least recently used idle handles over the bound (at once, so no user can take one meanwhile) and lets them go. */
  private trim(): void {
    if (this.slots.size <= this.maxOpen) return;
    const victims: [number, Slot][] = [];
    for (const entry of this.slots) {
      if (this.slots.size - victims.length <= this.maxOpen) break;
      if (entry[1].users === 0) victims.push(entry);
    }
    for (const [index, slot] of victims) {
      this.slots.delete(index);
      const work = this.beforeClose(index);
      const done = this.letGo(slot, work).finally(() => this.closing.delete(done));
      this.closing.add(done);
    }
  }

  private async letGo(slot: Slot, work: ((handle: FileHandle) => Promise<void>) | undefined): Promise<void> {
    const handle = await slot.opening.catch(() => undefined);
    if (!handle) return;
    try {
      await work?.(handle);
    } catch (e) {
      this.failure ??= e instanceof Error ? e : new Error(String(e));
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  /**
   * Waits for the handles chosen to close before this call (not those chosen meanwhile, so a
   * steady stream of writes cannot hold it up); throws the first failure of any close's work.
   */
  async settle(): Promise<void> {
    await Promise.all([...this.closing]);
    this.throwFailure();
  }

  /** Closes every handle once its users are done with the work before close; throws a failure recorded now or before. */
  async closeAll(): Promise<void> {
    const slots = [...this.slots.values()];
    this.slots.clear();
    await Promise.all([...this.closing]);
    await Promise.all(slots.map(async (s) => (await s.opening.catch(() => undefined))?.close().catch(() => undefined)));
    this.throwFailure();
  }

  private throwFailure(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
