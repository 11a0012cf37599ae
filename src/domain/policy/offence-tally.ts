// Offences this receiver counted since it last told the others (docs/scaling.md#bans-and-offences): the
// receivers on one database pool their counts, so an attacker that a balancer spreads over N
// receivers is banned after the same number of offences as against one. Bounded under a flood
// from many addresses: beyond `maxKeys` sources a new one is not tallied (its offences still
// count on this receiver), and each report carries the most offending sources first.

export interface OffenceCount {
  readonly key: string;
  readonly count: number;
}

export class OffenceTally {
  private counts = new Map<string, number>();

  constructor(private readonly maxKeys: number) {
    if (maxKeys < 1) throw new RangeError('OffenceTally: maxKeys must be at least 1');
  }

  add(key: string): void {
    const count = this.counts.get(key);
    if (count === undefined && this.counts.size >= this.maxKeys) return;
    this.counts.set(key, (count ?? 0) + 1);
  }

  /** A source this receiver just banned: the ban travels on its own, its offences need not. */
  forget(key: string): void {
    this.counts.delete(key);
  }

  /** The counts since the last drain, most offences first, at most `limit`; starts a new tally. */
  drain(limit: number): OffenceCount[] {
    const all = [...this.counts].map(([key, count]) => ({ key, count }));
    this.counts = new Map();
    return all.sort((a, b) => b.count - a.count).slice(0, limit);
  }

  get size(): number {
    return this.counts.size;
  }
}
