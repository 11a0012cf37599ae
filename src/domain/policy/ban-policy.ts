// SPEC §5: a ban after ST_FAILED_HANDSHAKE_BAN_THRESHOLD failed handshakes within
// ST_FAILED_HANDSHAKE_BAN_WINDOW_SEC. Pure: the caller passes the time (the clock port) and the
// address key; the server refuses banned keys at accept, before any cryptography.

export interface BanRules {
  readonly threshold: number;
  readonly windowMs: number;
  /** How long a ban lasts. */
  readonly banMs: number;
  /** Bounds memory under a flood from many addresses: the oldest records are forgotten first. */
  readonly maxTracked: number;
}

export interface Ban {
  readonly key: string;
  readonly until: number;
  readonly failures: number;
}

export class BanPolicy {
  private readonly failures = new Map<string, number[]>();
  private readonly bans = new Map<string, number>();

  constructor(private readonly rules: BanRules) {
    if (rules.threshold < 1 || rules.windowMs <= 0 || rules.banMs <= 0 || rules.maxTracked < 1) throw new RangeError('BanPolicy: invalid rules');
  }

  /** The ban in force for this key at time now, if any. */
  banned(key: string, now: number): Ban | undefined {
    const until = this.bans.get(key);
    if (until === undefined) return undefined;
    if (now < until) return { key, until, failures: this.rules.threshold };
    this.bans.delete(key);
    return undefined;
  }

  /** Counts a failed handshake; returns the ban it triggers, if it is the threshold-th in the window. */
  recordFailure(key: string, now: number): Ban | undefined {
    const recent = (this.failures.get(key) ?? []).filter((t) => now - t < this.rules.windowMs);
    recent.push(now);
    // Re-insert so Map order is least recently failed first, for eviction.
    this.failures.delete(key);
    if (recent.length >= this.rules.threshold) {
      const until = now + this.rules.banMs;
      this.bans.delete(key);
      this.bans.set(key, until);
      this.evict(this.bans);
      return { key, until, failures: recent.length };
    }
    this.failures.set(key, recent);
    this.evict(this.failures);
    return undefined;
  }

  /** Keys tracked, for tests of the memory bound. */
  get tracked(): number {
    return this.failures.size + this.bans.size;
  }

  private evict(map: Map<string, unknown>): void {
    while (map.size > this.rules.maxTracked) map.delete(map.keys().next().value as string);
  }
}
