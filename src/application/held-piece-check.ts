// A resume's held pieces are checked, never assumed (PROTOCOL.md §6a): each piece ACCEPT listed as
// held is read back from the partial file and hashed while the missing pieces arrive, and its
// verdict is whether its bytes still hash to the recorded hash. A piece that cannot be read (a
// truncated or damaged file) is not intact.
import { constantTimeEqual } from '../domain/bytes.js';
import type { ErrorCode } from '../domain/errors.js';
import type { PartialFile } from '../domain/ports/files.js';
import type { Logger } from '../domain/ports/logger.js';
import { pieceRange, type Manifest } from '../domain/transfer/manifest.js';
import type { ReceivingTransfer } from '../domain/transfer/receiving-transfer.js';
import { encodeNack } from '../domain/wire/messages.js';
import type { DurablePieceSink } from './durable-piece-sink.js';
import { hashPiecesAhead, READS_AHEAD, READS_AHEAD_FROM_DISK } from './hash-pieces-ahead.js';
import type { TransferRecords } from './transfer-records.js';

export interface HeldVerdict {
  readonly index: number;
  readonly intact: boolean;
}

export interface HeldPieceCheck {
  /** One verdict per held piece, in the order given. */
  readonly verdicts: AsyncIterable<HeldVerdict>;
  /** Reads no further; resolves once the reads in flight have settled, so the file may be closed. */
  stop(): Promise<void>;
}

export function checkHeldPieces(
  partial: PartialFile,
  m: Pick<Manifest, 'fileSize' | 'pieceSize'>,
  indexes: readonly number[],
  recorded: (index: number) => Uint8Array,
  sha256: (data: Uint8Array) => Uint8Array,
  readsAhead: number,
): HeldPieceCheck {
  const hashing = hashPiecesAhead((offset, length, into) => partial.read(offset, length, into), m, indexes, sha256, readsAhead);
  async function* verdicts(): AsyncGenerator<HeldVerdict> {
    for (const index of indexes) {
      const hash = await hashing.hashes.get(index)!.catch(() => undefined);
      yield { index, intact: hash !== undefined && constantTimeEqual(hash, recorded(index)) };
    }
  }
  return { verdicts: verdicts(), stop: () => hashing.stop() };
}

export interface HeldCheckDeps {
  readonly transfer: ReceivingTransfer;
  readonly partial: PartialFile;
  readonly sink: DurablePieceSink;
  readonly records: TransferRecords;
  readonly sha256: (data: Uint8Array) => Uint8Array;
  readonly logger: Logger;
  /** Whether the session has ended: verdicts after it change nothing. */
  readonly ended: () => boolean;
  readonly ack: (index: number) => Promise<void>;
  readonly nack: (message: Uint8Array) => Promise<void>;
  /** A verdict the transfer refused (a bug, not the peer's doing): the session ends with it. */
  readonly stop: (code: ErrorCode, detail: string) => void;
}

/**
 * Runs the check of a resume's held pieces beside the reception of the missing ones: an intact
 * piece is ACKed, a damaged one NACKed (it comes again) and audited; the sender finishes only
 * after every verdict. Undefined when nothing is held.
 */
export function verifyHeldPieces(deps: HeldCheckDeps): { readonly check: HeldPieceCheck; readonly done: Promise<void> } | undefined {
  const { transfer, sink, records, logger } = deps;
  const m = transfer.manifest;
  const indexes = transfer.pieces.indexesIn('held');
  if (indexes.length === 0) return undefined;
  // Reading one ahead checks about twice as fast as pieces arrive here: enough unless far more
  // is held than missing, where the check is what the transfer waits for.
  const readsAhead = indexes.length > 2 * transfer.pieces.countIn('missing') ? READS_AHEAD_FROM_DISK : READS_AHEAD;
  const check = checkHeldPieces(deps.partial, m, indexes, (i) => transfer.pieces.hash(i), deps.sha256, readsAhead);
  const done = (async () => {
    let damaged = 0;
    for await (const { index, intact } of check.verdicts) {
      if (deps.ended()) return;
      const verdict = transfer.heldChecked(index, intact);
      if (!verdict.ok) return deps.stop(verdict.code, verdict.detail);
      if (verdict.value === 'confirm') {
        await deps.ack(index);
        continue;
      }
      damaged++;
      sink.dropHeld(pieceRange(m, index).length);
      await deps.nack(encodeNack(index, 'E_HELD_PIECE_DAMAGED'));
    }
    if (damaged === 0)
      return logger.info('resume: every recorded piece read back intact', { transferId: m.transferId, recorded: indexes.length });
    logger.warn('resume: recorded pieces failed re-verification and are sent again', {
      transferId: m.transferId,
      recorded: indexes.length,
      damaged,
    });
    await records.heldDamaged(damaged, indexes.length);
  })().catch((e: unknown) => {
    // A verdict that cannot be sent means the connection is gone: the session's read loop sees
    // that too and ends the session with its reason.
    logger.debug('resume: the held-piece check stopped', { transferId: m.transferId, reason: (e as Error).message });
  });
  return { check, done };
}
