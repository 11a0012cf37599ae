import type { BanBoard, OffenceReport, PublishedBan } from '../../../domain/ports/ban-board.js';

/** BanBoard in memory: one process's bans, for tests and as the contract suite's reference. */
export class InMemoryBanBoard implements BanBoard {
  private readonly bans: PublishedBan[] = [];
  private reports: OffenceReport[] = [];
  private nextId = 1;
  private nextReport = 1;

  async publish(ban: Omit<PublishedBan, 'id'>): Promise<void> {
    this.bans.push({ ...ban, id: this.nextId++ });
  }

  async publishedAfter(id: number, now: number, limit: number): Promise<PublishedBan[]> {
    return this.bans.filter((b) => b.id > id && b.until > now).slice(0, limit);
  }

  async pruneBefore(at: number): Promise<number> {
    const kept = this.bans.filter((b) => b.until >= at);
    const removed = this.bans.length - kept.length;
    this.bans.splice(0, this.bans.length, ...kept);
    return removed;
  }

  async reportOffences(reporter: string, at: number, counts: readonly { readonly key: string; readonly count: number }[]): Promise<void> {
    for (const c of counts) this.reports.push({ id: this.nextReport++, key: c.key, count: c.count, reporter, at });
  }

  async offencesAfter(id: number, reporter: string, since: number, limit: number): Promise<OffenceReport[]> {
    return this.reports.filter((r) => r.id > id && r.reporter !== reporter && r.at >= since).slice(0, limit);
  }

  async pruneOffencesBefore(at: number): Promise<number> {
    const before = this.reports.length;
    this.reports = this.reports.filter((r) => r.at >= at);
    return before - this.reports.length;
  }
}
