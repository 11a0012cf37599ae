// Bans that several receivers share (docs/scaling.md): a receiver that bans a source publishes
// the ban, and every receiver on the same database imposes it within a poll interval. An
// append-only board read by its ids, so the receivers' clocks never have to agree.

export interface PublishedBan {
  /** Increases with every publication: readers ask for what came after the last id they saw. */
  readonly id: number;
  readonly key: string;
  readonly until: number;
  readonly round: number;
  readonly offences: number;
}

export interface BanBoard {
  publish(ban: Omit<PublishedBan, 'id'>): Promise<void>;
  /** Bans published after the given id that are still in force at now, oldest first, at most limit. */
  publishedAfter(id: number, now: number, limit: number): Promise<PublishedBan[]>;
  /** Forgets bans that ended before at; returns how many. */
  pruneBefore(at: number): Promise<number>;
}
