import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PIECE_RETRIES } from '../../src/domain/limits.js';
import { pieceCountFor, type Manifest } from '../../src/domain/transfer/manifest.js';
import { initialSenderState, senderStep, type SenderEffect, type SenderEvent, type SenderState } from '../../src/domain/transfer/sender-machine.js';

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
const accept = (m: Manifest): SenderEvent => ({ type: 'accepted', pieceCount: m.pieceCount, held: new Uint8Array(Math.ceil(m.pieceCount / 8)) });

describe('sender state machine', () => {
  it('fills the pipeline window on ACCEPT and refills one piece per ACK', () => {
    const m = manifest(10 * 16384);
    const first = run(initialSenderState(m, 4), [accept(m)]);
    assert.deepEqual(sends(first.effects), [0, 1, 2, 3]);
    const next = run(first.state, [{ type: 'ack', index: 1 }]);
    assert.deepEqual(sends(next.effects), [4]);
  });

  it('asks to finish once every piece is acknowledged, and completes on the matching root', () => {
    const m = manifest(2 * 16384);
    const root = new Uint8Array(32).fill(5);
    let r = run(initialSenderState(m, 8), [accept(m), { type: 'ack', index: 0 }, { type: 'ack', index: 1 }]);
    assert.equal(r.effects.at(-1)?.type, 'send-complete');
    r = run(r.state, [{ type: 'complete-sent', root }, { type: 'verified', root }]);
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
    const r = run(initialSenderState(m, 8), [accept(m), { type: 'complete-sent', root: new Uint8Array(32) }, { type: 'verified', root: new Uint8Array(32).fill(1) }]);
    assert.equal(r.state.phase, 'failed');
    assert.equal((r.effects.at(-1) as { code: string }).code, 'E_ROOT_MISMATCH');
  });

  it(`resends a NACKed piece up to ${MAX_PIECE_RETRIES} times, then fails`, () => {
    const m = manifest(16384);
    let r = run(initialSenderState(m, 1), [accept(m)]);
    for (let i = 0; i < MAX_PIECE_RETRIES; i++) {
      r = run(r.state, [{ type: 'nack', index: 0, code: 'E_PIECE_HASH' }]);
      assert.deepEqual(sends(r.effects), [0]);
    }
    r = run(r.state, [{ type: 'nack', index: 0, code: 'E_PIECE_HASH' }]);
    assert.equal(r.state.phase, 'failed');
    assert.equal((r.effects[0] as { code: string }).code, 'E_TOO_MANY_RETRIES');
  });

  it('treats an ACK for a piece not in flight as a protocol error', () => {
    const m = manifest(4 * 16384);
    const r = run(initialSenderState(m, 1), [accept(m), { type: 'ack', index: 3 }]);
    assert.equal((r.effects.at(-1) as { code: string }).code, 'E_UNEXPECTED_MESSAGE');
  });

  it('refuses an ACCEPT that claims held pieces when it did not ask to resume, or has another count', () => {
    const m = manifest(3 * 16384);
    const held = run(initialSenderState(m, 2), [{ type: 'accepted', pieceCount: 3, held: Uint8Array.of(0x80) }]);
    assert.equal(held.state.phase, 'failed');
    const count = run(initialSenderState(m, 2), [{ type: 'accepted', pieceCount: 4, held: new Uint8Array(1) }]);
    assert.equal(count.state.phase, 'failed');
  });
});
