// The receiver's admission and growth policies (docs/defences.md) as pure functions and small
// classes with time and randomness passed in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ReceiverCapacity } from '../../src/domain/policy/capacity.js';
import { EventCoalescer } from '../../src/domain/policy/event-coalescer.js';
import { MemoryBudget } from '../../src/domain/policy/memory-budget.js';
import { orphanPartials, transfersToExpire } from '../../src/domain/policy/partial-expiry.js';
import { isOffence } from '../../src/domain/policy/penalties.js';
import { ProgressRule } from '../../src/domain/policy/progress-rule.js';
import { dropStartup } from '../../src/domain/policy/startup-throttle.js';

const claim = (transferId: string, bytes: number, freeSpace: number, sender = 'key-a') => ({ transferId, sender, bytes, freeSpace });

describe('receiver capacity (disk budget and transfer caps)', () => {
  it('reserves each transfer against the same free space, so concurrent ones cannot all pass', () => {
    const c = new ReceiverCapacity({ minFreeSpace: 100, maxTransfers: 10, maxTransfersPerKey: 10 });
    assert.ok(c.admit(claim('a', 500, 1_000)).ok);
    const second = c.admit(claim('b', 500, 1_000, 'key-b'));
    assert.equal(second.ok, false);
    assert.equal(!second.ok && second.code, 'E_INSUFFICIENT_SPACE');
    assert.ok(c.admit(claim('c', 400, 1_000, 'key-b')).ok, 'what is left after the floor and the first reservation');
    assert.equal(c.reserved, 900);
  });

  it('counts what other receivers on the same folder promised against the same free space', () => {
    const c = new ReceiverCapacity({ minFreeSpace: 100, maxTransfers: 10, maxTransfersPerKey: 10 });
    const refused = c.admit({ ...claim('a', 500, 1_000), reservedElsewhere: 401 });
    assert.equal(!refused.ok && refused.code, 'E_INSUFFICIENT_SPACE');
    assert.match(!refused.ok ? refused.detail : '', /promised by other receivers on this folder 401/);
    assert.ok(c.admit({ ...claim('a', 500, 1_000), reservedElsewhere: 400 }).ok, 'exactly what is left');
  });

  it('shrinks a reservation as its bytes are written (they then show in the free space)', () => {
    const c = new ReceiverCapacity({ minFreeSpace: 0, maxTransfers: 10, maxTransfersPerKey: 10 });
    assert.ok(c.admit(claim('a', 600, 1_000)).ok);
    c.wrote('a', 400);
    assert.equal(c.reserved, 200);
    // 400 bytes are on disk now: the file system reports 600 free, of which 200 are promised.
    assert.ok(c.admit(claim('b', 400, 600, 'key-b')).ok);
    assert.equal(c.admit(claim('c', 1, 600, 'key-c')).ok, false);
    c.wrote('a', 10_000);
    assert.equal(c.reserved, 400, 'writing more than was reserved never goes below zero');
  });

  it('gives a reservation back on release, and only once', () => {
    const c = new ReceiverCapacity({ minFreeSpace: 0, maxTransfers: 10, maxTransfersPerKey: 10 });
    assert.ok(c.admit(claim('a', 700, 1_000)).ok);
    c.release('a');
    c.release('a');
    assert.equal(c.reserved, 0);
    assert.ok(c.admit(claim('b', 1_000, 1_000)).ok);
  });

  it('caps transfers per sender key and in total, and refuses an id already in progress', () => {
    const c = new ReceiverCapacity({ minFreeSpace: 0, maxTransfers: 3, maxTransfersPerKey: 2 });
    assert.ok(c.admit(claim('a1', 1, 100, 'a')).ok);
    assert.ok(c.admit(claim('a2', 1, 100, 'a')).ok);
    const third = c.admit(claim('a3', 1, 100, 'a'));
    assert.ok(!third.ok && third.code === 'E_BUSY' && /sender key/.test(third.detail));
    const dup = c.admit(claim('a1', 1, 100, 'b'));
    assert.ok(!dup.ok && dup.code === 'E_BUSY' && /in progress/.test(dup.detail));
    assert.ok(c.admit(claim('b1', 1, 100, 'b')).ok);
    const total = c.admit(claim('c1', 1, 100, 'c'));
    assert.ok(!total.ok && /limit of 3 transfers/.test(total.detail));
    assert.ok(c.isClaimed('a1') && !c.isClaimed('c1'));
  });

  it('never promises more than the free space minus the floor, whatever the order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ bytes: fc.nat(2_000), write: fc.nat(500), release: fc.boolean() }), { maxLength: 40 }), (steps) => {
        const c = new ReceiverCapacity({ minFreeSpace: 1_000, maxTransfers: 100, maxTransfersPerKey: 100 });
        let onDisk = 0;
        const disk = 10_000;
        const open: string[] = [];
        steps.forEach((s, i) => {
          const id = `t${i}`;
          if (c.admit(claim(id, s.bytes, disk - onDisk)).ok) open.push(id);
          const target = open[i % Math.max(1, open.length)];
          if (target) {
            onDisk += s.write;
            c.wrote(target, s.write);
          }
          if (s.release && open.length > 0) c.release(open.shift()!);
          assert.ok(c.reserved >= 0);
        });
        // Every byte promised still fits beside the floor in what was free when it was promised.
        assert.ok(c.reserved <= disk - 1_000);
      }),
    );
  });
});

describe('startup throttle (MaxStartups start:rate:full)', () => {
  const rules = { start: 10, rate: 30, full: 100 };
  it('admits below start, refuses at full, and drops rate% at start rising to 100%', () => {
    assert.equal(dropStartup(rules, 9, 0), false);
    assert.equal(dropStartup(rules, 100, 0.999), true);
    assert.equal(dropStartup(rules, 10, 0.29), true);
    assert.equal(dropStartup(rules, 10, 0.31), false);
    // Half way from start to full: 30 + 70/2 = 65%.
    assert.equal(dropStartup(rules, 55, 0.64), true);
    assert.equal(dropStartup(rules, 55, 0.66), false);
  });

  it('drops more as more handshakes are in progress (property)', () => {
    fc.assert(
      fc.property(fc.nat(120), fc.nat(120), fc.double({ min: 0, max: 0.999999, noNaN: true }), (a, b, r) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        if (dropStartup(rules, lo, r)) assert.equal(dropStartup(rules, hi, r), true);
      }),
    );
  });
});

describe('penalties', () => {
  it('counts what only a misbehaving sender earns, never what an honest one runs into', () => {
    for (const code of [
      'E_MANIFEST_INVALID',
      'E_NAME_INVALID',
      'E_UNTRUSTED_KEY',
      'E_TIMEOUT',
      'E_TOO_SLOW',
      'E_PIECE_INDEX',
      'E_DECRYPT_FAILED',
      'E_HANDSHAKE_FAILED',
    ] as const) {
      assert.equal(isOffence(code), true, code);
    }
    for (const code of [
      'E_BUSY',
      'E_INSUFFICIENT_SPACE',
      'E_FILE_EXISTS',
      'E_CONNECTION_LOST',
      'E_INTERRUPTED',
      'E_UNAVAILABLE',
      'E_PEER_CLOSED',
    ] as const) {
      assert.equal(isOffence(code), false, code);
    }
  });
});

describe('progress rule', () => {
  it('closes a session that moved fewer than minBytes in an interval, and only after a whole interval', () => {
    const rule = new ProgressRule({ intervalMs: 10_000, minBytes: 1_000 }, 0, 0);
    assert.equal(rule.check(5_000, 1), undefined, 'too early to judge');
    assert.equal(rule.check(10_000, 5_000), undefined, 'kept up');
    assert.match(rule.check(20_000, 5_999) ?? '', /999 bytes moved in 10\.0 s/);
  });

  it('judges each interval on its own: an early burst does not buy a later trickle', () => {
    const rule = new ProgressRule({ intervalMs: 1_000, minBytes: 10 }, 0, 0);
    assert.equal(rule.check(1_000, 1_000_000), undefined);
    assert.ok(rule.check(2_000, 1_000_005));
  });
});

describe('event coalescer', () => {
  it('records the first burst events of a window and sums up the rest when it closes', () => {
    const c = new EventCoalescer({ windowMs: 60_000, burst: 3, maxTracked: 100 });
    const recorded = Array.from({ length: 10 }, (_, i) => c.admit('1.2.3.4 connection.opened', 1_000 + i).record);
    assert.deepEqual(recorded, [true, true, true, false, false, false, false, false, false, false]);
    assert.deepEqual(c.admit('5.6.7.8 connection.opened', 2_000), { record: true }, 'another source has its own window');
    const next = c.admit('1.2.3.4 connection.opened', 61_000);
    assert.deepEqual(next, { record: true, closed: { key: '1.2.3.4 connection.opened', count: 7, since: 1_000 } });
  });

  it('drains closed windows with their counts and bounds the sources it tracks', () => {
    const c = new EventCoalescer({ windowMs: 1_000, burst: 1, maxTracked: 5 });
    for (let i = 0; i < 20; i++) {
      c.admit(`s${i}`, 0);
      c.admit(`s${i}`, 0);
    }
    const overflow = c.overflow();
    assert.equal(c.tracked, 5);
    assert.equal(overflow.length, 15);
    assert.ok(overflow.every((s) => s.count === 1));
    assert.equal(c.drain(500).length, 0, 'windows still open');
    assert.equal(c.drain(1_000).length, 5);
    assert.equal(c.tracked, 0);
  });
});

describe('partial expiry', () => {
  it('expires transfers untouched for the retention, except those being worked on', () => {
    const day = 86_400_000;
    const t = [
      { id: 'old', updatedAt: 0 },
      { id: 'busy', updatedAt: 0 },
      { id: 'fresh', updatedAt: 6 * day },
    ];
    assert.deepEqual(
      transfersToExpire(t, 7 * day, 7 * day, (id) => id === 'busy').map((x) => x.id),
      ['old'],
    );
  });
});

describe('orphan partial files', () => {
  it('removes those older than the retention that no incomplete transfer owns', () => {
    const partials = [
      { transferId: 'orphan', modifiedAt: 0 },
      { transferId: 'owned', modifiedAt: 0 },
      { transferId: 'young', modifiedAt: 900 },
    ];
    assert.deepEqual(
      orphanPartials(partials, 1_000, 500, (id) => id === 'owned').map((p) => p.transferId),
      ['orphan'],
    );
  });
});

describe('memory budget', () => {
  it('hands out bytes up to its limit and takes them back', () => {
    const b = new MemoryBudget(100);
    assert.ok(b.take(60));
    assert.equal(b.take(41), false);
    assert.equal(b.inUse, 60, 'a refused take takes nothing');
    b.give(60);
    assert.ok(b.take(100));
  });
});
