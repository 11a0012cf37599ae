import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pieceCountFor, type Manifest } from '../../src/domain/transfer/manifest.js';
import { initialReceiverState, receiverStep, type ReceiverEvent, type ReceiverState } from '../../src/domain/transfer/receiver-machine.js';
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
const hash = (n: number) => new Uint8Array(32).fill(n);
const header = (index: number, over: Partial<PieceHeader> = {}): PieceHeader => ({
  index,
  offset: index * manifest.pieceSize,
  rawLength: index === 2 ? 8 * KiB + 5 : 16 * KiB,
  encoding: PieceEncoding.RAW,
  hash: hash(index),
  ...over,
});

function run(events: ReceiverEvent[], from: ReceiverState = initialReceiverState) {
  let state = from;
  const effects = [];
  for (const e of events) {
    const step = receiverStep(state, e);
    state = step.state;
    effects.push(...step.effects);
  }
  return { state, effects };
}

const accepted = (): ReceiverState => run([{ type: 'manifest', manifest, nameTaken: false, held: [] }]).state;

describe('receiver state machine', () => {
  it('accepts a manifest with an empty held bitfield', () => {
    const { state, effects } = run([{ type: 'manifest', manifest, nameTaken: false, held: [] }]);
    assert.equal(state.phase, 'receiving');
    assert.deepEqual(effects, [{ type: 'accept', held: new Uint8Array(1), heldHashes: [] }]);
  });

  const refusals: [string, ReceiverEvent, string][] = [
    ['a taken name', { type: 'manifest', manifest, nameTaken: true, held: [] }, 'E_FILE_EXISTS'],
  ];
  for (const [what, event, code] of refusals) {
    it(`refuses ${what} with ${code}`, () => {
      const { state, effects } = run([event]);
      assert.equal(state.phase, 'failed');
      assert.equal(effects[0]?.type, 'abort');
      assert.equal((effects[0] as { code: string }).code, code);
    });
  }

  const badPieces: [string, PieceHeader, number, string][] = [
    ['an index out of range', header(3), 16 * KiB, 'E_PIECE_INDEX'],
    ['a wrong offset', header(1, { offset: 0 }), 16 * KiB, 'E_PIECE_OFFSET'],
    ['a wrong declared length', header(2, { rawLength: 16 * KiB }), 16 * KiB, 'E_PIECE_LENGTH'],
    ['raw data of the wrong length', header(0), 16 * KiB - 1, 'E_PIECE_LENGTH'],
    ['compressed data that did not shrink', header(0, { encoding: PieceEncoding.ZSTD }), 16 * KiB, 'E_PIECE_LENGTH'],
  ];
  for (const [what, h, dataLength, code] of badPieces) {
    it(`aborts on ${what} (${code}) and tells the peer`, () => {
      const { state, effects } = run([{ type: 'piece', header: h, dataLength }], accepted());
      assert.equal(state.phase, 'failed');
      assert.deepEqual(effects.at(-1), { type: 'abort', code, detail: (effects.at(-1) as { detail: string }).detail, notifyPeer: true });
    });
  }

  it('walks a piece through decode, store and ack, then refuses it twice', () => {
    const s = accepted();
    const a = run([{ type: 'piece', header: header(0), dataLength: 16 * KiB }], s);
    assert.deepEqual(a.effects, [{ type: 'decode-piece', index: 0, maxLength: 16 * KiB, compressed: false }]);
    const b = run([{ type: 'piece-decoded', index: 0, length: 16 * KiB, computedHash: hash(0), declaredHash: hash(0) }], a.state);
    assert.deepEqual(b.effects, [{ type: 'store-piece', index: 0, offset: 0 }]);
    const c = run([{ type: 'piece-stored', index: 0 }], b.state);
    assert.deepEqual(c.effects, [{ type: 'ack', index: 0 }]);
    const d = run([{ type: 'piece', header: header(0), dataLength: 16 * KiB }], c.state);
    assert.equal((d.effects[0] as { code: string }).code, 'E_PIECE_DUPLICATE');
  });

  it('NACKs a hash mismatch and accepts the same piece again afterwards', () => {
    const s = run([{ type: 'piece', header: header(1), dataLength: 16 * KiB }], accepted()).state;
    const bad = run([{ type: 'piece-decoded', index: 1, length: 16 * KiB, computedHash: hash(9), declaredHash: hash(1) }], s);
    assert.deepEqual(bad.effects, [{ type: 'nack', index: 1, code: 'E_PIECE_HASH' }]);
    const again = run([{ type: 'piece', header: header(1), dataLength: 16 * KiB }], bad.state);
    assert.equal(again.effects[0]?.type, 'decode-piece');
  });

  it('holds the retry bound on its side: a piece that fails its hash too often ends the transfer', () => {
    let s = accepted();
    const codes: string[] = [];
    for (let attempt = 0; attempt < 5 && s.phase === 'receiving'; attempt++) {
      s = run([{ type: 'piece', header: header(1), dataLength: 16 * KiB }], s).state;
      const step = run([{ type: 'piece-decoded', index: 1, length: 16 * KiB, computedHash: hash(9), declaredHash: hash(1) }], s);
      s = step.state;
      codes.push(...step.effects.map((e) => ('code' in e ? e.code : e.type)));
    }
    assert.deepEqual(codes, ['E_PIECE_HASH', 'E_PIECE_HASH', 'E_PIECE_HASH', 'E_TOO_MANY_RETRIES']);
    assert.equal(s.phase, 'failed');
  });

  it('refuses TRANSFER_COMPLETE before every piece is stored', () => {
    const { effects } = run([{ type: 'transfer-complete', declaredRoot: hash(1), computedRoot: hash(1) }], accepted());
    assert.equal((effects[0] as { code: string }).code, 'E_INCOMPLETE');
  });

  function allStored(): ReceiverState {
    let s = accepted();
    for (let i = 0; i < manifest.pieceCount; i++) {
      const length = header(i).rawLength;
      s = run(
        [
          { type: 'piece', header: header(i), dataLength: length },
          { type: 'piece-decoded', index: i, length, computedHash: hash(i), declaredHash: hash(i) },
          { type: 'piece-stored', index: i },
        ],
        s,
      ).state;
    }
    return s;
  }

  it('finalizes only when the roots match, then sends VERIFIED with that root', () => {
    const mismatch = run([{ type: 'transfer-complete', declaredRoot: hash(1), computedRoot: hash(2) }], allStored());
    assert.equal((mismatch.effects[0] as { code: string }).code, 'E_ROOT_MISMATCH');
    const good = run([{ type: 'transfer-complete', declaredRoot: hash(7), computedRoot: hash(7) }, { type: 'finalized' }], allStored());
    assert.equal(good.state.phase, 'completed');
    assert.deepEqual(good.effects, [{ type: 'finalize' }, { type: 'send-verified', root: hash(7) }]);
  });

  it('does not notify a peer that closed the session itself', () => {
    const { effects } = run([{ type: 'failure', code: 'E_CONNECTION_LOST', detail: 'gone', fromPeer: true }], accepted());
    assert.deepEqual(effects, [{ type: 'abort', code: 'E_CONNECTION_LOST', detail: 'gone', notifyPeer: false }]);
  });
});

describe('receiver state machine on a resume', () => {
  const resumed: Manifest = { ...manifest, resume: true };

  it('offers the held pieces with their hashes and refuses them again as duplicates', () => {
    const { state, effects } = run([{ type: 'manifest', manifest: resumed, nameTaken: false, held: [{ index: 1, hash: hash(1) }] }]);
    assert.equal(state.phase, 'receiving');
    assert.deepEqual(effects, [{ type: 'accept', held: Uint8Array.of(0b0100_0000), heldHashes: [hash(1)] }]);
    const again = run([{ type: 'piece', header: header(1), dataLength: 16 * KiB }], state);
    assert.equal(again.state.phase, 'failed');
    assert.ok(again.effects.some((e) => e.type === 'abort' && e.code === 'E_PIECE_DUPLICATE'));
  });

  const complete = (from: ReceiverState) => {
    // The root value does not matter here: declared and computed agree.
    return run([{ type: 'transfer-complete', declaredRoot: hash(9), computedRoot: hash(9) }], from);
  };
  /** Pieces 0 and 1 held; piece 2 arrives, is decoded, stored. */
  const withPiece2 = () => {
    const held = [{ index: 0, hash: hash(0) }, { index: 1, hash: hash(1) }];
    return run([
      { type: 'manifest', manifest: resumed, nameTaken: false, held },
      { type: 'piece', header: header(2), dataLength: 8 * KiB + 5 },
      { type: 'piece-decoded', index: 2, length: 8 * KiB + 5, computedHash: hash(2), declaredHash: hash(2) },
      { type: 'piece-stored', index: 2 },
    ]).state;
  };

  it('ACKs a held piece read back intact, and finishes only when every held piece is', () => {
    const one = run([{ type: 'held-checked', index: 1, intact: true }], withPiece2());
    assert.deepEqual(one.effects, [{ type: 'confirm-held', index: 1 }]);
    const early = complete(one.state);
    assert.ok(early.effects.some((e) => e.type === 'abort' && e.code === 'E_INCOMPLETE'), 'TRANSFER_COMPLETE while piece 0 is still being checked');
    const both = run([{ type: 'held-checked', index: 0, intact: true }], one.state);
    assert.equal(complete(both.state).state.phase, 'finalizing');
  });

  it('NACKs a held piece whose bytes no longer match, then takes it like any missing piece', () => {
    const damaged = run([{ type: 'held-checked', index: 0, intact: false }], withPiece2());
    assert.deepEqual(damaged.effects, [{ type: 'held-damaged', index: 0 }]);
    const again = run(
      [
        { type: 'piece', header: header(0), dataLength: 16 * KiB },
        { type: 'piece-decoded', index: 0, length: 16 * KiB, computedHash: hash(0), declaredHash: hash(0) },
        { type: 'piece-stored', index: 0 },
        { type: 'held-checked', index: 1, intact: true },
      ],
      damaged.state,
    );
    assert.deepEqual(
      again.effects.map((e) => e.type),
      ['decode-piece', 'store-piece', 'ack', 'confirm-held'],
    );
    assert.equal(complete(again.state).state.phase, 'finalizing');
  });

  it('refuses a second verdict on one held piece, or a verdict on a piece that is not held', () => {
    const twice = run([{ type: 'held-checked', index: 1, intact: true }, { type: 'held-checked', index: 1, intact: true }], withPiece2());
    assert.equal(twice.state.phase, 'failed');
    const notHeld = run([{ type: 'held-checked', index: 2, intact: true }], withPiece2());
    assert.equal(notHeld.state.phase, 'failed');
  });

  it('never takes held pieces for a transfer that is not a resume', () => {
    const { state } = run([{ type: 'manifest', manifest, nameTaken: false, held: [{ index: 0, hash: hash(0) }] }]);
    assert.equal(state.phase, 'failed');
  });
});
