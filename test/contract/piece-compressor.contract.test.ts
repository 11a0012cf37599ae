// The PieceCompressor port on its worker-thread adapter: pieces come back compressed (readable by
// the codec the receiver runs), the memory handed over returns, and failures stay contained.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { WorkerPieceCompressor } from '../../src/adapters/codec/worker-piece-compressor.js';
import { ZstdNapiCodec } from '../../src/adapters/codec/zstd-napi-codec.js';
import { bundleDir } from '../support/paths.js';

const codec = new ZstdNapiCodec();
const text = (n: number, seed: number) => new TextEncoder().encode(`line ${seed} GET /index.html 200 ok\n`.repeat(n));

// The thread's module as tsc compiled it, and as the bundled CLI starts it (dist/bundle).
const layouts = [
  { layout: 'dist/src', script: undefined },
  { layout: 'dist/bundle', script: pathToFileURL(join(bundleDir, 'zstd-worker-thread.js')) },
];

for (const { layout, script } of layouts)
  for (const threads of [1, 2])
    describe(`PieceCompressor contract: ${threads} worker thread(s), ${layout}`, () => {
      const compressor = new WorkerPieceCompressor(threads, script);
      after(() => compressor.close());

      it('says how many pieces it works on at once', () => {
        assert.equal(compressor.parallelism, threads);
        assert.throws(() => new WorkerPieceCompressor(0), RangeError);
      });

      it('compresses pieces given at once, each back in its own memory, readable by the codec', async () => {
        const inputs = [text(20_000, 1), new Uint8Array(randomBytes(300_000)), text(30_000, 2), text(25_000, 9), text(5_000, 10)];
        const expected = inputs.map((d) => Uint8Array.from(d));
        const outs = inputs.map((d) => new Uint8Array(codec.compressBound(d.length)));
        const results = await Promise.all(inputs.map((d, i) => compressor.compress(d, 3, outs[i]!)));
        for (const [i, r] of results.entries()) {
          assert.deepEqual(r.data, expected[i], 'the input comes back unchanged');
          assert.equal(r.into.length, codec.compressBound(expected[i]!.length), 'the output buffer comes back whole');
          assert.equal(r.compressed.buffer, r.into.buffer, 'output written into the buffer handed over');
          assert.deepEqual(codec.decompress(r.compressed, expected[i]!.length), expected[i]);
        }
        assert.ok(results[0]!.compressed.length < expected[0]!.length / 10);
      });

      it('moves a piece buffer instead of copying it, and copies a view into someone else memory', async () => {
        const piece = text(10_000, 3);
        const out = new Uint8Array(codec.compressBound(piece.length));
        const pending = compressor.compress(piece, 3, out);
        assert.equal(piece.byteLength, 0, 'the piece memory went to the thread');
        const back = await pending;
        assert.equal(back.data.length, text(10_000, 3).length);

        const shared = text(10_000, 4);
        const view = shared.subarray(100);
        const r = await compressor.compress(view, 3, new Uint8Array(codec.compressBound(view.length)));
        assert.equal(shared.byteLength, text(10_000, 4).length, 'a view inside a larger buffer is copied, never detached');
        assert.deepEqual(codec.decompress(r.compressed, view.length), view);
      });

      it('spills output that does not fit the buffer into its own', async () => {
        const random = new Uint8Array(randomBytes(100_000));
        const r = await compressor.compress(Uint8Array.from(random), 3, new Uint8Array(16));
        assert.notEqual(r.compressed.buffer, r.into.buffer);
        assert.deepEqual(codec.decompress(r.compressed, random.length), random);
      });

      it('rejects a bad level with the codec error and keeps working', async () => {
        await assert.rejects(compressor.compress(text(100, 5), 99, new Uint8Array(codec.compressBound(4000))), /level 99/);
        const r = await compressor.compress(text(100, 6), 1, new Uint8Array(codec.compressBound(4000)));
        assert.deepEqual(codec.decompress(r.compressed, 4000), text(100, 6));
      });

      it('refuses work once closed', async () => {
        const closing = new WorkerPieceCompressor();
        await closing.compress(text(100, 7), 3, new Uint8Array(codec.compressBound(4000)));
        await closing.close();
        await assert.rejects(closing.compress(text(100, 8), 3, new Uint8Array(10)), /closed/);
      });
    });
