// What a receive session needs and what it reports: its dependencies, its limits, what it asks
// of the server that runs it, and how it ended.
import type { ErrorCode, Result } from '../domain/errors.js';
import type { TransferClaim } from '../domain/policy/capacity.js';
import type { ProgressRules } from '../domain/policy/progress-rule.js';
import type { AuditLog } from '../domain/ports/audit-log.js';
import type { ClientAuthorization } from '../domain/ports/client-authorization.js';
import type { Codec } from '../domain/ports/codec.js';
import type { Clock } from '../domain/ports/clock.js';
import type { CryptoPrimitives, KeyPair } from '../domain/ports/crypto-primitives.js';
import type { ReceiveFolder } from '../domain/ports/files.js';
import type { Logger } from '../domain/ports/logger.js';
import type { TransferStore } from '../domain/ports/transfer-store.js';
import type { BufferPool } from '../domain/policy/buffer-pool.js';
import type { ReceiverWait, WaitReport } from './pipeline-waits.js';

export interface ReceiveSessionDeps {
  readonly crypto: CryptoPrimitives;
  readonly codec: Codec;
  readonly clock: Clock;
  readonly store: TransferStore;
  readonly audit: AuditLog;
  readonly folder: ReceiveFolder;
  readonly logger: Logger;
  readonly identity: KeyPair;
  readonly clients: ClientAuthorization;
  /** Piece buffers shared by every session, bounded in bytes. */
  readonly pool: BufferPool;
  /** Told of each transfer a session accepts (the CLI's lines and events). */
  readonly onTransferStarted?: ((started: StartedTransfer) => void) | undefined;
}

/** A transfer a session accepted, as its observer hears of it. */
export interface StartedTransfer {
  readonly transferId: string;
  /** The name the sender declared (already checked against the name rules). */
  readonly fileName: string;
  readonly fileSize: number;
  readonly pieceCount: number;
  /** Pieces held from an earlier attempt (a resume), to be read back. */
  readonly piecesHeld: number;
  readonly peer: string;
  readonly senderFingerprint: string;
}

export interface ReceiveSessionLimits {
  readonly maxTransferSize: number;
  /** ST_MAX_FILES: the entries one folder may have. */
  readonly maxFiles: number;
  /** ST_MAX_PAYLOAD_SIZE: the largest message, so the largest piece message, accepted. */
  readonly maxPayloadSize: number;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** ST_RATE_LIMIT_BYTES_PER_SEC; 0 means unlimited. Counts bytes read and bytes written to disk. */
  readonly rateLimitBytesPerSec: number;
  /** The least a session must move per interval after ACCEPT. */
  readonly progress: ProgressRules;
}

/** What a session claims of the receiver before it accepts a transfer: room on disk (the host measures the free space), and memory for its pieces. */
export interface AdmissionClaim extends Omit<TransferClaim, 'freeSpace' | 'reservedElsewhere'> {
  readonly pieceCount: number;
}

/** What a session asks of the server that runs it. */
export interface SessionHost {
  /** Claims the transfer id (on every receiver sharing the database), its disk space and its memory; a failure says which limit. */
  admit(claim: AdmissionClaim): Promise<Result<void>>;
  /**
   * Holds memory for what the session keeps before its transfer is claimed (a folder's entry
   * list), from the same budget and per-source share as piece state; given back when the session ends.
   */
  holdState(bytes: number): Result<void>;
  /** Bytes of the claimed transfer reached the disk. */
  wrote(transferId: string, bytes: number): void;
  /** Gives back what admit() took, the claim across receivers included (idempotent). */
  release(transferId: string, pieceCount: number): void;
  /** The handshake finished or failed: it no longer counts against the caps in progress. */
  handshakeEnded(): void;
  /** The session no longer counts against its source's connection cap (it only drains a CLOSE). */
  releaseSlot(): void;
  /** Whether the session may linger after its CLOSE (false when too many already do); endLinger() when done. */
  startLinger(): boolean;
  endLinger(): void;
}

export type SessionOutcome =
  | { readonly kind: 'handshake-failed'; readonly code: ErrorCode; readonly detail: string }
  | { readonly kind: 'refused'; readonly code: ErrorCode; readonly detail: string; readonly closedByPeer?: boolean }
  | {
      readonly kind: 'completed';
      readonly transferId: string;
      readonly path: string;
      /** Where the session's loop waited from ACCEPT to TRANSFER_COMPLETE. */
      readonly waits: WaitReport<ReceiverWait>;
    }
  | {
      readonly kind: 'failed';
      readonly transferId: string;
      readonly code: ErrorCode;
      readonly detail: string;
      readonly closedByPeer?: boolean;
      /** A new transfer that got ACCEPT and never a piece: it leaves nothing behind but its audit. */
      readonly nothingWritten?: boolean;
    };
