// The Codec port on zstd-napi, a native binding to libzstd compiled from source at install.
// Kept beside zstd-codec (the design card's package) because it is measured several times
// faster (bench/codecs.ts: about 6x compressing random data, 1.5x compressing text and 5x
// decompressing text on 1 MiB pieces) and runs every level on 2 MiB pieces.
import { createRequire } from 'node:module';
import { SecureTransferError } from '../../domain/errors.js';
import type { Codec } from '../../domain/ports/codec.js';

interface Binding {
  CCtx: new () => { compress(dst: Uint8Array, src: Uint8Array, level: number): number };
  DCtx: new () => { decompress(dst: Uint8Array, src: Uint8Array): number };
  compressBound(size: number): number;
  getFrameContentSize(frame: Uint8Array): number | null;
}

const require = createRequire(import.meta.url);
/** Inputs up to the largest piece with room to spare, as zstd-codec. */
export const ZSTD_NAPI_MAX_INPUT = 3 * 1024 * 1024;
export const ZSTD_NAPI_MAX_LEVEL = 19;

export class ZstdNapiCodec implements Codec {
  readonly name = 'zstd-napi';
  readonly maxInputSize = ZSTD_NAPI_MAX_INPUT;
  readonly maxLevel = ZSTD_NAPI_MAX_LEVEL;
  private readonly binding: Binding;
  // Contexts are reused: creating one per piece costs more than compressing a small piece.
  private readonly cctx;
  private readonly dctx;

  constructor() {
    this.binding = require('zstd-napi/binding.js') as Binding;
    this.cctx = new this.binding.CCtx();
    this.dctx = new this.binding.DCtx();
  }

  compressBound(size: number): number {
    return this.binding.compressBound(size);
  }

  compress(data: Uint8Array, level: number, into?: Uint8Array): Uint8Array {
    if (data.length > this.maxInputSize) {
      throw new SecureTransferError('E_INTERNAL', `zstd input of ${data.length} bytes exceeds ${this.maxInputSize}`);
    }
    if (!Number.isInteger(level) || level < 1 || level > this.maxLevel)
      throw new RangeError(`zstd level ${level} outside 1..${this.maxLevel}`);
    const bound = this.binding.compressBound(data.length);
    const out = into && into.length >= bound ? into : new Uint8Array(bound);
    const written = this.cctx.compress(out, data, level);
    return out.subarray(0, written);
  }

  decompress(data: Uint8Array, maxOutput: number, into?: Uint8Array): Uint8Array {
    if (data.length > this.maxInputSize) {
      throw new SecureTransferError('E_DECOMPRESS', `compressed input of ${data.length} bytes exceeds ${this.maxInputSize}`);
    }
    let declared: number | null;
    try {
      declared = this.binding.getFrameContentSize(data);
    } catch (e) {
      throw new SecureTransferError('E_DECOMPRESS', `not a zstd frame: ${(e as Error).message}`);
    }
    // docs/requirements.md#compression: judge the declared size before allocating; libzstd then refuses to write past
    // the buffer, so a frame that lies about its size fails instead of growing.
    if (declared === null || declared === 0) throw new SecureTransferError('E_DECOMPRESS', 'zstd frame without a usable content size');
    if (declared > maxOutput) throw new SecureTransferError('E_DECOMPRESS', `zstd frame declares ${declared} bytes, limit ${maxOutput}`);
    const out = into && into.length >= declared ? into.subarray(0, declared) : new Uint8Array(declared);
    let written: number;
    try {
      written = this.dctx.decompress(out, data);
    } catch (e) {
      throw new SecureTransferError('E_DECOMPRESS', `corrupt zstd data: ${(e as Error).message}`);
    }
    if (written !== declared) throw new SecureTransferError('E_DECOMPRESS', 'corrupt zstd data: the frame does not hold its declared size');
    return out;
  }
}
