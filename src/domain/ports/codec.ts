export interface Codec {
  readonly name: string;
  /** Largest input compress() accepts; larger inputs are refused with an error, never a crash. */
  readonly maxInputSize: number;
  /** Highest compression level the adapter can run on maxInputSize without failing. */
  readonly maxLevel: number;
  compress(data: Uint8Array, level: number): Uint8Array;
  /**
   * Decompresses at most maxOutput bytes (SPEC §3.6: no bombs). Throws SecureTransferError
   * E_DECOMPRESS for corrupt input or output that would exceed maxOutput.
   */
  decompress(data: Uint8Array, maxOutput: number): Uint8Array;
}
