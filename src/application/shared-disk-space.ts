// Disk space across receivers that write to one shared output folder
// (docs/scaling.md#disk-space-on-the-shared-folder): each publishes what its transfers still have
// to write, at once when it changes and every poll while it is not zero, and counts what the
// others published before it promises space. An entry counts while it keeps changing: one whose
// heartbeat this receiver has not seen move for FRESH_MS, by this receiver's own clock, belongs
// to a receiver that stopped or died. The receivers' clocks never have to agree. Two admissions
// on two receivers in the same instant can both see the space as free: the ST_MIN_FREE_SPACE
// floor absorbs that race.
import type { Clock } from '../domain/ports/clock.js';
import type { Logger } from '../domain/ports/logger.js';
import type { ReservationBoard } from '../domain/ports/reservation-board.js';

/** An entry whose heartbeat has not moved for this long belongs to a receiver that stopped or died. */
export const FRESH_MS = 15_000;
/** Entries older than this, on whatever clock, are deleted: long dead, whatever the clocks say. */
const PRUNE_AFTER_MS = 3_600_000;

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
  /** Each other receiver's last heartbeat as read here, and when (on this clock) it last moved. */
  private readonly heartbeats = new Map<string, { readonly at: number; readonly movedAt: number }>();

  constructor(private readonly deps: SharedDiskSpaceDeps) {}

  /** Bytes the other live receivers on the folder have promised; throws when the database fails. */
  async reservedElsewhere(): Promise<number> {
    const { board, clock, folderId, receiverId } = this.deps;
    const entries = await board.othersOn(folderId, receiverId);
    const now = clock.now();
    let sum = 0;
    const present = new Set<string>();
    for (const e of entries) {
      present.add(e.receiver);
      const last = this.heartbeats.get(e.receiver);
      const movedAt = last !== undefined && last.at === e.at ? last.movedAt : now;
      this.heartbeats.set(e.receiver, { at: e.at, movedAt });
      if (now - movedAt < FRESH_MS) sum += e.bytes;
    }
    for (const receiver of this.heartbeats.keys()) if (!present.has(receiver)) this.heartbeats.delete(receiver);
    return sum;
  }

  /** Reads the others' heartbeats, so a stopped receiver is noticed between admissions; never throws. */
  async watch(): Promise<void> {
    await this.reservedElsewhere().catch((e: unknown) =>
      this.deps.logger.error("could not read the other receivers' disk reservations", { reason: (e as Error).message }),
    );
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

  async prune(now: number): Promise<void> {
    await this.deps.board
      .pruneBefore(now - PRUNE_AFTER_MS)
      .catch((e: unknown) => this.deps.logger.error('could not prune disk reservations', { reason: (e as Error).message }));
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
        logger.error("could not publish this receiver's disk reservation; the next poll tries again", { reason: (e as Error).message });
        return;
      }
    } while (this.dirty);
  }
}
