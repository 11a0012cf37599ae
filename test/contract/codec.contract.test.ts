// Every Codec adapter: round trip, refusing bombs and corrupt input, and oversized input.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { ZstdCodecAdapter } from '../../src/adapters/codec/zstd-codec.js';
import { ZstdNapiCodec } from '../../src/adapters/codec/zstd-napi-codec.js';
import { SecureTransferError } from '../../src/domain/errors.js';
import type { Codec } from '../../src/domain/ports/codec.js';

const adapters: [string, () => Promise<Codec>][] = [
  ['zstd-codec', () => ZstdCodecAdapter.create()],
  ['zstd-napi', () => Promise.resolve(new ZstdNapiCodec())],
];

for (const [name, make] of adapters) {
  describe(`Codec contract: ${name}`, () => {
    let codec: Codec;
    before(async () => {
      codec = await make();
    });

    it('round-trips text and random data at several levels', () => {
      const text = new TextEncoder().encode('GET /index.html 200\n'.repeat(50_000));
      for (const data of [text, new Uint8Array(randomBytes(100_000))]) {
        for (const level of [1, 3, codec.maxLevel]) assert.deepEqual(codec.decompress(codec.compress(data, level), data.length), data);
      }
    });

    it('bounds its output by compressBound, and round-trips through reused buffers', () => {
      const text = new TextEncoder().encode('GET /index.html 200\n'.repeat(20_000));
      const random = new Uint8Array(randomBytes(300_000));
      const out = new Uint8Array(codec.compressBound(text.length));
      const back = new Uint8Array(text.length).fill(0xee);
      for (const data of [random, text, random]) {
        const compressed = codec.compress(data, 3, out);
        assert.ok(compressed.length <= codec.compressBound(data.length), 'output within the bound');
        // An adapter that uses the buffers returns views of them; the bytes are right either way.
        if (codec.name === 'zstd-napi') assert.equal(compressed.buffer, out.buffer, 'the native adapter writes in place');
        if (compressed.buffer === out.buffer) assert.equal(compressed.byteOffset, 0);
        const restored = codec.decompress(compressed, data.length, back);
        assert.deepEqual(restored, data);
        if (restored.buffer === back.buffer) assert.equal(restored.length, data.length);
      }
      // A buffer too small is not written past: the result is then a new buffer.
      const small = new Uint8Array(10);
      assert.deepEqual(codec.decompress(codec.compress(text, 3, small), text.length, small), text);
      assert.ok(
        small.every((b) => b === 0),
        'a too-small buffer was written to',
      );
    });

    it('refuses output above the cap before allocating it (a bomb)', () => {
      const bomb = codec.compress(new Uint8Array(2 * 1024 * 1024), codec.maxLevel);
      assert.ok(bomb.length < 1024, 'zeros compress to a tiny frame');
      assert.throws(
        () => codec.decompress(bomb, 1024 * 1024),
        (e: unknown) => e instanceof SecureTransferError && e.code === 'E_DECOMPRESS',
      );
    });

    it('refuses corrupt and truncated frames with E_DECOMPRESS', () => {
      const good = codec.compress(new TextEncoder().encode('hello hello hello hello hello'.repeat(100)), 3);
      const truncated = good.subarray(0, good.length - 3);
      const garbage = new Uint8Array(randomBytes(64));
      for (const input of [truncated, garbage, new Uint8Array(0)]) {
        assert.throws(
          () => codec.decompress(input, 1 << 20),
          (e: unknown) => e instanceof SecureTransferError && e.code === 'E_DECOMPRESS',
        );
      }
    });

    it('refuses input above its maximum and levels above its maximum instead of crashing', () => {
      assert.throws(() => codec.compress(new Uint8Array(codec.maxInputSize + 1), 3), SecureTransferError);
      assert.throws(() => codec.compress(new Uint8Array(10), codec.maxLevel + 1), RangeError);
    });

    it('reads frames the other adapter wrote: the wire format is zstd, not an adapter', async () => {
      const other = name === 'zstd-napi' ? await ZstdCodecAdapter.create() : new ZstdNapiCodec();
      const data = new TextEncoder().encode('interoperable '.repeat(10_000));
      assert.deepEqual(codec.decompress(other.compress(data, 3), data.length), data);
      assert.deepEqual(other.decompress(codec.compress(data, 3), data.length), data);
    });

    it('refuses a frame that holds more than its header declares, within the buffer it declared', () => {
      const data = new Uint8Array(randomBytes(200));
      const frame = Uint8Array.from(codec.compress(data, 3));
      // Frame header: magic (4 bytes), then the descriptor; a small single-segment frame
      // without a dictionary keeps its content size in the one byte after the descriptor.
      const descriptor = frame[4]!;
      assert.equal(descriptor & 0xc3, 0, 'one-byte content size, no dictionary');
      assert.ok(descriptor & 0x20, 'single segment');
      assert.equal(frame[5], 200);
      frame[5] = 100; // the header now lies: 100 bytes declared, 200 inside
      assert.throws(
        () => codec.decompress(frame, 150),
        (e: unknown) => e instanceof SecureTransferError && e.code === 'E_DECOMPRESS',
      );
    });

    it('refuses a frame without a content size, as PROTOCOL.md requires, with E_DECOMPRESS', () => {
      const data = new Uint8Array(randomBytes(200));
      const frame = Uint8Array.from(codec.compress(data, 3));
      assert.ok(frame[4]! & 0x20 && (frame[4]! & 0xc0) === 0, 'single segment with a one-byte content size');
      // The same frame as a streaming compressor writes it: no content size, a window
      // descriptor in its place (exponent 0: a 1 KiB window, enough for 200 bytes).
      frame[4] = frame[4]! & ~0x20;
      frame[5] = 0;
      assert.throws(
        () => codec.decompress(frame, 16_384),
        (e: unknown) => e instanceof SecureTransferError && e.code === 'E_DECOMPRESS' && /content size/.test(e.message),
      );
    });

    it('compresses a largest piece (2 MiB) of text and of random data at its maximum level', () => {
      const text = new TextEncoder().encode('GET /index.html 200 '.repeat(110_000)).subarray(0, 2 * 1024 * 1024);
      const random = new Uint8Array(randomBytes(2 * 1024 * 1024));
      for (const data of [text, random]) assert.deepEqual(codec.decompress(codec.compress(data, codec.maxLevel), data.length), data);
    });
  });
}
