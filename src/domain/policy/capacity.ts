// What the receiver takes on at once (docs/defences.md#disk-and-sessions): every accepted
// transfer reserves the bytes it still has to write against the free space minus a floor that
// is never handed out, and counts against a cap per sender key and a cap in total. A reservation
// shrinks as its bytes are written (they now show in the free space) and goes on completion,
// failure or expiry. Pure: the session measures the free space and passes it in.
import { fail, ok, type Result } from '../errors.js';

export interface CapacityRules {
  /** Bytes of the output folder's file system that are never promised to a transfer. */
  readonly minFreeSpace: number;
  readonly maxTransfersPerKey: number;
  readonly maxTransfers: number;
}

export interface TransferClaim {
  readonly transferId: string;
  /** The sender's key fingerprint: the cap per key counts these. */
  readonly sender: string;
  /** Bytes still to write (the declared size, or on a resume what is missing). */
  readonly bytes: number;
  /** Bytes free on the output folder's file system now. */
  readonly freeSpace: number;
  /** Bytes other receivers writing to the same folder have promised (0 for a receiver alone). */
  readonly reservedElsewhere?: number;
}

interface Reservation {
  readonly sender: string;
  remaining: number;
}

export class ReceiverCapacity {
  private readonly reservations = new Map<string, Reservation>();
  private reservedBytes = 0;

  constructor(private readonly rules: CapacityRules) {
    if (rules.minFreeSpace < 0 || rules.maxTransfersPerKey < 1 || rules.maxTransfers < 1)
      throw new RangeError('ReceiverCapacity: invalid rules');
  }

  /** Reserves room for a transfer, or says which limit it would break. */
  admit(claim: TransferClaim): Result<void> {
    if (this.reservations.has(claim.transferId)) return fail('E_BUSY', `transfer ${claim.transferId} is in progress on another connection`);
    if (this.reservations.size >= this.rules.maxTransfers)
      return fail('E_BUSY', `the receiver already runs its limit of ${this.rules.maxTransfers} transfers`);
    let mine = 0;
    for (const r of this.reservations.values()) if (r.sender === claim.sender) mine++;
    if (mine >= this.rules.maxTransfersPerKey)
      return fail('E_BUSY', `this sender key already runs its limit of ${this.rules.maxTransfersPerKey} transfers`);
    const elsewhere = claim.reservedElsewhere ?? 0;
    const available = claim.freeSpace - this.rules.minFreeSpace - this.reservedBytes - elsewhere;
    if (claim.bytes > available) {
      const others = elsewhere > 0 ? `, promised by other receivers on this folder ${elsewhere}` : '';
      return fail(
        'E_INSUFFICIENT_SPACE',
        `${claim.bytes} bytes still to receive exceed the ${Math.max(0, available)} bytes this receiver can promise (free ${claim.freeSpace}, kept free ${this.rules.minFreeSpace}, promised to other transfers ${this.reservedBytes}${others})`,
      );
    }
    this.reservations.set(claim.transferId, { sender: claim.sender, remaining: claim.bytes });
    this.reservedBytes += claim.bytes;
    return ok(undefined);
  }

  /** Bytes of a transfer reached the disk: they leave its reservation. */
  wrote(transferId: string, bytes: number): void {
    const r = this.reservations.get(transferId);
    if (!r) return;
    const n = Math.min(r.remaining, Math.max(0, bytes));
    r.remaining -= n;
    this.reservedBytes -= n;
  }

  release(transferId: string): void {
    const r = this.reservations.get(transferId);
    if (!r) return;
    this.reservedBytes -= r.remaining;
    this.reservations.delete(transferId);
  }

  /** Whether a transfer holds a reservation (it is being worked on). */
  isClaimed(transferId: string): boolean {
    return this.reservations.has(transferId);
  }

  get reserved(): number {
    return this.reservedBytes;
  }
}
