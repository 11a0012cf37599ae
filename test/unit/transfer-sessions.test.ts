// A sender's and a receiver's sessions against each other over an in-memory connection pair:
// the whole exchange (handshake, manifest, pieces, ACKs, the root) without sockets, and what
// each side records when the connection is cut half way and the transfer resumed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ZstdCodecAdapter } from '../../src/adapters/codec/zstd-codec.js';
import type { SendFileRequest } from '../../src/application/send-request.js';
import type { CompressedPiece, PieceCompressor } from '../../src/domain/ports/codec.js';
import { THREAD_COMPRESSION_MIN_BYTES } from '../../src/domain/policy/compression-threads.js';
import { startInProcessReceiver } from '../support/in-process.js';
import { MemoryTransport } from '../support/memory-transport.js';
import { memorySender, watched } from '../support/memory-sender.js';

const PIECE = 64 * 1024;
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A compressor that runs the codec in place of threads and counts the pieces it is given. */
async function countingCompressor(): Promise<{ compressor: PieceCompressor; pieces: () => number }> {
  const codec = await ZstdCodecAdapter.create();
  let pieces = 0;
  const compressor: PieceCompressor = {
    name: 'counting',
    parallelism: 1,
    compress(data: Uint8Array, level: number, into: Uint8Array): Promise<CompressedPiece> {
      pieces++;
      return Promise.resolve({ data, into, compressed: codec.compress(data, level) });
    },
    close: () => Promise.resolve(),
  };
  return { compressor, pieces: () => pieces };
}

describe('sessions over an in-memory connection pair', () => {
  it('delivers a file of many pieces whole, and both sides record it completed', async () => {
    const transport = new MemoryTransport();
    const receiver = await startInProcessReceiver({ transport });
    const file = join(receiver.dir, '..', `memory-${process.pid}.bin`);
    const content = new Uint8Array(10 * PIECE + 123).map((_, i) => (i * 7) % 251);
    writeFileSync(file, content);
    const { sendFile, store } = await memorySender(transport);
    const request: SendFileRequest = {
      host: '127.0.0.1',
      port: receiver.port,
      filePath: file,
      compressionLevel: 3,
      pieceSize: PIECE,
      connectTimeoutMs: 1000,
      idleTimeoutMs: 5000,
    };
    const outcome = await sendFile.execute(request);
    await receiver.stop();
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    assert.equal(sha(readFileSync(join(receiver.dir, `memory-${process.pid}.bin`))), sha(content));
    const sent = await store.get(outcome.transferId, 'sender');
    const received = await receiver.store.get(outcome.transferId, 'receiver');
    assert.equal(sent?.status, 'completed');
    assert.equal(received?.status, 'completed');
    assert.equal(received?.piecesDone, 11);
    assert.equal((await store.pieces(outcome.transferId, 'sender')).length, 11, 'every piece recorded by the sender');
  });

  it('compresses a small send inline and a large one on the compression threads', async () => {
    const transport = new MemoryTransport();
    const receiver = await startInProcessReceiver({ transport });
    try {
      for (const [size, threaded] of [
        [THREAD_COMPRESSION_MIN_BYTES - 1, false],
        [THREAD_COMPRESSION_MIN_BYTES, true],
      ] as const) {
        const file = join(receiver.dir, '..', `threads-${size}-${process.pid}.bin`);
        const content = new Uint8Array(size).map((_, i) => (i * 7) % 251);
        writeFileSync(file, content);
        const { compressor, pieces } = await countingCompressor();
        const { sendFile } = await memorySender(transport, compressor);
        const outcome = await sendFile.execute({
          host: '127.0.0.1',
          port: receiver.port,
          filePath: file,
          compressionLevel: 1,
          connectTimeoutMs: 1000,
          idleTimeoutMs: 5000,
        });
        assert.equal(outcome.ok, true, JSON.stringify(outcome));
        const received = join(receiver.dir, `threads-${size}-${process.pid}.bin`);
        assert.equal(sha(readFileSync(received)), sha(content));
        rmSync(file);
        rmSync(received);
        assert.ok(outcome.ok && outcome.wireBytes < size / 4, `${size} bytes compressed on the way: ${outcome.ok && outcome.wireBytes}`);
        if (threaded) assert.ok(pieces() > 0, `${size} bytes: compressed on the threads`);
        else assert.equal(pieces(), 0, `${size} bytes: compressed inline, no thread started`);
      }
    } finally {
      await receiver.stop();
    }
  });

  it('records a transfer cut half way as resumable on both sides, and a resume sends only what is missing', async () => {
    const memory = new MemoryTransport();
    const receiver = await startInProcessReceiver({ transport: memory });
    const name = `cut-${process.pid}.bin`;
    const file = join(receiver.dir, '..', name);
    const content = new Uint8Array(40 * PIECE).map((_, i) => (i * 13 + (i >> 9)) % 256);
    writeFileSync(file, content);
    const { sendFile, store } = await memorySender(watched(memory, 24 * PIECE));
    const request: SendFileRequest = {
      host: '127.0.0.1',
      port: receiver.port,
      filePath: file,
      compressionLevel: 0,
      pieceSize: PIECE,
      connectTimeoutMs: 1000,
      idleTimeoutMs: 5000,
    };
    const first = await sendFile.execute(request);
    assert.equal(first.ok, false);
    assert.equal(first.ok || first.code, 'E_CONNECTION_LOST');
    assert.ok(!readdirSync(receiver.dir).includes(name), 'no partial file under the final name');
    for (
      let waited = 0;
      (await receiver.store.get(first.transferId, 'receiver'))?.status === 'in-progress' && waited < 5000;
      waited += 20
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const cutRecord = await receiver.store.get(first.transferId, 'receiver');
    assert.deepEqual([cutRecord?.status, cutRecord?.errorCode], ['failed', 'E_CONNECTION_LOST']);
    assert.ok(cutRecord!.piecesDone > 0 && cutRecord!.piecesDone < 40, `${cutRecord?.piecesDone} pieces recorded before the cut`);
    assert.equal((await store.get(first.transferId, 'sender'))?.status, 'failed');

    const resumed = await sendFile.resume({ ...request, transferId: first.transferId });
    await receiver.stop();
    assert.equal(resumed.ok, true, JSON.stringify(resumed));
    assert.ok(resumed.ok);
    assert.equal(resumed.piecesHeld, cutRecord!.piecesDone, 'every piece the receiver recorded was held and confirmed');
    const missing = 40 - resumed.piecesHeld;
    // The missing pieces (sent raw here) and a little for the handshake, the records and the replies.
    assert.ok(
      resumed.wireBytes < missing * PIECE * 1.01 + 16 * 1024,
      `the resume sent ${resumed.wireBytes} bytes for ${missing} missing pieces`,
    );
    assert.equal(sha(readFileSync(join(receiver.dir, name))), sha(content));
    assert.equal((await store.get(first.transferId, 'sender'))?.status, 'completed');
  });
});
