// Which receiver works on a transfer right now (docs/scaling.md): one connection per transfer at
// a time, across every receiver that shares the database. A claim dies with the receiver that
// holds it, so a receiver killed with SIGKILL never keeps a transfer busy.

export interface TransferClaims {
  /** Claims the transfer for this receiver; false when another receiver holds it. */
  claim(transferId: string): Promise<boolean>;
  /** Lets go of a claim this receiver holds (idempotent). */
  release(transferId: string): Promise<void>;
  close(): Promise<void>;
}
