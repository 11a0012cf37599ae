// Bans and offences shared by the receivers on one database (docs/scaling.md#bans-and-offences).
// Every poll this receiver reports the offences it counted since the last one (those that have
// not led to a ban here), imposes the bans the others published, and counts the offences the
// others reported as if they had happened here: a source that a balancer spreads over several
// receivers reaches the ban threshold after the same number of offences as against one. One
// poll at a time; nothing here throws: a failing database is logged and tried again next poll.
import type { Ban, BanPolicy } from '../domain/policy/ban-policy.js';
import { OffenceTally } from '../domain/policy/offence-tally.js';
import type { BanBoard } from '../domain/ports/ban-board.js';
import type { Clock } from '../domain/ports/clock.js';
import type { Logger } from '../domain/ports/logger.js';

/** Sources whose offences wait for a report; a flood beyond it is counted on this receiver only. */
const MAX_TALLIED_SOURCES = 10_000;
/** Rows one report writes: the most offending sources first, the rest at the next poll. */
const MAX_REPORTED_SOURCES = 256;
/** Rows one read asks for; a poll reads until it has caught up. */
const READ_BATCH = 1000;
/**
 * Ids each poll reads again: they become visible in the order their transactions commit, not
 * always in id order. Bans are one row each and imposed idempotently. Offence reports are up to
 * MAX_REPORTED_SOURCES rows a transaction from every receiver, so their window covers 16 such
 * reports, and the ones already counted are remembered by id.
 */
const REREAD_BAN_IDS = 200;
const REREAD_REPORT_IDS = 16 * MAX_REPORTED_SOURCES;

export interface BanSharingDeps {
  readonly board: BanBoard;
  readonly policy: BanPolicy;
  readonly clock: Clock;
  readonly logger: Logger;
  /** This receiver's id on the board, so it never counts its own reports twice. */
  readonly receiverId: string;
  /** Offences older than the ban window no longer count; neither do reports of them. */
  readonly windowMs: number;
  /** Offences from elsewhere reached the threshold here: the server bans, publishes and audits. */
  readonly onBan: (ban: Ban) => Promise<void>;
}

export class BanSharing {
  private readonly tally = new OffenceTally(MAX_TALLIED_SOURCES);
  private lastBanId = 0;
  private lastReportId = 0;
  /** Report ids inside the re-read window that were already counted. */
  private readonly countedReports = new Set<number>();
  private polling: Promise<void> | undefined;

  constructor(private readonly deps: BanSharingDeps) {}

  /** An offence here that did not lead to a ban: the others hear of it at the next poll. */
  offended(key: string): void {
    this.tally.add(key);
  }

  /** A ban decided here: every receiver imposes it from the board. */
  async banned(ban: Ban): Promise<void> {
    this.tally.forget(ban.key);
    await this.deps.board
      .publish({ key: ban.key, until: ban.until, round: ban.round, offences: ban.offences })
      .catch((e: unknown) =>
        this.deps.logger.error('could not share a ban with the other receivers', { source: ban.key, reason: (e as Error).message }),
      );
  }

  /** Reports, then reads bans, then offences (a source banned meanwhile needs no offences counted). */
  poll(): Promise<void> {
    this.polling ??= this.exchange().finally(() => (this.polling = undefined));
    return this.polling;
  }

  /** Forgets ended bans and reports older than the window. */
  async prune(now: number): Promise<void> {
    const { board, logger, windowMs } = this.deps;
    await board.pruneBefore(now).catch((e: unknown) => logger.error('could not prune ended bans', { reason: (e as Error).message }));
    await board
      .pruneOffencesBefore(now - windowMs)
      .catch((e: unknown) => logger.error('could not prune offence reports', { reason: (e as Error).message }));
  }

  private async exchange(): Promise<void> {
    try {
      await this.report();
      await this.readBans();
      await this.readOffences();
    } catch (e) {
      this.deps.logger.error('could not exchange bans and offences with the other receivers; next poll tries again', {
        reason: (e as Error).message,
      });
    }
  }

  private async report(): Promise<void> {
    const counts = this.tally.take(MAX_REPORTED_SOURCES);
    try {
      await this.deps.board.reportOffences(this.deps.receiverId, this.deps.clock.now(), counts);
    } catch (e) {
      this.tally.putBack(counts);
      throw e;
    }
  }

  private async readBans(): Promise<void> {
    const now = this.deps.clock.now();
    let after = Math.max(0, this.lastBanId - REREAD_BAN_IDS);
    for (;;) {
      const bans = await this.deps.board.publishedAfter(after, now, READ_BATCH);
      for (const b of bans) {
        this.deps.policy.impose({ key: b.key, until: b.until, offences: b.offences, round: b.round }, now);
        after = Math.max(after, b.id);
      }
      this.lastBanId = Math.max(this.lastBanId, after);
      if (bans.length < READ_BATCH) return;
    }
  }

  private async readOffences(): Promise<void> {
    const { board, policy, clock, receiverId, windowMs, onBan } = this.deps;
    const now = clock.now();
    let after = Math.max(0, this.lastReportId - REREAD_REPORT_IDS);
    for (;;) {
      const reports = await board.offencesAfter(after, receiverId, now - windowMs, READ_BATCH);
      for (const r of reports) {
        after = Math.max(after, r.id);
        if (this.countedReports.has(r.id)) continue;
        this.countedReports.add(r.id);
        if (policy.banned(r.key, now)) continue;
        // Counted when they were reported, as far as this clock can tell: a report read late (a
        // restart) leaves the window when it would have, not a window after it was read.
        const ban = policy.recordOffence(r.key, now, r.count, Math.min(now, r.at));
        if (ban) await onBan(ban);
      }
      this.lastReportId = Math.max(this.lastReportId, after);
      if (reports.length < READ_BATCH) break;
    }
    for (const id of this.countedReports) if (id <= this.lastReportId - REREAD_REPORT_IDS) this.countedReports.delete(id);
  }
}
