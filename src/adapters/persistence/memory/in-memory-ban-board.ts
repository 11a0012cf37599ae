import type { BanBoard, PublishedBan } from '../../../domain/ports/ban-board.js';

/** BanBoard in memory: one process's bans, for tests and as the contract suite's reference. */
export class InMemoryBanBoard implements BanBoard {
  private readonly bans: PublishedBan[] = [];
  private nextId = 1;

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
}
