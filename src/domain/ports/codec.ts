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
   * Decompresses at most maxOutput bytes (SPEC §3.6: no bombs). Throws SecureTransferError
   * E_DECOMPRESS for corrupt input or output that would exceed maxOutput. into as for compress
   * (used when it holds the frame's declared size).
   */
  decompress(data: Uint8Array, maxOutput: number, into?: Uint8Array): Uint8Array;
}
