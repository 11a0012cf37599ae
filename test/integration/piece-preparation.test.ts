// The sender's piece preparation with the real compression worker: buffers go to the worker's
// thread and come back as new memory, which the pool adopts and lends again. Every piece, sent in
// order with reads and compression ahead, must still hash and decompress to the source's bytes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SystemClock } from '../../src/adapters/clock/system-clock.js';
import { WorkerPieceCompressor } from '../../src/adapters/codec/worker-piece-compressor.js';
import { ZstdNapiCodec } from '../../src/adapters/codec/zstd-napi-codec.js';
import { NodeCryptoPrimitives } from '../../src/adapters/crypto/node-crypto-primitives.js';
import { NodeSourceFiles } from '../../src/adapters/filesystem/node-source-files.js';
import { PiecePreparation } from '../../src/application/piece-preparation.js';
import { pieceCountFor, pieceRange, type Manifest } from '../../src/domain/transfer/manifest.js';
import { PieceEncoding } from '../../src/domain/wire/messages.js';

const PIECE = 64 * 1024;
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('piece preparation with the compression worker', () => {
  const compressor = new WorkerPieceCompressor(2);
  after(() => compressor.close());

  it('hands buffers to the worker and lends what comes back again without mixing pieces', async () => {
    // Text-like pieces that compress, each different, and one random piece that is sent raw.
    const content = new Uint8Array(24 * PIECE + 1000);
    const line = new TextEncoder().encode('GET /index.html 200 ok ');
    for (let i = 0; i < content.length; i++) content[i] = line[i % line.length]! ^ (Math.floor(i / PIECE) & 0x0f);
    content.set(new NodeCryptoPrimitives().randomBytes(PIECE), 5 * PIECE);
    const path = join(mkdtempSync(join(tmpdir(), 'st-prep-')), 'source.txt');
    writeFileSync(path, content);
    const source = await new NodeSourceFiles().open(path);
    const manifest: Manifest = {
      transferId: '1b4e28ba-2fa1-4d2e-883f-0016d3cca427',
      fileName: 'source.txt',
      fileSize: content.length,
      pieceSize: PIECE,
      pieceCount: pieceCountFor(content.length, PIECE),
      compression: 'zstd',
      resume: false,
    };
    const codec = new ZstdNapiCodec();
    const crypto = new NodeCryptoPrimitives();
    const prep = new PiecePreparation({ manifest, source, crypto, codec, compressor, compressionLevel: 3, clock: new SystemClock() });
    let compressed = 0;
    try {
      for (let index = 0; index < manifest.pieceCount; index++) {
        const piece = prep.prepare(index);
        prep.readAhead(Array.from({ length: manifest.pieceCount - index - 1 }, (_, k) => index + 1 + k));
        const p = await piece;
        const range = pieceRange(manifest, index);
        const original = content.subarray(range.offset, range.offset + range.length);
        assert.equal(Buffer.from(p.hash).toString('hex'), sha(original), `hash of piece ${index}`);
        const raw = p.encoding === PieceEncoding.ZSTD ? codec.decompress(p.data, PIECE) : p.data;
        assert.equal(sha(raw), sha(original), `bytes of piece ${index}`);
        if (p.encoding === PieceEncoding.ZSTD) compressed++;
        // Compressed on the worker: both buffers came back from its thread, for the pool to adopt.
        if (p.encoding === PieceEncoding.ZSTD) assert.deepEqual([p.buffers.length, p.returned.length], [0, 2]);
        // The held-piece hash of an earlier piece, between sends, reads through the same pool.
        if (index % 7 === 6)
          assert.equal(
            Buffer.from(await prep.hashOf(index - 3)).toString('hex'),
            sha(content.subarray((index - 3) * PIECE, (index - 2) * PIECE)),
          );
        prep.sealed(p, 1);
      }
    } finally {
      await source.close();
    }
    assert.ok(compressed >= 20, `${compressed} pieces compressed`);
  });
});
