// A byte budget shared by every session (docs/defences.md#memory): what one sender may make the
// receiver hold (piece bodies, per-piece state) comes out of one bounded amount, so many
// sessions together cannot exhaust memory. Pure counter; callers give back what they take.

export class MemoryBudget {
  private used = 0;

  constructor(readonly limit: number) {
    if (!(limit > 0)) throw new RangeError('MemoryBudget: the limit must be positive');
  }

  /** Takes bytes if they fit; false (and nothing taken) otherwise. */
  take(bytes: number): boolean {
    if (bytes < 0 || this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }

  get inUse(): number {
    return this.used;
  }
}
