// Disk space that receivers writing to one shared output folder have promised (docs/scaling.md):
// each receiver publishes the bytes its transfers still have to write, and counts what the
// others published before it promises space of its own. An entry that is not refreshed within
// the freshness bound belongs to a receiver that stopped or died, and no longer counts.

export interface ReservationBoard {
  /** Sets the bytes this receiver has promised on the folder, as of at (also a heartbeat). */
  publish(folderId: string, receiver: string, bytes: number, at: number): Promise<void>;
  /** Bytes the other receivers promised on the folder, counting entries published at or after `since`. */
  reservedByOthers(folderId: string, receiver: string, since: number): Promise<number>;
  /** Forgets entries published before at; returns how many. */
  pruneBefore(at: number): Promise<number>;
}
