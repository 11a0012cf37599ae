// Hashes chosen pieces of a file in order, reading the next piece while the current one is
// hashed (the read runs on the thread pool). Used to re-verify held pieces on a resume: by the
// receiver against its partial file, and by the sender against its source while it connects.
import { pieceRange, type Manifest } from '../domain/transfer/manifest.js';

/** Hash of each piece, or undefined when the file holds fewer bytes than the piece needs. */
export type PieceHashes = ReadonlyMap<number, Promise<Uint8Array | undefined>>;

export function hashPiecesAhead(
  read: (offset: number, length: number) => Promise<Uint8Array>,
  m: Pick<Manifest, 'fileSize' | 'pieceSize'>,
  indexes: readonly number[],
  sha256: (data: Uint8Array) => Uint8Array,
): PieceHashes {
  const settle = new Map<number, { resolve: (h: Uint8Array | undefined) => void; reject: (e: unknown) => void }>();
  const hashes = new Map<number, Promise<Uint8Array | undefined>>();
  for (const index of indexes) {
    const promise = new Promise<Uint8Array | undefined>((resolve, reject) => settle.set(index, { resolve, reject }));
    // A hash nobody asks for (the transfer ended first) must not surface as unhandled.
    promise.catch(() => undefined);
    hashes.set(index, promise);
  }
  const readPiece = (index: number) => {
    const range = pieceRange(m, index);
    const pending = read(range.offset, range.length);
    pending.catch(() => undefined);
    return { pending, length: range.length };
  };
  void (async () => {
    let next = indexes.length > 0 ? readPiece(indexes[0]!) : undefined;
    for (const [k, index] of indexes.entries()) {
      const current = next!;
      next = k + 1 < indexes.length ? readPiece(indexes[k + 1]!) : undefined;
      try {
        const bytes = await current.pending;
        settle.get(index)!.resolve(bytes.length === current.length ? sha256(bytes) : undefined);
      } catch (e) {
        for (const later of indexes.slice(k)) settle.get(later)!.reject(e);
        return;
      }
    }
  })();
  return hashes;
}
