// Bans and offences that several receivers share (docs/scaling.md): a receiver that bans a
// source publishes the ban, and every receiver on the same database imposes it within a poll
// interval; offences that have not led to a ban yet are reported in batches, so a source spread
// over several receivers by a balancer is counted once, in total. An append-only board read by
// its ids, so the receivers' clocks never have to agree on what is new.

export interface PublishedBan {
  /** Increases with every publication: readers ask for what came after the last id they saw. */
  readonly id: number;
  readonly key: string;
  readonly until: number;
  readonly round: number;
  readonly offences: number;
}

export interface OffenceReport {
  /** Increases with every report, like a ban's id. */
  readonly id: number;
  readonly key: string;
  readonly count: number;
  /** The receiver that counted them: it skips its own reports. */
  readonly reporter: string;
  /** When they were reported, on the reporter's clock. */
  readonly at: number;
}

export interface BanBoard {
  publish(ban: Omit<PublishedBan, 'id'>): Promise<void>;
  /** Bans published after the given id that are still in force at now, oldest first, at most limit. */
  publishedAfter(id: number, now: number, limit: number): Promise<PublishedBan[]>;
  /** Forgets bans that ended before at; returns how many. */
  pruneBefore(at: number): Promise<number>;
  /** Reports offences one receiver counted since its last report, in one write. */
  reportOffences(reporter: string, at: number, counts: readonly { readonly key: string; readonly count: number }[]): Promise<void>;
  /** Other receivers' reports after the given id made at or after `since`, oldest first, at most limit. */
  offencesAfter(id: number, reporter: string, since: number, limit: number): Promise<OffenceReport[]>;
  /** Forgets reports made before at; returns how many. */
  pruneOffencesBefore(at: number): Promise<number>;
}
