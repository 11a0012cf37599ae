// Hashes chosen pieces of a file in order, reading the next pieces while the current one is
// hashed (the reads run on the thread pool). Used to re-verify held pieces on a resume: by the
// receiver against its partial file, and by the sender against its source while it connects.
import { BufferPool } from '../domain/policy/buffer-pool.js';
import { pieceRange, type Manifest } from '../domain/transfer/manifest.js';

/** Hash of each piece, or undefined when the file holds fewer bytes than the piece needs. */
export type PieceHashes = ReadonlyMap<number, Promise<Uint8Array | undefined>>;

/**
 * Pieces read ahead of the one being hashed. One is enough from the page cache (the sender's
 * source). The receiver's partial file is read from the disk itself (its pieces were written
 * around the cache), where several requests at once keep the device busy: 512 MiB read and
 * hashed in 1.05 s reading one piece ahead, 0.59 s reading three ahead (O_DIRECT reads of
 * 1 MiB, nothing else running). But the receiver checks while it receives, and reads ahead
 * occupy the thread pool its piece writes need: a resume at half way of 1 GiB took 3.4-3.7 s
 * reading one ahead, 3.6-4.4 s reading three ahead. So three only where the check is the
 * longer task: when far more is held than missing.
 */
export const READS_AHEAD = 1;
export const READS_AHEAD_FROM_DISK = 3;

/** Hashes as they come, and a way to stop reading early. */
export interface PieceHashing {
  readonly hashes: PieceHashes;
  /**
   * Reads no further pieces; resolves once the reads in flight have settled, so the file can
   * be closed after it. Hashes not computed by then reject.
   */
  stop(): Promise<void>;
}

export function hashPiecesAhead(
  read: (offset: number, length: number, into: Uint8Array) => Promise<Uint8Array>,
  m: Pick<Manifest, 'fileSize' | 'pieceSize'>,
  indexes: readonly number[],
  sha256: (data: Uint8Array) => Uint8Array,
  readsAhead = READS_AHEAD,
): PieceHashing {
  const settle = new Map<number, { resolve: (h: Uint8Array | undefined) => void; reject: (e: unknown) => void }>();
  const hashes = new Map<number, Promise<Uint8Array | undefined>>();
  for (const index of indexes) {
    const promise = new Promise<Uint8Array | undefined>((resolve, reject) => settle.set(index, { resolve, reject }));
    // A hash nobody asks for (the transfer ended first) must not surface as unhandled.
    promise.catch(() => undefined);
    hashes.set(index, promise);
  }
  let stopped = false;
  // Buffers go round (BufferPool says why): one per read in flight plus the one being hashed.
  const pool = new BufferPool((readsAhead + 2) * m.pieceSize);
  const readPiece = (index: number) => {
    const range = pieceRange(m, index);
    const buffer = pool.takeOrMake(range.length);
    const pending = read(range.offset, range.length, buffer).then((bytes) => ({ bytes, buffer }));
    pending.catch(() => undefined);
    return { pending, length: range.length };
  };
  const running = (async () => {
    const reads = indexes.slice(0, readsAhead + 1).map(readPiece);
    for (const [k, index] of indexes.entries()) {
      const current = reads.shift()!;
      try {
        if (stopped) throw new Error('hashing stopped');
        const { bytes, buffer } = await current.pending;
        settle.get(index)!.resolve(bytes.length === current.length ? sha256(bytes) : undefined);
        pool.give(buffer);
      } catch (e) {
        for (const later of indexes.slice(k)) settle.get(later)!.reject(e);
        // Whatever is still being read settles before stop() resolves.
        await Promise.allSettled([current, ...reads].map((r) => r.pending));
        return;
      }
      const next = indexes[k + readsAhead + 1];
      if (next !== undefined && !stopped) reads.push(readPiece(next));
    }
  })();
  return {
    hashes,
    stop: () => {
      stopped = true;
      return running;
    },
  };
}
