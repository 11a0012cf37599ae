import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AckBatcher } from '../../src/application/ack-batcher.js';
import { ManualClock } from '../support/manual-clock.js';

const msg = (n: number) => Uint8Array.of(n);

function recording(fail = false) {
  const sends: number[][] = [];
  const late: unknown[] = [];
  const send = async (messages: Uint8Array[]) => {
    sends.push(messages.map((m) => m[0]!));
    if (fail) throw new Error('connection gone');
  };
  return { sends, late, onLate: (e: unknown) => late.push(e), send };
}

describe('ACK batcher', () => {
  it('sends a full batch in one call, and holds a partial one', async () => {
    const r = recording();
    const b = new AckBatcher(r.send, 3, 20, new ManualClock(), r.onLate);
    await b.add(msg(1));
    await b.add(msg(2));
    assert.deepEqual(r.sends, []);
    await b.add(msg(3));
    await b.add(msg(4));
    assert.deepEqual(r.sends, [[1, 2, 3]]);
    b.discard();
  });

  it('sends what waits once the delay is over, not before', async () => {
    const r = recording();
    const clock = new ManualClock();
    const b = new AckBatcher(r.send, 10, 20, clock, r.onLate);
    await b.add(msg(1));
    await clock.advance(10);
    await b.add(msg(2));
    await clock.advance(9);
    assert.deepEqual(r.sends, [], 'the delay runs from the first message that waits');
    await clock.advance(1);
    assert.deepEqual(r.sends, [[1, 2]]);
    assert.equal(clock.sleeping, 0, 'one delay for the batch');
  });

  it('puts what waits before another reply, in one call, and the delay then sends nothing', async () => {
    const r = recording();
    const clock = new ManualClock();
    const b = new AckBatcher(r.send, 10, 20, clock, r.onLate);
    await b.add(msg(1));
    await b.flush([msg(9)]);
    await clock.advance(20);
    assert.deepEqual(r.sends, [[1, 9]], 'the delay sent again after the flush');
    await b.add(msg(2));
    await clock.advance(20);
    assert.deepEqual(r.sends, [[1, 9], [2]], 'a new delay after the flush');
  });

  it('drops what waits on discard; a late send that fails is reported, not thrown', async () => {
    const r = recording();
    const clock = new ManualClock();
    const b = new AckBatcher(r.send, 10, 20, clock, r.onLate);
    await b.add(msg(1));
    b.discard();
    await clock.advance(20);
    assert.deepEqual(r.sends, []);

    const failing = recording(true);
    const f = new AckBatcher(failing.send, 10, 20, clock, failing.onLate);
    await f.add(msg(1));
    await clock.advance(20);
    assert.match(String(failing.late[0]), /connection gone/);
    assert.throws(() => new AckBatcher(r.send, 0, 5, clock, r.onLate), RangeError);
  });
});
