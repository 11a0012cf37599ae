// Bans (docs/defences.md#bans): a ban after `threshold` offences within `windowMs`. An offence is
// a failed handshake or a refusal that only a misbehaving sender earns after it (penalties.ts).
// Repeat offenders are banned for longer each time, like OpenSSH's PerSourcePenalties: the n-th
// ban in a row lasts banMs * 2^(n-1), at most maxBanMs; a source that stays clean for maxBanMs
// after its ban ends starts again from banMs. Pure: the caller passes the time and the key.

export interface BanRules {
  readonly threshold: number;
  readonly windowMs: number;
  /** How long a first ban lasts. */
  readonly banMs: number;
  /** The longest ban, however often a source comes back. */
  readonly maxBanMs: number;
  /**
   * Bounds memory under a flood from many addresses, for each of the three tables (offences,
   * bans, ban history). Offences and history forget the least recent source first; bans forget
   * the one that ends soonest, so a flood of new sources cannot lift a long ban early.
   */
  readonly maxTracked: number;
}

export interface Ban {
  readonly key: string;
  readonly until: number;
  readonly offences: number;
  /** 1 for a first ban, 2 for the next one after it, and so on. */
  readonly round: number;
}

interface History {
  readonly rounds: number;
  readonly lastUntil: number;
}

export class BanPolicy {
  private readonly offences = new Map<string, number[]>();
  private readonly bans = new Map<string, Ban>();
  private readonly history = new Map<string, History>();

  constructor(private readonly rules: BanRules) {
    if (rules.threshold < 1 || rules.windowMs <= 0 || rules.banMs <= 0 || rules.maxBanMs < rules.banMs || rules.maxTracked < 1) {
      throw new RangeError('BanPolicy: invalid rules');
    }
  }

  /** The ban in force for this key at time now, if any. */
  banned(key: string, now: number): Ban | undefined {
    const ban = this.bans.get(key);
    if (ban === undefined) return undefined;
    if (now < ban.until) return ban;
    this.bans.delete(key);
    return undefined;
  }

  /**
   * Counts `count` offences that happened at `at` (more than one, and earlier than now, when
   * another receiver reports them); returns the ban they trigger, if they reach the threshold
   * within the window.
   */
  recordOffence(key: string, now: number, count = 1, at = now): Ban | undefined {
    const recent = (this.offences.get(key) ?? []).filter((t) => now - t < this.rules.windowMs);
    if (now - at < this.rules.windowMs) for (let i = Math.min(count, this.rules.threshold); i > 0; i--) recent.push(at);
    // Re-insert so Map order is least recently offending first, for eviction.
    this.offences.delete(key);
    if (recent.length < this.rules.threshold) {
      this.offences.set(key, recent);
      evictOldest(this.offences, this.rules.maxTracked);
      return undefined;
    }
    const past = this.history.get(key);
    const repeat = past !== undefined && now - past.lastUntil < this.rules.maxBanMs;
    const round = repeat ? past.rounds + 1 : 1;
    const until = now + Math.min(this.rules.maxBanMs, this.rules.banMs * 2 ** Math.min(round - 1, 40));
    const ban: Ban = { key, until, offences: recent.length, round };
    this.bans.set(key, ban);
    this.evictSoonestEnding(now);
    this.history.delete(key);
    this.history.set(key, { rounds: round, lastUntil: until });
    evictOldest(this.history, this.rules.maxTracked);
    return ban;
  }

  /**
   * Takes over a ban another receiver decided (a shared board): it holds here until it ends, and
   * counts in this source's history like one decided here. A shorter one than this policy's own
   * changes nothing.
   */
  impose(ban: Ban, now: number): void {
    if (ban.until <= now) return;
    // Another receiver's clock may run ahead: no ban from elsewhere outlasts the longest ban here.
    if (ban.until > now + this.rules.maxBanMs) ban = { ...ban, until: now + this.rules.maxBanMs };
    const current = this.bans.get(ban.key);
    if (current && current.until >= ban.until) return;
    this.bans.set(ban.key, ban);
    this.evictSoonestEnding(now);
    const past = this.history.get(ban.key);
    this.history.delete(ban.key);
    this.history.set(ban.key, { rounds: Math.max(past?.rounds ?? 0, ban.round), lastUntil: Math.max(past?.lastUntil ?? 0, ban.until) });
    evictOldest(this.history, this.rules.maxTracked);
  }

  /** Keys tracked in all tables, for tests of the memory bound. */
  get tracked(): number {
    return this.offences.size + this.bans.size + this.history.size;
  }

  private evictSoonestEnding(now: number): void {
    if (this.bans.size <= this.rules.maxTracked) return;
    for (const [key, ban] of this.bans) if (ban.until <= now) this.bans.delete(key);
    while (this.bans.size > this.rules.maxTracked) {
      let soonest: Ban | undefined;
      for (const ban of this.bans.values()) if (!soonest || ban.until < soonest.until) soonest = ban;
      this.bans.delete(soonest!.key);
    }
  }
}

function evictOldest(map: Map<string, unknown>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value as string);
}
