import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { hashPiecesAhead, READS_AHEAD } from '../../src/application/hash-pieces-ahead.js';

const sha256 = (d: Uint8Array) => new Uint8Array(createHash('sha256').update(d).digest());
const file = Uint8Array.from({ length: 100 }, (_, i) => i);
const m = { fileSize: 100, pieceSize: 30 };

describe('hashing pieces ahead', () => {
  it('hashes the chosen pieces, reading a bounded window ahead into reused buffers', async () => {
    let inFlight = 0;
    let most = 0;
    const buffers = new Set<ArrayBufferLike>();
    const read = async (offset: number, length: number, into: Uint8Array) => {
      most = Math.max(most, ++inFlight);
      buffers.add(into.buffer);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      into.set(file.subarray(offset, offset + length));
      return into.subarray(0, Math.min(length, file.length - offset));
    };
    const chosen = [0, 2, 3];
    const small = { fileSize: 100, pieceSize: 10 };
    const many = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const hashes = hashPiecesAhead(read, m, chosen, sha256).hashes;
    assert.deepEqual(await hashes.get(0), sha256(file.subarray(0, 30)));
    assert.deepEqual(await hashes.get(2), sha256(file.subarray(60, 90)));
    assert.deepEqual(await hashes.get(3), sha256(file.subarray(90, 100)), 'the short last piece');
    assert.equal(hashes.get(1), undefined);

    most = 0;
    buffers.clear();
    const all = hashPiecesAhead(read, small, many, sha256).hashes;
    for (const i of many) assert.deepEqual(await all.get(i), sha256(file.subarray(i * 10, i * 10 + 10)));
    assert.equal(most, READS_AHEAD + 1, `${most} reads at once`);
    assert.ok(buffers.size <= READS_AHEAD + 2, `${buffers.size} buffers for ${many.length} pieces`);

    most = 0;
    buffers.clear();
    const wide = hashPiecesAhead(read, small, many, sha256, 3).hashes;
    for (const i of many) assert.deepEqual(await wide.get(i), sha256(file.subarray(i * 10, i * 10 + 10)));
    assert.equal(most, 4, `${most} reads at once, reading three ahead`);
    assert.ok(buffers.size <= 5, `${buffers.size} buffers for ${many.length} pieces`);
  });

  it('gives no hash for a piece the file is too short to hold, and fails the rest after a read error', async () => {
    const short = hashPiecesAhead(async (o, l) => file.subarray(o, Math.min(o + l, 50)), m, [1], sha256).hashes;
    assert.equal(await short.get(1), undefined);
    const broken = hashPiecesAhead(
      async (o) => (o >= 30 ? Promise.reject(new Error('EIO')) : file.subarray(0, 30)),
      m,
      [0, 1, 2],
      sha256,
    ).hashes;
    assert.ok(await broken.get(0));
    await assert.rejects(broken.get(1)!, /EIO/);
    await assert.rejects(broken.get(2)!, /EIO/);
  });

  it('stops reading when asked, and resolves only after the reads in flight have settled', async () => {
    const small = { fileSize: 100, pieceSize: 10 };
    const started: number[] = [];
    let inFlight = 0;
    const read = async (offset: number, length: number, into: Uint8Array) => {
      started.push(offset / 10);
      inFlight++;
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      into.set(file.subarray(offset, offset + length));
      return into.subarray(0, length);
    };
    const hashing = hashPiecesAhead(read, small, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], sha256);
    assert.ok(await hashing.hashes.get(0));
    await hashing.stop();
    assert.equal(inFlight, 0, 'a read was still running when stop() resolved (the file could be closed under it)');
    assert.ok(started.length < 10, `read ${started.length} of 10 pieces after stop`);
    const readSoFar = started.length;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(started.length, readSoFar, 'reads went on after stop()');
    await assert.rejects(hashing.hashes.get(9)!, /stopped/);
  });
});
