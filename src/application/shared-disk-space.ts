// Disk space across receivers that write to one shared output folder (docs/scaling.md#disk-space-on-the-shared-folder):
// each publishes what its transfers still have to write, refreshed every poll while it is not
// zero, and counts what the others published before it promises space. A receiver that died
// stops refreshing its entry, which no longer counts once it is older than FRESH_MS. Two
// admissions on two receivers in the same instant can both see the space as free: the
// ST_MIN_FREE_SPACE floor absorbs that race.
import type { Clock } from '../domain/ports/clock.js';
import type { Logger } from '../domain/ports/logger.js';
import type { ReservationBoard } from '../domain/ports/reservation-board.js';

/** An entry older than this belongs to a receiver that stopped or died. */
export const FRESH_MS = 15_000;

export interface SharedDiskSpaceDeps {
  readonly board: ReservationBoard;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly receiverId: string;
  /** The output folder's own id: receivers with the same one share the disk. */
  readonly folderId: string;
  /** Bytes this receiver has promised now. */
  readonly reserved: () => number;
}

export class SharedDiskSpace {
  private published = 0;
  private publishing: Promise<void> | undefined;
  /** A change arrived while a publication was in flight: publish again after it. */
  private dirty = false;

  constructor(private readonly deps: SharedDiskSpaceDeps) {}

  /** Bytes the other receivers on the folder have promised; throws when the database fails. */
  reservedElsewhere(): Promise<number> {
    const { board, clock, folderId, receiverId } = this.deps;
    return board.reservedByOthers(folderId, receiverId, clock.now() - FRESH_MS);
  }

  /**
   * Publishes this receiver's reservation now (after a change) or as a heartbeat; a zero that is
   * already published needs no heartbeat. One write at a time, the latest value last; never throws.
   */
  publish(): Promise<void> {
    if (this.publishing) {
      this.dirty = true;
      return this.publishing;
    }
    this.publishing = this.write().finally(() => (this.publishing = undefined));
    return this.publishing;
  }

  private async write(): Promise<void> {
    const { board, clock, logger, folderId, receiverId, reserved } = this.deps;
    do {
      this.dirty = false;
      const bytes = reserved();
      if (bytes === 0 && this.published === 0) return;
      try {
        await board.publish(folderId, receiverId, bytes, clock.now());
        this.published = bytes;
      } catch (e) {
        logger.error('could not publish this receiver\'s disk reservation; next poll tries again', { reason: (e as Error).message });
        return;
      }
    } while (this.dirty);
  }

  async prune(now: number): Promise<void> {
    await this.deps.board.pruneBefore(now - FRESH_MS).catch((e: unknown) => this.deps.logger.error('could not prune disk reservations', { reason: (e as Error).message }));
  }
}
