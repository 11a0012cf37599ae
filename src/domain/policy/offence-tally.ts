// Offences this receiver counted since it last told the others (docs/scaling.md#bans-and-offences):
// the receivers on one database pool their counts, so an attacker that a balancer spreads over N
// receivers is banned after the same number of offences as against one. Bounded under a flood
// from many addresses: beyond `maxKeys` sources a new one is not tallied (its offences still
// count on this receiver). Each report takes the most offending sources first, up to its size;
// the rest wait for the next report.

export interface OffenceCount {
  readonly key: string;
  readonly count: number;
}

export class OffenceTally {
  private readonly counts = new Map<string, number>();

  constructor(private readonly maxKeys: number) {
    if (maxKeys < 1) throw new RangeError('OffenceTally: maxKeys must be at least 1');
  }

  add(key: string, count = 1): void {
    const known = this.counts.get(key);
    if (known === undefined && this.counts.size >= this.maxKeys) return;
    this.counts.set(key, (known ?? 0) + count);
  }

  /** A source this receiver just banned: the ban travels on its own, its offences need not. */
  forget(key: string): void {
    this.counts.delete(key);
  }

  /** Takes the counts of at most `limit` sources, most offences first; the others stay for the next report. */
  take(limit: number): OffenceCount[] {
    const taken = [...this.counts]
      .map(([key, count]) => ({ key, count }))
      .sort((a, b) => b.count - a.count)
      .slice(0, limit);
    for (const { key } of taken) this.counts.delete(key);
    return taken;
  }

  /** Counts a report that could not be written: they wait for the next one. */
  putBack(counts: readonly OffenceCount[]): void {
    for (const c of counts) this.add(c.key, c.count);
  }

  get size(): number {
    return this.counts.size;
  }
}
