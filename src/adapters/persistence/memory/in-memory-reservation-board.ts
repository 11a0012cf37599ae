import type { ReservationBoard } from '../../../domain/ports/reservation-board.js';

/** ReservationBoard in memory: for tests and as the contract suite's reference. */
export class InMemoryReservationBoard implements ReservationBoard {
  private readonly entries = new Map<string, { folderId: string; receiver: string; bytes: number; at: number }>();

  async publish(folderId: string, receiver: string, bytes: number, at: number): Promise<void> {
    this.entries.set(`${folderId}/${receiver}`, { folderId, receiver, bytes, at });
  }

  async reservedByOthers(folderId: string, receiver: string, since: number): Promise<number> {
    let sum = 0;
    for (const e of this.entries.values()) if (e.folderId === folderId && e.receiver !== receiver && e.at >= since) sum += e.bytes;
    return sum;
  }

  async pruneBefore(at: number): Promise<number> {
    let removed = 0;
    for (const [k, e] of this.entries) if (e.at < at && this.entries.delete(k)) removed++;
    return removed;
  }
}
