// What the server gives one session (the SessionHost port): its claims on what all sessions
// share, taken and given back exactly once. A transfer's admission takes piece-state memory
// (with a per-source share), disk space against the free space and the other receivers'
// promises (docs/defences.md#disk-and-sessions), and then the claim across receivers, so a
// transfer in progress on another receiver is refused as busy.
import type { Result } from '../domain/errors.js';
import type { ReceiverCapacity } from '../domain/policy/capacity.js';
import type { MemoryBudget } from '../domain/policy/memory-budget.js';
import type { ReceiveFolder } from '../domain/ports/files.js';
import type { Logger } from '../domain/ports/logger.js';
import type { TransferClaims } from '../domain/ports/transfer-claims.js';
import type { ConnectionGate, Source } from './connection-gate.js';
import type { AdmissionClaim, SessionHost } from './session-host.js';
import type { SharedDiskSpace } from './shared-disk-space.js';

/** Bytes of state per piece a session keeps (its hash and its state). */
const PIECE_STATE_BYTES = 33;
/** The share of the piece-state budget the transfers of one source may hold. */
const MAX_PIECE_STATE_SHARE_PER_SOURCE = 0.5;
/** Connections draining a CLOSE at once; beyond it a CLOSE is sent and the socket closed at once. */
const MAX_LINGERING = 256;

/** What every session's host shares. */
export interface SharedBudgets {
  readonly gate: ConnectionGate;
  readonly capacity: ReceiverCapacity;
  readonly pieceState: MemoryBudget;
  readonly folder: ReceiveFolder;
  readonly logger: Logger;
  /** Which receiver works on a transfer, across receivers; none for one receiver alone. */
  readonly claims: TransferClaims | undefined;
  /** The other receivers' promises on a shared folder, once the server has started. */
  readonly diskSharing: () => SharedDiskSpace | undefined;
  /** Sessions draining after their CLOSE, across all sessions. */
  readonly lingering: { count: number };
}

export class ServerSessionHost implements SessionHost {
  private handshaking = true;
  private slotHeld = true;
  /** Transfers this session claimed, with their piece counts, until released. */
  private readonly claimed = new Map<string, number>();
  /** Memory held by holdState, until the session ends. */
  private heldState = 0;

  constructor(
    private readonly shared: SharedBudgets,
    private readonly key: string,
    private readonly source: Source,
  ) {}

  /** Takes state memory within the source's share of the budget. */
  private takeState(bytes: number): Result<void> {
    const { pieceState } = this.shared;
    // One source never holds more than half of it, however lenient its sessions' pace.
    if (this.source.pieceState + bytes > pieceState.limit * MAX_PIECE_STATE_SHARE_PER_SOURCE) {
      return {
        ok: false,
        code: 'E_BUSY',
        detail: `the transfers from ${this.key} already hold their share of the receiver's memory for transfer state`,
      };
    }
    if (!pieceState.take(bytes)) {
      return {
        ok: false,
        code: 'E_BUSY',
        detail: `the receiver's memory for transfer state is taken (${pieceState.inUse} of ${pieceState.limit} bytes)`,
      };
    }
    return { ok: true, value: undefined };
  }

  holdState(bytes: number): Result<void> {
    const taken = this.takeState(bytes);
    if (!taken.ok) return taken;
    this.heldState += bytes;
    this.source.pieceState += bytes;
    return taken;
  }

  async admit(claim: AdmissionClaim): Promise<Result<void>> {
    const { capacity, pieceState, folder, claims } = this.shared;
    const stateBytes = claim.pieceCount * PIECE_STATE_BYTES;
    const taken = this.takeState(stateBytes);
    if (!taken.ok) return taken;
    let reservedElsewhere: number;
    let freeSpace: number;
    try {
      reservedElsewhere = (await this.shared.diskSharing()?.reservedElsewhere()) ?? 0;
      // Measured after the database answered: bytes written meanwhile leave the reservations
      // and show in the free space together.
      freeSpace = await folder.freeSpace();
    } catch (e) {
      pieceState.give(stateBytes);
      return {
        ok: false,
        code: 'E_UNAVAILABLE',
        detail: `the receiver cannot measure the space it may promise right now (${(e as Error).message}); try again later`,
      };
    }
    const admitted = capacity.admit({ ...claim, freeSpace, reservedElsewhere });
    if (!admitted.ok) {
      pieceState.give(stateBytes);
      return admitted;
    }
    this.claimed.set(claim.transferId, claim.pieceCount);
    this.source.pieceState += stateBytes;
    void this.shared.diskSharing()?.publish();
    // Then across receivers: one that works on this transfer now keeps it.
    let elsewhere: boolean;
    try {
      elsewhere = claims !== undefined && !(await claims.claim(claim.transferId));
    } catch (e) {
      this.releaseHere(claim.transferId, claim.pieceCount);
      return {
        ok: false,
        code: 'E_UNAVAILABLE',
        detail: `the receiver cannot claim the transfer in its database right now (${(e as Error).message}); try again later`,
      };
    }
    if (elsewhere) {
      this.releaseHere(claim.transferId, claim.pieceCount);
      return { ok: false, code: 'E_BUSY', detail: `transfer ${claim.transferId} is in progress on another receiver` };
    }
    return admitted;
  }

  wrote(transferId: string, bytes: number): void {
    this.shared.capacity.wrote(transferId, bytes);
  }

  release(transferId: string, pieceCount: number): void {
    if (!this.claimed.has(transferId)) return;
    void this.shared.claims
      ?.release(transferId)
      .catch((e: unknown) => this.shared.logger.error('could not release a transfer claim', { transferId, reason: (e as Error).message }));
    this.releaseHere(transferId, pieceCount);
  }

  handshakeEnded(): void {
    if (!this.handshaking) return;
    this.handshaking = false;
    this.shared.gate.handshakeEnded(this.key, this.source);
  }

  releaseSlot(): void {
    if (!this.slotHeld) return;
    this.slotHeld = false;
    this.source.connections--;
    this.shared.gate.forgetIfIdle(this.key, this.source);
  }

  startLinger(): boolean {
    if (this.shared.lingering.count >= MAX_LINGERING) return false;
    this.shared.lingering.count++;
    return true;
  }

  endLinger(): void {
    this.shared.lingering.count--;
  }

  /** Whatever the session's own clean-up did not reach goes back when it ends. */
  releaseAll(): void {
    for (const [transferId, pieceCount] of [...this.claimed]) this.release(transferId, pieceCount);
    if (this.heldState > 0) {
      this.shared.pieceState.give(this.heldState);
      this.source.pieceState -= this.heldState;
      this.heldState = 0;
      this.shared.gate.forgetIfIdle(this.key, this.source);
    }
    this.handshakeEnded();
    this.releaseSlot();
  }

  /** Gives back what this receiver reserved for a transfer (not the claim across receivers). */
  private releaseHere(transferId: string, pieceCount: number): void {
    if (!this.claimed.delete(transferId)) return;
    this.shared.capacity.release(transferId);
    void this.shared.diskSharing()?.publish();
    this.shared.pieceState.give(pieceCount * PIECE_STATE_BYTES);
    this.source.pieceState -= pieceCount * PIECE_STATE_BYTES;
    this.shared.gate.forgetIfIdle(this.key, this.source);
  }
}
