import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PIECE_RETRIES } from '../../src/domain/limits.js';
import { pieceCountFor, type Manifest } from '../../src/domain/transfer/manifest.js';
import {
  initialSenderState,
  senderStep,
  type SenderEffect,
  type SenderEvent,
  type SenderState,
} from '../../src/domain/transfer/sender-machine.js';
import { PipelineWindow } from '../../src/domain/transfer/pipeline-window.js';

const manifest = (fileSize: number, resume = false): Manifest => ({
  transferId: '1b4e28ba-2fa1-4d2e-883f-0016d3cca427',
  fileName: 'f',
  fileSize,
  pieceSize: 16384,
  pieceCount: pieceCountFor(fileSize, 16384),
  compression: 'zstd',
  resume,
});

function run(state: SenderState, events: SenderEvent[]): { state: SenderState; effects: SenderEffect[] } {
  const effects: SenderEffect[] = [];
  for (const e of events) {
    const step = senderStep(state, e);
    state = step.state;
    effects.push(...step.effects);
  }
  return { state, effects };
}

const sends = (effects: SenderEffect[]) => effects.filter((e) => e.type === 'send-piece').map((e) => (e as { index: number }).index);
const accept = (m: Manifest): SenderEvent => ({
  type: 'accepted',
  pieceCount: m.pieceCount,
  held: new Uint8Array(Math.ceil(m.pieceCount / 8)),
  heldHashes: [],
});

const h = (n: number) => new Uint8Array(32).fill(n);
/** The piece handed to the channel: what an honest receiver needs before it can answer for it. */
const handedOver = (index: number): SenderEvent => ({ type: 'piece-sent', index, hash: h(index + 1) });

describe('sender state machine', () => {
  it('fills the pipeline window on ACCEPT and refills one piece per ACK', () => {
    const m = manifest(10 * 16384);
    const first = run(initialSenderState(m, 4), [accept(m)]);
    assert.deepEqual(sends(first.effects), [0, 1, 2, 3]);
    const next = run(first.state, [handedOver(1), { type: 'ack', index: 1 }]);
    assert.deepEqual(sends(next.effects), [4]);
  });

  it('widens an adaptive window as the ACKs show a path that holds more', () => {
    const m = manifest(100 * 16384);
    const window = PipelineWindow.adaptive({ initial: 2, max: 8 });
    let r = run(initialSenderState(m, window), [accept(m)]);
    assert.deepEqual(sends(r.effects), [0, 1]);
    // Both pieces handed over at 0 and acknowledged together at 10 ms: 2 pieces per 10 ms round trip.
    r = run(r.state, [
      { type: 'piece-sent', index: 0, hash: h(1), wire: { bytes: 16384, at: 0 } },
      { type: 'piece-sent', index: 1, hash: h(2), wire: { bytes: 16384, at: 0 } },
      { type: 'ack', index: 0, at: 10 },
      { type: 'ack', index: 1, at: 10 },
    ]);
    assert.deepEqual(sends(r.effects), [2, 3, 4, 5], 'twice what the path held: four in flight');
  });

  it('asks to finish once every piece is acknowledged, and completes on the matching root', () => {
    const m = manifest(2 * 16384);
    const root = new Uint8Array(32).fill(5);
    let r = run(initialSenderState(m, 8), [accept(m), handedOver(0), handedOver(1), { type: 'ack', index: 0 }, { type: 'ack', index: 1 }]);
    assert.equal(r.effects.at(-1)?.type, 'send-complete');
    r = run(r.state, [
      { type: 'complete-sent', root },
      { type: 'verified', root },
    ]);
    assert.equal(r.state.phase, 'completed');
    assert.deepEqual(r.effects, [{ type: 'completed' }]);
  });

  it('finishes an empty file straight after ACCEPT', () => {
    const m = manifest(0);
    const r = run(initialSenderState(m, 8), [accept(m)]);
    assert.equal(r.effects[0]?.type, 'send-complete');
  });

  it('fails when the receiver verifies a different root', () => {
    const m = manifest(0);
    const r = run(initialSenderState(m, 8), [
      accept(m),
      { type: 'complete-sent', root: new Uint8Array(32) },
      { type: 'verified', root: new Uint8Array(32).fill(1) },
    ]);
    assert.equal(r.state.phase, 'failed');
    assert.equal((r.effects.at(-1) as { code: string }).code, 'E_ROOT_MISMATCH');
  });

  it(`resends a NACKed piece up to ${MAX_PIECE_RETRIES} times, then fails`, () => {
    const m = manifest(16384);
    let r = run(initialSenderState(m, 1), [accept(m)]);
    for (let i = 0; i < MAX_PIECE_RETRIES; i++) {
      r = run(r.state, [handedOver(0), { type: 'nack', index: 0, code: 'E_PIECE_HASH' }]);
      assert.deepEqual(sends(r.effects), [0]);
    }
    r = run(r.state, [handedOver(0), { type: 'nack', index: 0, code: 'E_PIECE_HASH' }]);
    assert.equal(r.state.phase, 'failed');
    assert.equal((r.effects[0] as { code: string }).code, 'E_TOO_MANY_RETRIES');
  });

  it('treats an ACK for a piece not in flight as a protocol error', () => {
    const m = manifest(4 * 16384);
    const r = run(initialSenderState(m, 1), [accept(m), { type: 'ack', index: 3 }]);
    assert.equal((r.effects.at(-1) as { code: string }).code, 'E_UNEXPECTED_MESSAGE');
  });

  it('treats an ACK or NACK for a piece asked for but not yet handed over as a protocol error', () => {
    const m = manifest(4 * 16384);
    for (const answer of [
      { type: 'ack', index: 1 },
      { type: 'nack', index: 1, code: 'E_PIECE_HASH' },
    ] as const) {
      const r = run(initialSenderState(m, 2), [accept(m), handedOver(0), answer]);
      assert.equal(r.state.phase, 'failed');
      assert.deepEqual(r.effects.at(-1), {
        type: 'abort',
        code: 'E_UNEXPECTED_MESSAGE',
        detail: `${answer.type.toUpperCase()} for piece 1 before it was sent`,
        notifyPeer: true,
      });
      assert.ok(!r.effects.some((e) => e.type === 'piece-done'), 'nothing is done on an answer for bytes never sent');
    }
    const inOrder = run(initialSenderState(m, 2), [accept(m), handedOver(0), handedOver(1), { type: 'ack', index: 1 }]);
    assert.equal(inOrder.state.phase, 'sending');
  });

  it('treats handing over a piece it never asked for as its own fault', () => {
    const m = manifest(4 * 16384);
    const r = run(initialSenderState(m, 2), [accept(m), handedOver(3)]);
    assert.equal((r.effects.at(-1) as { code: string }).code, 'E_INTERNAL');
  });

  it('refuses an ACCEPT that claims held pieces when it did not ask to resume, or has another count', () => {
    const m = manifest(3 * 16384);
    const held = run(initialSenderState(m, 2), [{ type: 'accepted', pieceCount: 3, held: Uint8Array.of(0x80), heldHashes: [h(1)] }]);
    assert.equal(held.state.phase, 'failed');
    const count = run(initialSenderState(m, 2), [{ type: 'accepted', pieceCount: 4, held: new Uint8Array(1), heldHashes: [] }]);
    assert.equal(count.state.phase, 'failed');
  });
});

describe('sender state machine on a resume', () => {
  const m = manifest(4 * 16384, true);
  /** Pieces 0 and 2 held, with the receiver's hashes 1 and 3. */
  const accepted: SenderEvent = { type: 'accepted', pieceCount: 4, held: Uint8Array.of(0b1010_0000), heldHashes: [h(1), h(3)] };
  const confirmAll: SenderEvent[] = [
    { type: 'held-hashed', index: 0, ours: h(1) },
    { type: 'held-hashed', index: 2, ours: h(3) },
    { type: 'ack', index: 0 },
    { type: 'ack', index: 2 },
  ];

  it('sends the missing pieces at once, while the held ones are still being checked', () => {
    const { state, effects } = run(initialSenderState(m, 8), [accepted]);
    assert.equal(state.phase, 'sending');
    assert.deepEqual(sends(effects), [1, 3]);
  });

  it('finishes only once every held piece is hashed from the source and confirmed by the receiver, in any order', () => {
    const sent: SenderEvent[] = [
      { type: 'piece-sent', index: 1, hash: h(2) },
      { type: 'piece-sent', index: 3, hash: h(4) },
      { type: 'ack', index: 1 },
      { type: 'ack', index: 3 },
    ];
    // Every event but one: never finished. All of them, in two orders: finished once, with the root over all four hashes.
    for (let left = 0; left < confirmAll.length; left++) {
      const partial = run(initialSenderState(m, 8), [accepted, ...sent, ...confirmAll.filter((_, i) => i !== left)]);
      assert.equal(
        partial.state.phase,
        'sending',
        `finished without ${JSON.stringify(confirmAll[left]!.type)} for piece ${(confirmAll[left] as { index: number }).index}`,
      );
      assert.ok(!partial.effects.some((e) => e.type === 'send-complete'));
    }
    for (const order of [
      [...sent, ...confirmAll],
      [...confirmAll.slice().reverse(), ...sent],
    ]) {
      const { state, effects } = run(initialSenderState(m, 8), [accepted, ...order]);
      assert.equal(state.phase, 'awaiting-verified');
      const complete = effects.filter((e) => e.type === 'send-complete');
      assert.equal(complete.length, 1);
      assert.deepEqual((complete[0] as { pieceHashes: Uint8Array }).pieceHashes, Uint8Array.from([...h(1), ...h(2), ...h(3), ...h(4)]));
    }
  });

  it('says each piece is done exactly once, with its hash and whether it was held, before asking to finish', () => {
    const sent: SenderEvent[] = [
      { type: 'piece-sent', index: 1, hash: h(2) },
      { type: 'piece-sent', index: 3, hash: h(4) },
      { type: 'ack', index: 1 },
      { type: 'ack', index: 3 },
    ];
    for (const order of [
      [...sent, ...confirmAll],
      [...confirmAll.slice().reverse(), ...sent],
    ]) {
      const { effects } = run(initialSenderState(m, 8), [accepted, ...order]);
      const done = effects.flatMap((e) => (e.type === 'piece-done' ? [{ index: e.index, hash: e.hash[0], held: e.held }] : []));
      assert.deepEqual(
        done.sort((a, b) => a.index - b.index),
        [
          { index: 0, hash: 1, held: true },
          { index: 1, hash: 2, held: false },
          { index: 2, hash: 3, held: true },
          { index: 3, hash: 4, held: false },
        ],
      );
      const lastDone = effects.map((e) => e.type).lastIndexOf('piece-done');
      assert.ok(
        lastDone < effects.findIndex((e) => e.type === 'send-complete'),
        'every piece is reported before TRANSFER_COMPLETE is asked for',
      );
    }
  });

  it('says nothing is done for a held piece the receiver dropped until it is sent again and acknowledged', () => {
    const r = run(initialSenderState(m, 8), [
      accepted,
      { type: 'nack', index: 0, code: 'E_PIECE_HASH' },
      { type: 'held-hashed', index: 0, ours: h(1) },
    ]);
    assert.ok(!r.effects.some((e) => e.type === 'piece-done'));
    const again = run(r.state, [
      { type: 'piece-sent', index: 0, hash: h(1) },
      { type: 'ack', index: 0 },
    ]);
    assert.deepEqual(
      again.effects.filter((e) => e.type === 'piece-done'),
      [{ type: 'piece-done', index: 0, hash: h(1), held: false }],
    );
  });

  it('refuses with E_SOURCE_CHANGED when a held piece differs from the source', () => {
    const { state, effects } = run(initialSenderState(m, 8), [accepted, { type: 'held-hashed', index: 2, ours: h(9) }]);
    assert.equal(state.phase, 'failed');
    assert.ok(effects.some((e) => e.type === 'abort' && e.code === 'E_SOURCE_CHANGED' && e.notifyPeer));
  });

  it('sends a held piece the receiver NACKs (damaged on its disk) again, without counting a retry', () => {
    let r = run(initialSenderState(m, 8), [accepted, { type: 'held-hashed', index: 0, ours: h(1) }]);
    r = run(r.state, [{ type: 'nack', index: 0, code: 'E_HELD_PIECE_DAMAGED' }]);
    assert.deepEqual(sends(r.effects), [0]);
    // Were the held NACK a retry, the last of these would be one too many.
    for (let i = 0; i < MAX_PIECE_RETRIES; i++) {
      r = run(r.state, [handedOver(0), { type: 'nack', index: 0, code: 'E_PIECE_HASH' }]);
      assert.deepEqual(sends(r.effects), [0], `retry ${i + 1} after the held NACK`);
    }
    r = run(r.state, [
      { type: 'piece-sent', index: 0, hash: h(1) },
      { type: 'ack', index: 0 },
      { type: 'held-hashed', index: 2, ours: h(3) },
      { type: 'ack', index: 2 },
    ]);
    r = run(r.state, [
      { type: 'piece-sent', index: 1, hash: h(2) },
      { type: 'ack', index: 1 },
      { type: 'piece-sent', index: 3, hash: h(4) },
      { type: 'ack', index: 3 },
    ]);
    assert.equal(r.state.phase, 'awaiting-verified');
  });

  it('still compares a dropped held piece with the source: a mismatch is E_SOURCE_CHANGED', () => {
    const r = run(initialSenderState(m, 8), [
      accepted,
      { type: 'nack', index: 0, code: 'E_HELD_PIECE_DAMAGED' },
      { type: 'held-hashed', index: 0, ours: h(7) },
    ]);
    assert.equal(r.state.phase, 'failed');
    assert.ok(r.effects.some((e) => e.type === 'abort' && e.code === 'E_SOURCE_CHANGED'));
  });

  it('treats a second ACK for a held piece, or a hash for a piece not held, as errors', () => {
    const twice = run(initialSenderState(m, 8), [accepted, { type: 'ack', index: 0 }, { type: 'ack', index: 0 }]);
    assert.equal((twice.effects.at(-1) as { code: string }).code, 'E_UNEXPECTED_MESSAGE');
    const notHeld = run(initialSenderState(m, 8), [accepted, { type: 'held-hashed', index: 1, ours: h(2) }]);
    assert.equal(notHeld.state.phase, 'failed');
  });

  it('refuses an ACCEPT whose held bitfield and hash list disagree', () => {
    const { state } = run(initialSenderState(m, 8), [
      { type: 'accepted', pieceCount: 4, held: Uint8Array.of(0b1100_0000), heldHashes: [h(1)] },
    ]);
    assert.equal(state.phase, 'failed');
  });

  it('finishes as soon as the checks end when the receiver holds every piece', () => {
    const whole = manifest(2 * 16384, true);
    const { state, effects } = run(initialSenderState(whole, 8), [
      { type: 'accepted', pieceCount: 2, held: Uint8Array.of(0b1100_0000), heldHashes: [h(1), h(2)] },
      { type: 'held-hashed', index: 0, ours: h(1) },
      { type: 'held-hashed', index: 1, ours: h(2) },
      { type: 'ack', index: 1 },
      { type: 'ack', index: 0 },
    ]);
    assert.equal(state.phase, 'awaiting-verified');
    assert.deepEqual(sends(effects), []);
    const complete = effects.find((e) => e.type === 'send-complete');
    assert.ok(complete && complete.type === 'send-complete');
    assert.deepEqual(complete.pieceHashes, Uint8Array.from([...h(1), ...h(2)]));
  });
});
