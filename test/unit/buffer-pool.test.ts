import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BufferPool } from '../../src/domain/policy/buffer-pool.js';

describe('BufferPool', () => {
  it('lends views of exactly the size asked for and reuses a given-back buffer', () => {
    const pool = new BufferPool(4096);
    const a = pool.take(1000)!;
    assert.equal(a.length, 1000);
    pool.give(a);
    const b = pool.take(800)!;
    assert.equal(b.buffer, a.buffer, 'the idle buffer large enough is reused');
    assert.equal(b.length, 800);
    assert.equal(pool.lentOut, 1000, 'the whole buffer counts while lent');
  });

  it('never lends more than its limit, and lends again once a buffer comes back', () => {
    const pool = new BufferPool(3000);
    const a = pool.take(1000)!;
    const b = pool.take(1000)!;
    assert.ok(pool.take(1500) === undefined, 'over the limit');
    assert.equal(pool.inUse, 2000);
    pool.give(b);
    assert.ok(pool.take(1500), 'the idle 1000-byte buffer gives way to a larger one');
    assert.ok(pool.inUse <= 3000);
    pool.give(a);
  });

  it('takes back only what it lent, and only once', () => {
    const pool = new BufferPool(2000);
    const a = pool.take(1000)!;
    pool.give(new Uint8Array(1000));
    assert.equal(pool.lentOut, 1000, 'a foreign buffer is ignored');
    pool.give(a.subarray(10, 20));
    pool.give(a);
    assert.equal(pool.lentOut, 0);
    const x = pool.take(1000)!;
    const y = pool.take(1000)!;
    assert.notEqual(x.buffer, y.buffer, 'a double give did not put one buffer in two hands');
  });

  it('lends an idle buffer only for a request of at least half its size', () => {
    const pool = new BufferPool(10_000);
    const big = pool.take(4000)!;
    pool.give(big);
    assert.notEqual(pool.take(1000)!.buffer, big.buffer, 'a 1000-byte request does not tie up the 4000-byte buffer');
    assert.equal(pool.take(2000)!.buffer, big.buffer);
  });

  it('refuses a request larger than the whole pool without dropping its idle buffers', () => {
    const pool = new BufferPool(3000);
    pool.give(pool.take(1000)!);
    assert.equal(pool.take(5000), undefined);
    assert.equal(pool.inUse, 1000, 'the idle buffer is still kept');
  });

  it('keeps at most spareLimit bytes idle', () => {
    const pool = new BufferPool(4000, { spareLimit: 1000 });
    const a = pool.take(1000)!;
    const b = pool.take(1000)!;
    pool.give(a);
    pool.give(b);
    assert.equal(pool.inUse, 1000, 'the second buffer went back to the budget, not the spares');
  });

  it('takeOrMake makes a buffer outside the pool when the limit is reached', () => {
    const pool = new BufferPool(1000);
    const a = pool.takeOrMake(1000);
    const b = pool.takeOrMake(1000);
    assert.equal(b.length, 1000);
    pool.give(b);
    assert.equal(pool.lentOut, 1000, 'the outside buffer was never counted');
    pool.give(a);
  });

  it('counts what a rounding allocator really made, and refuses when it makes nothing', () => {
    const pages = new BufferPool(10_000, { allocate: (size) => new Uint8Array(Math.ceil(size / 4096) * 4096) });
    const a = pages.take(100)!;
    assert.equal(a.length, 100);
    assert.equal(pages.inUse, 4096);
    assert.equal(pages.take(8000), undefined, '4096 + 8192 would pass the limit');
    const none = new BufferPool(10_000, { allocate: () => undefined });
    assert.equal(none.take(100), undefined);
    assert.equal(none.inUse, 0);
  });

  it('hands a buffer over to another thread and adopts the memory that comes back', () => {
    const pool = new BufferPool(4000);
    const a = pool.take(1000)!;
    pool.handOver(a);
    assert.equal(pool.inUse, 0, 'handed over: out of the budget');
    const back = new Uint8Array(1000);
    pool.adopt(back);
    pool.adopt(back);
    assert.equal(pool.inUse, 1000, 'adopted once');
    assert.equal(pool.take(1000)!.buffer, back.buffer);
  });

  it('calls a listener at the next give, unless cancelled', () => {
    const pool = new BufferPool(2000);
    const a = pool.take(1000)!;
    const b = pool.take(1000)!;
    let called = 0;
    pool.onNextGive(() => called++);
    const cancel = pool.onNextGive(() => (called += 10));
    cancel();
    pool.give(a);
    pool.give(b);
    assert.equal(called, 1);
  });
});
