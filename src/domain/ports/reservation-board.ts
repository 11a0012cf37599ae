// Disk space that receivers writing to one shared output folder have promised (docs/scaling.md):
// each receiver publishes the bytes its transfers still have to write, with a heartbeat, and
// reads what the others published before it promises space of its own.

export interface PublishedReservation {
  readonly receiver: string;
  readonly bytes: number;
  /** When it was published, on the publisher's clock: readers only compare it with itself. */
  readonly at: number;
}

export interface ReservationBoard {
  /** Sets the bytes this receiver has promised on the folder, as of at (also a heartbeat). */
  publish(folderId: string, receiver: string, bytes: number, at: number): Promise<void>;
  /** What the other receivers published for the folder. */
  othersOn(folderId: string, receiver: string): Promise<PublishedReservation[]>;
  /** Forgets entries published before at; returns how many. */
  pruneBefore(at: number): Promise<number>;
}
