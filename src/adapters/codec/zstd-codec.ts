// zstd through zstd-codec (Emscripten build of libzstd). It must be initialised once with
// ZstdCodec.run before use, ships no types, and aborts the process on inputs above about
// 4 MiB, so this adapter refuses larger inputs before they reach it.
import { createRequire } from 'node:module';
import { SecureTransferError } from '../../domain/errors.js';
import type { Codec } from '../../domain/ports/codec.js';

interface ZstdSimple {
  compress(data: Uint8Array, level: number): Uint8Array | null;
  decompress(data: Uint8Array): Uint8Array | null;
}
interface ZstdGeneric {
  contentSize(data: Uint8Array): number | null;
}
interface ZstdBinding {
  Simple: new () => ZstdSimple;
  Generic: new () => ZstdGeneric;
}
interface ZstdCodecModule {
  ZstdCodec: { run(callback: (zstd: ZstdBinding) => void): void };
}

const require = createRequire(import.meta.url);
export const ZSTD_CODEC_MAX_INPUT = 3 * 1024 * 1024;
/**
 * Measured: on 2 MiB pieces, levels 10 and above exhaust zstd-codec's fixed Emscripten heap and
 * abort the process (OOM), level 9 runs; so higher levels are refused with an error.
 */
export const ZSTD_CODEC_MAX_LEVEL = 9;

export class ZstdCodecAdapter implements Codec {
  readonly name = 'zstd-codec';
  readonly maxInputSize = ZSTD_CODEC_MAX_INPUT;
  readonly maxLevel = ZSTD_CODEC_MAX_LEVEL;

  private constructor(
    private readonly simple: ZstdSimple,
    private readonly generic: ZstdGeneric,
  ) {}

  static create(): Promise<ZstdCodecAdapter> {
    const { ZstdCodec } = require('zstd-codec') as ZstdCodecModule;
    return new Promise((resolve) => ZstdCodec.run((zstd) => resolve(new ZstdCodecAdapter(new zstd.Simple(), new zstd.Generic()))));
  }

  /** ZSTD_COMPRESSBOUND from zstd.h (zstd-codec does not export it). */
  compressBound(size: number): number {
    const KiB128 = 128 * 1024;
    return size + Math.floor(size / 256) + (size < KiB128 ? Math.floor((KiB128 - size) / 2048) : 0);
  }

  // zstd-codec's API always allocates its result, so the into of compress/decompress goes unused.
  compress(data: Uint8Array, level: number): Uint8Array {
    if (data.length > this.maxInputSize) {
      throw new SecureTransferError('E_INTERNAL', `zstd-codec input of ${data.length} bytes exceeds ${this.maxInputSize}`);
    }
    if (!Number.isInteger(level) || level < 1 || level > this.maxLevel)
      throw new RangeError(`zstd level ${level} outside 1..${this.maxLevel}`);
    const out = this.simple.compress(data, level);
    if (!out) throw new SecureTransferError('E_INTERNAL', 'zstd compression failed');
    return out;
  }

  decompress(data: Uint8Array, maxOutput: number): Uint8Array {
    if (data.length > this.maxInputSize) {
      throw new SecureTransferError('E_DECOMPRESS', `compressed input of ${data.length} bytes exceeds ${this.maxInputSize}`);
    }
    // docs/requirements.md#compression: judge the declared size before allocating; libzstd then refuses to write past
    // it, so a frame that lies about its size fails instead of growing.
    const declared = this.generic.contentSize(data);
    if (declared === null || declared === 0) throw new SecureTransferError('E_DECOMPRESS', 'zstd frame without a usable content size');
    if (declared > maxOutput) throw new SecureTransferError('E_DECOMPRESS', `zstd frame declares ${declared} bytes, limit ${maxOutput}`);
    const out = this.simple.decompress(data);
    if (!out || out.length !== declared) throw new SecureTransferError('E_DECOMPRESS', 'corrupt zstd data');
    return out;
  }
}
