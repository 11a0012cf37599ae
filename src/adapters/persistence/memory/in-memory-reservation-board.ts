import type { PublishedReservation, ReservationBoard } from '../../../domain/ports/reservation-board.js';

/** ReservationBoard in memory: for tests and as the contract suite's reference. */
export class InMemoryReservationBoard implements ReservationBoard {
  private readonly entries = new Map<string, { folderId: string; receiver: string; bytes: number; at: number }>();

  async publish(folderId: string, receiver: string, bytes: number, at: number): Promise<void> {
    this.entries.set(`${folderId}/${receiver}`, { folderId, receiver, bytes, at });
  }

  async othersOn(folderId: string, receiver: string): Promise<PublishedReservation[]> {
    return [...this.entries.values()]
      .filter((e) => e.folderId === folderId && e.receiver !== receiver)
      .map(({ receiver: r, bytes, at }) => ({ receiver: r, bytes, at }))
      .sort((a, b) => (a.receiver < b.receiver ? -1 : 1));
  }

  async pruneBefore(at: number): Promise<number> {
    let removed = 0;
    for (const [k, e] of this.entries) if (e.at < at && this.entries.delete(k)) removed++;
    return removed;
  }
}
