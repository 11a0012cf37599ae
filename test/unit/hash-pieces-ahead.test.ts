import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { hashPiecesAhead } from '../../src/application/hash-pieces-ahead.js';

const sha256 = (d: Uint8Array) => new Uint8Array(createHash('sha256').update(d).digest());
const file = Uint8Array.from({ length: 100 }, (_, i) => i);
const m = { fileSize: 100, pieceSize: 30 };

describe('hashing pieces ahead', () => {
  it('hashes the chosen pieces, reading at most one ahead of the one being hashed', async () => {
    let inFlight = 0;
    let most = 0;
    const read = async (offset: number, length: number) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return file.subarray(offset, offset + length);
    };
    const hashes = hashPiecesAhead(read, m, [0, 2, 3], sha256);
    assert.deepEqual(await hashes.get(0), sha256(file.subarray(0, 30)));
    assert.deepEqual(await hashes.get(2), sha256(file.subarray(60, 90)));
    assert.deepEqual(await hashes.get(3), sha256(file.subarray(90, 100)), 'the short last piece');
    assert.equal(hashes.get(1), undefined);
    assert.ok(most <= 2, `${most} reads at once`);
  });

  it('gives no hash for a piece the file is too short to hold, and fails the rest after a read error', async () => {
    const short = hashPiecesAhead(async (o, l) => file.subarray(o, Math.min(o + l, 50)), m, [1], sha256);
    assert.equal(await short.get(1), undefined);
    const broken = hashPiecesAhead(async (o) => (o >= 30 ? Promise.reject(new Error('EIO')) : file.subarray(0, 30)), m, [0, 1, 2], sha256);
    assert.ok(await broken.get(0));
    await assert.rejects(broken.get(1)!, /EIO/);
    await assert.rejects(broken.get(2)!, /EIO/);
  });
});
