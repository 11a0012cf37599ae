// What the receiver writes down about one transfer, in the database and the audit trail, bound
// once to the transfer, the peer and its key: the record made or taken up before any file exists
// (a database that cannot write refuses the transfer: docs/defences.md#database), pieces recorded
// in durable batches, and the end, completed or failed, recorded so that a resume finds it.
import { fail, ok, type ErrorCode, type Result } from '../domain/errors.js';
import type { AuditEvent, AuditLog } from '../domain/ports/audit-log.js';
import type { Clock } from '../domain/ports/clock.js';
import type { CryptoPrimitives } from '../domain/ports/crypto-primitives.js';
import type { ReceiveFolder } from '../domain/ports/files.js';
import type { Logger } from '../domain/ports/logger.js';
import type { PieceRecord, TransferRecord, TransferStore, TransferUpdate } from '../domain/ports/transfer-store.js';
import { newTransferRecord } from '../domain/transfer/new-transfer-record.js';
import { entryListHash } from '../domain/transfer/tree.js';
import type { Manifest } from '../domain/transfer/manifest.js';
import type { DurablePieceSink } from './durable-piece-sink.js';
import type { DurableTotals } from './piece-batches.js';
import type { StartedTransfer } from './session-host.js';

export interface TransferRecordsDeps {
  readonly store: TransferStore;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onTransferStarted?: ((started: StartedTransfer) => void) | undefined;
  readonly crypto: Pick<CryptoPrimitives, 'sha256'>;
}

export class TransferRecords {
  /** This session made the record (a new transfer, not a resume): it removes it if no piece arrives. */
  private createdHere = false;

  constructor(
    private readonly deps: TransferRecordsDeps,
    private readonly manifest: Manifest,
    private readonly peer: string,
    private readonly fingerprint: string,
    /** What the database held before this connection: a resume adds to it. */
    private readonly earlier: TransferRecord | undefined,
    /** Bytes this connection has moved, for the wire total over all attempts. */
    private readonly connectionBytes: () => number,
  ) {}

  get transferId(): string {
    return this.manifest.transferId;
  }

  get isResume(): boolean {
    return this.earlier !== undefined;
  }

  get madeHere(): boolean {
    return this.createdHere;
  }

  /** Makes the record (or takes up the earlier one) with what is already held; E_UNAVAILABLE when the database cannot write. */
  async open(folderPath: string, held: DurableTotals): Promise<Result<void>> {
    const { store, clock, logger } = this.deps;
    const m = this.manifest;
    const now = clock.now();
    try {
      if (this.earlier) {
        await store.update(m.transferId, 'receiver', {
          status: 'in-progress',
          piecesDone: held.pieces,
          bytesDone: held.bytes,
          peerAddress: this.peer,
          attempts: this.earlier.attempts + 1,
          errorCode: null,
          errorDetail: null,
          updatedAt: now,
        });
      } else {
        await store.create(
          newTransferRecord(
            {
              id: m.transferId,
              role: 'receiver',
              fileName: m.fileName,
              localPath: folderPath,
              fileSize: m.fileSize,
              pieceSize: m.pieceSize,
              pieceCount: m.pieceCount,
              compression: m.compression,
              peerAddress: this.peer,
              peerFingerprint: this.fingerprint,
              sourceModifiedAt: null,
              // The list itself comes again with a resume: its hash is what must match.
              entryCount: m.tree?.entries.length ?? 0,
              entryListHash: entryListHash(m.tree?.list, this.deps.crypto.sha256),
            },
            now,
          ),
        );
        this.createdHere = true;
      }
      return ok(undefined);
    } catch (e) {
      logger.error('cannot record a transfer: refusing it', { transferId: m.transferId, reason: (e as Error).message });
      return fail('E_UNAVAILABLE', `the receiver cannot record transfers right now (${(e as Error).message}); try again later`);
    }
  }

  /** Records a durable batch of pieces with the running totals, for the piece sink. */
  recordBatch(batch: PieceRecord[], totals: DurableTotals, extra: TransferUpdate): Promise<void> {
    return this.deps.store.recordPieces(this.manifest.transferId, 'receiver', batch, {
      piecesDone: totals.pieces,
      bytesDone: totals.bytes,
      wireBytes: this.wireBytes(),
      updatedAt: this.deps.clock.now(),
      ...extra,
    });
  }

  async started(heldCount: number): Promise<void> {
    const m = this.manifest;
    if (this.earlier)
      await this.event(
        'transfer.resumed',
        `"${m.fileName}": recorded ${heldCount} of ${m.pieceCount} pieces, read back while the rest arrives`,
      );
    else await this.event('transfer.started', `"${m.fileName}", ${m.fileSize} bytes in ${m.pieceCount} pieces`);
    this.deps.onTransferStarted?.({
      transferId: m.transferId,
      fileName: m.fileName,
      fileSize: m.fileSize,
      pieceCount: m.pieceCount,
      piecesHeld: heldCount,
      peer: this.peer,
      senderFingerprint: this.fingerprint,
    });
  }

  /** The file is complete and under its name: a record that cannot be written is logged, never thrown. */
  async completed(path: string): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.store
      .update(this.manifest.transferId, 'receiver', {
        status: 'completed',
        localPath: path,
        wireBytes: this.wireBytes(),
        completedAt: now,
        updatedAt: now,
      })
      .catch((e: unknown) =>
        this.deps.logger.error('could not record a completed transfer', {
          transferId: this.manifest.transferId,
          reason: (e as Error).message,
        }),
      );
    await this.event('transfer.completed', path);
  }

  /**
   * The transfer ended without its file: the pieces written so far are verified, so they are made
   * durable and recorded with the status, for a resume to keep them. Never throws.
   */
  async failed(code: ErrorCode, detail: string, sink: DurablePieceSink | undefined): Promise<void> {
    const { store, clock, logger } = this.deps;
    const id = this.manifest.transferId;
    const status = code === 'E_INTERRUPTED' ? 'interrupted' : 'failed';
    try {
      if (!sink) throw new Error('no pieces were accepted');
      await sink.flush({ status, errorCode: code, errorDetail: detail });
    } catch (e) {
      logger.error('could not record the held pieces of a failed transfer', { transferId: id, reason: (e as Error).message });
      await store
        .update(id, 'receiver', { status, errorCode: code, errorDetail: detail, wireBytes: this.wireBytes(), updatedAt: clock.now() })
        .catch((again: unknown) =>
          logger.error('could not record a failed transfer', { transferId: id, reason: (again as Error).message }),
        );
    }
    await this.event('transfer.failed', detail, code);
  }

  /** A held piece that no longer matched its record: worth an audit record of its own. */
  async heldDamaged(damaged: number, recorded: number): Promise<void> {
    await this.event(
      'error',
      `${damaged} of ${recorded} recorded pieces no longer matched their records when read back; they are sent again`,
      'E_HELD_PIECE_DAMAGED',
    );
  }

  /**
   * Removes the record this session made, and the partial file when the folder is given (a
   * transfer that never got a piece leaves nothing behind); never throws.
   */
  async forget(folder: ReceiveFolder | undefined): Promise<void> {
    const id = this.manifest.transferId;
    try {
      await folder?.discardPartial(id);
      if (this.createdHere) await this.deps.store.delete(id, 'receiver');
    } catch (e) {
      this.deps.logger.error('could not remove an empty transfer', { transferId: id, reason: (e as Error).message });
    }
  }

  /** Bytes on the network for this transfer: earlier attempts plus this connection. */
  private wireBytes(): number {
    return (this.earlier?.wireBytes ?? 0) + this.connectionBytes();
  }

  private async event(type: AuditEvent['type'], detail: string, code?: ErrorCode): Promise<void> {
    await this.deps.audit.record({
      type,
      at: this.deps.clock.now(),
      peerAddress: this.peer,
      transferId: this.manifest.transferId,
      peerFingerprint: this.fingerprint,
      ...(code ? { code } : {}),
      detail,
    });
  }
}
