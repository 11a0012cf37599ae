export interface Codec {
  readonly name: string;
  /** Largest input compress() accepts; larger inputs are refused with an error, never a crash. */
  readonly maxInputSize: number;
  /** Highest compression level the adapter can run on maxInputSize without failing. */
  readonly maxLevel: number;
  /** The most bytes compress() can produce from size bytes: a buffer this long fits any output. */
  compressBound(size: number): number;
  /**
   * Compresses data. into, when given, is a buffer the adapter may write the result to (if it
   * is at least compressBound(data.length) long): the result is then a view of it, else new.
   * Reusing one buffer spares a fresh, page-faulting 1 MiB allocation per piece.
   */
  compress(data: Uint8Array, level: number, into?: Uint8Array): Uint8Array;
  /**
   * Decompresses at most maxOutput bytes (docs/requirements.md#compression: no bombs). Throws SecureTransferError
   * E_DECOMPRESS for corrupt input or output that would exceed maxOutput. into as for compress
   * (used when it holds the frame's declared size).
   */
  decompress(data: Uint8Array, maxOutput: number, into?: Uint8Array): Uint8Array;
}

/** What a PieceCompressor hands back: the input and the output memory, and the compressed bytes. */
export interface CompressedPiece {
  /** The input bytes, unchanged (a view over the same memory, usable again). */
  readonly data: Uint8Array;
  /** The output buffer given to compress, usable again once compressed is done with. */
  readonly into: Uint8Array;
  /** The compressed bytes: a view of into when they fit it. */
  readonly compressed: Uint8Array;
}

/**
 * Compression off the caller's thread, so the sender seals and sends one piece while the next
 * compresses (text is compression-bound: zstd level 3 is three quarters of the sender's CPU).
 * data and into are handed over: their memory may be unreadable from the caller's side until
 * the promise settles, and comes back in the result; after a failure it is lost.
 */
export interface PieceCompressor {
  readonly name: string;
  /** Pieces it compresses at once: the sender keeps that many (and one more) read ahead. */
  readonly parallelism: number;
  compress(data: Uint8Array, level: number, into: Uint8Array): Promise<CompressedPiece>;
  /** Stops the compressor; calls after this fail. */
  close(): Promise<void>;
}
