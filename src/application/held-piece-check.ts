// A resume's held pieces are checked, never assumed (PROTOCOL.md §6a): each piece ACCEPT listed as
// held is read back from the partial file and hashed while the missing pieces arrive, and its
// verdict is whether its bytes still hash to the recorded hash. A piece that cannot be read (a
// truncated or damaged file) is not intact.
import { constantTimeEqual } from '../domain/bytes.js';
import type { PartialFile } from '../domain/ports/files.js';
import type { Manifest } from '../domain/transfer/manifest.js';
import { hashPiecesAhead } from './hash-pieces-ahead.js';

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
