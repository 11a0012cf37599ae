// The receiver's decisions about one transfer, pure: what it accepts of a manifest, each piece's
// header and decoded bytes, the retry bound, held pieces on a resume and the whole-file check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Result } from '../../src/domain/errors.js';
import { pieceCountFor, type Manifest } from '../../src/domain/transfer/manifest.js';
import { ReceivingTransfer, type HeldPiece, type PieceSlot } from '../../src/domain/transfer/receiving-transfer.js';
import { PieceEncoding, type PieceHeader } from '../../src/domain/wire/messages.js';

const KiB = 1024;
const manifest: Manifest = {
  transferId: '1b4e28ba-2fa1-4d2e-883f-0016d3cca427',
  fileName: 'data.bin',
  fileSize: 40 * KiB + 5,
  pieceSize: 16 * KiB,
  pieceCount: pieceCountFor(40 * KiB + 5, 16 * KiB),
  compression: 'zstd',
  resume: false,
};
const resumed: Manifest = { ...manifest, resume: true };
const hash = (n: number) => new Uint8Array(32).fill(n);
const lengthOf = (index: number) => (index === 2 ? 8 * KiB + 5 : 16 * KiB);
const header = (index: number, over: Partial<PieceHeader> = {}): PieceHeader => ({
  index,
  offset: index * manifest.pieceSize,
  rawLength: lengthOf(index),
  encoding: PieceEncoding.RAW,
  hash: hash(index),
  ...over,
});

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`${r.code}: ${r.detail}`);
  return r.value;
}
function code(r: Result<unknown>): string | undefined {
  return r.ok ? undefined : r.code;
}

const open = (m: Manifest = manifest, held: HeldPiece[] = []) => value(ReceivingTransfer.open(m, { nameTaken: false, held }));

/** A piece checked, judged with its right hash and written. */
function receive(t: ReceivingTransfer, index: number): PieceSlot {
  const slot = value(t.checkPiece(header(index), lengthOf(index)));
  assert.equal(value(t.judgePiece(slot, lengthOf(index), hash(index), hash(index))), 'write');
  t.written(slot);
  return slot;
}

describe('a transfer the receiver accepted', () => {
  it('offers an empty held bitfield for a new transfer', () => {
    const offer = open().accepted();
    assert.deepEqual(offer, { held: new Uint8Array(1), heldHashes: [] });
  });

  it('refuses a taken name, and held pieces for a transfer that is not a resume', () => {
    assert.equal(code(ReceivingTransfer.open(manifest, { nameTaken: true, held: [] })), 'E_FILE_EXISTS');
    assert.equal(code(ReceivingTransfer.open(manifest, { nameTaken: false, held: [{ index: 0, hash: hash(0) }] })), 'E_INTERNAL');
    assert.equal(
      code(ReceivingTransfer.open(resumed, { nameTaken: false, held: [{ index: 3, hash: hash(3) }] })),
      'E_INTERNAL',
      'out of range',
    );
  });

  const badPieces: [string, PieceHeader, number, string][] = [
    ['an index out of range', header(3), 16 * KiB, 'E_PIECE_INDEX'],
    ['a wrong offset', header(1, { offset: 0 }), 16 * KiB, 'E_PIECE_OFFSET'],
    ['a wrong declared length', header(2, { rawLength: 16 * KiB }), 16 * KiB, 'E_PIECE_LENGTH'],
    ['raw data of the wrong length', header(0), 16 * KiB - 1, 'E_PIECE_LENGTH'],
    ['compressed data that did not shrink', header(0, { encoding: PieceEncoding.ZSTD }), 16 * KiB, 'E_PIECE_LENGTH'],
  ];
  for (const [what, h, bodyLength, expected] of badPieces) {
    it(`refuses ${what} (${expected}) and leaves the piece missing`, () => {
      const t = open();
      const checked = t.checkPiece(h, bodyLength);
      assert.equal(code(checked), expected);
      if (h.index < manifest.pieceCount) assert.equal(t.pieces.state(h.index), 'missing');
    });
  }

  it('refuses a compressed piece in a transfer declared uncompressed', () => {
    const t = open({ ...manifest, compression: 'none' });
    assert.equal(code(t.checkPiece(header(0, { encoding: PieceEncoding.ZSTD }), 100)), 'E_MANIFEST_INVALID');
  });

  it('places a checked piece, says whether to decompress it, and refuses it again once written', () => {
    const t = open();
    const slot = value(t.checkPiece(header(1, { encoding: PieceEncoding.ZSTD }), 100));
    assert.deepEqual(slot, { index: 1, offset: 16 * KiB, length: 16 * KiB, compressed: true });
    assert.equal(t.pieces.state(1), 'in-flight');
    assert.equal(code(t.checkPiece(header(1), 16 * KiB)), 'E_PIECE_DUPLICATE', 'while in flight');
    assert.equal(value(t.judgePiece(slot, 16 * KiB, hash(1), hash(1))), 'write');
    t.written(slot);
    assert.equal(t.pieces.state(1), 'done');
    assert.deepEqual(t.pieces.hash(1), hash(1), 'the hash is kept for the whole-file root');
    assert.equal(code(t.checkPiece(header(1), 16 * KiB)), 'E_PIECE_DUPLICATE');
  });

  it('refuses decoded bytes of the wrong length', () => {
    const t = open();
    const slot = value(t.checkPiece(header(0, { encoding: PieceEncoding.ZSTD }), 100));
    assert.equal(code(t.judgePiece(slot, 16 * KiB - 1, hash(0), hash(0))), 'E_PIECE_LENGTH');
  });

  it('NACKs a hash mismatch and takes the same piece again afterwards', () => {
    const t = open();
    const slot = value(t.checkPiece(header(1), 16 * KiB));
    assert.equal(value(t.judgePiece(slot, 16 * KiB, hash(9), hash(1))), 'nack');
    assert.equal(t.pieces.state(1), 'missing');
    assert.ok(t.checkPiece(header(1), 16 * KiB).ok);
  });

  it('holds the retry bound on its side: a piece that fails its hash too often ends the transfer', () => {
    const t = open();
    const verdicts: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const checked = t.checkPiece(header(1), 16 * KiB);
      if (!checked.ok) break;
      const judged = t.judgePiece(checked.value, 16 * KiB, hash(9), hash(1));
      verdicts.push(judged.ok ? judged.value : judged.code);
      if (!judged.ok) break;
    }
    assert.deepEqual(verdicts, ['nack', 'nack', 'nack', 'E_TOO_MANY_RETRIES']);
  });

  it('completes only with every piece written and the roots equal', () => {
    const t = open();
    assert.equal(code(t.complete(hash(1), hash(1))), 'E_INCOMPLETE');
    for (let i = 0; i < manifest.pieceCount; i++) receive(t, i);
    assert.equal(code(t.complete(hash(1), hash(2))), 'E_ROOT_MISMATCH');
    assert.ok(t.complete(hash(7), hash(7)).ok);
    assert.equal(t.missingBytes(), 0);
  });
});

describe('a resumed transfer', () => {
  const held = [
    { index: 0, hash: hash(0) },
    { index: 1, hash: hash(1) },
  ];

  it('offers the held pieces with their hashes and refuses them as duplicates', () => {
    const t = open(resumed, [{ index: 1, hash: hash(1) }]);
    assert.deepEqual(t.accepted(), { held: Uint8Array.of(0b0100_0000), heldHashes: [hash(1)] });
    assert.equal(t.missingBytes(), 16 * KiB + 8 * KiB + 5);
    assert.equal(code(t.checkPiece(header(1), 16 * KiB)), 'E_PIECE_DUPLICATE');
  });

  it('confirms a held piece read back intact, and completes only once every held piece is', () => {
    const t = open(resumed, held);
    receive(t, 2);
    assert.equal(value(t.heldChecked(1, true)), 'confirm');
    assert.equal(code(t.complete(hash(9), hash(9))), 'E_INCOMPLETE', 'piece 0 is still being checked');
    assert.equal(value(t.heldChecked(0, true)), 'confirm');
    assert.ok(t.complete(hash(9), hash(9)).ok);
  });

  it('sends a held piece again when its bytes no longer match, then takes it like any missing piece', () => {
    const t = open(resumed, held);
    receive(t, 2);
    assert.equal(value(t.heldChecked(0, false)), 'resend');
    assert.equal(t.pieces.state(0), 'missing');
    receive(t, 0);
    assert.equal(value(t.heldChecked(1, true)), 'confirm');
    assert.ok(t.complete(hash(9), hash(9)).ok);
  });

  it('refuses a second verdict on one held piece, or a verdict on a piece that is not held', () => {
    const t = open(resumed, held);
    receive(t, 2);
    assert.ok(t.heldChecked(1, true).ok);
    assert.equal(code(t.heldChecked(1, true)), 'E_INTERNAL');
    assert.equal(code(t.heldChecked(2, true)), 'E_INTERNAL');
  });
});
