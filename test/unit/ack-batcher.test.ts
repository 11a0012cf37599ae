import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AckBatcher } from '../../src/application/ack-batcher.js';

const msg = (n: number) => Uint8Array.of(n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    const b = new AckBatcher(r.send, 3, 60_000, r.onLate);
    await b.add(msg(1));
    await b.add(msg(2));
    assert.deepEqual(r.sends, []);
    await b.add(msg(3));
    await b.add(msg(4));
    assert.deepEqual(r.sends, [[1, 2, 3]]);
    b.discard();
  });

  it('sends what waits within the delay', async () => {
    const r = recording();
    const b = new AckBatcher(r.send, 10, 5, r.onLate);
    await b.add(msg(1));
    await b.add(msg(2));
    for (let waited = 0; r.sends.length === 0 && waited < 5_000; waited += 10) await sleep(10);
    assert.deepEqual(r.sends, [[1, 2]]);
  });

  it('puts what waits before another reply, in one call, and cancels the timer', async () => {
    const r = recording();
    const b = new AckBatcher(r.send, 10, 30, r.onLate);
    await b.add(msg(1));
    await b.flush([msg(9)]);
    await sleep(100);
    assert.deepEqual(r.sends, [[1, 9]], 'the timer sent again after the flush');
  });

  it('drops what waits on discard; a late send that fails is reported, not thrown', async () => {
    const r = recording();
    const b = new AckBatcher(r.send, 10, 10, r.onLate);
    await b.add(msg(1));
    b.discard();
    await sleep(60);
    assert.deepEqual(r.sends, []);

    const failing = recording(true);
    const f = new AckBatcher(failing.send, 10, 5, failing.onLate);
    await f.add(msg(1));
    for (let waited = 0; failing.late.length === 0 && waited < 5_000; waited += 10) await sleep(10);
    assert.match(String(failing.late[0]), /connection gone/);
    assert.throws(() => new AckBatcher(r.send, 0, 5, r.onLate), RangeError);
  });
});
