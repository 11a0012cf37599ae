// The server's pure policies (docs/defences.md) with time passed in: bans, address keys, token bucket.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { addressKey } from '../../src/domain/policy/address-key.js';
import { BanPolicy } from '../../src/domain/policy/ban-policy.js';
import { OffenceTally } from '../../src/domain/policy/offence-tally.js';
import { CompressionProbe } from '../../src/domain/policy/compression-probe.js';
import { TokenBucket } from '../../src/domain/policy/token-bucket.js';

const rules = { threshold: 3, windowMs: 60_000, banMs: 600_000, maxBanMs: 86_400_000, maxTracked: 1000 };

describe('offence tally (offences this receiver reports to the others)', () => {
  it('reports the most offending sources first, at most the limit, and keeps the rest for the next report', () => {
    const tally = new OffenceTally(100);
    for (const key of ['a', 'b', 'b', 'c', 'c', 'c']) tally.add(key);
    assert.deepEqual(tally.take(2), [
      { key: 'c', count: 3 },
      { key: 'b', count: 2 },
    ]);
    assert.deepEqual(tally.take(10), [{ key: 'a', count: 1 }], 'what the first report left');
    assert.deepEqual(tally.take(10), []);
  });

  it('takes back a report that could not be written, added to what came meanwhile', () => {
    const tally = new OffenceTally(100);
    tally.add('a');
    const failed = tally.take(10);
    tally.add('a');
    tally.putBack(failed);
    assert.deepEqual(tally.take(10), [{ key: 'a', count: 2 }]);
  });

  it('stays bounded under a flood of sources, still counting the ones it tracks', () => {
    const tally = new OffenceTally(3);
    for (let i = 0; i < 1000; i++) tally.add(`s${i}`);
    tally.add('s0');
    assert.equal(tally.size, 3);
    assert.deepEqual(tally.take(1), [{ key: 's0', count: 2 }]);
  });

  it('forgets a source this receiver banned: the ban travels instead', () => {
    const tally = new OffenceTally(10);
    tally.add('a');
    tally.add('b');
    tally.forget('a');
    assert.deepEqual(tally.take(10), [{ key: 'b', count: 1 }]);
  });
});

describe('ban policy', () => {
  it('bans at the threshold-th failure within the window, for the ban time', () => {
    const bans = new BanPolicy(rules);
    assert.equal(bans.recordOffence('10.0.0.9', 1_000), undefined);
    assert.equal(bans.recordOffence('10.0.0.9', 2_000), undefined);
    assert.equal(bans.banned('10.0.0.9', 2_500), undefined);
    assert.deepEqual(bans.recordOffence('10.0.0.9', 3_000), { key: '10.0.0.9', until: 603_000, offences: 3, round: 1 });
    assert.ok(bans.banned('10.0.0.9', 3_001));
    assert.ok(bans.banned('10.0.0.9', 602_999));
    assert.equal(bans.banned('10.0.0.9', 603_000), undefined, 'the ban ends');
    assert.equal(bans.banned('10.0.0.10', 3_001), undefined, 'another address is unaffected');
  });

  it('counts offences reported in a batch toward the same threshold, never past it', () => {
    const bans = new BanPolicy(rules);
    assert.equal(bans.recordOffence('a', 1_000, 2), undefined, 'two of three');
    assert.deepEqual(bans.recordOffence('a', 2_000), { key: 'a', until: 602_000, offences: 3, round: 1 });
    assert.deepEqual(
      bans.recordOffence('b', 1_000, 1_000_000),
      { key: 'b', until: 601_000, offences: 3, round: 1 },
      'a huge count adds no more than the threshold',
    );
  });

  it('counts reported offences when they happened: they leave the window then, and late ones count for nothing', () => {
    const bans = new BanPolicy(rules);
    bans.recordOffence('a', 70_000, 2, 20_000); // reported at 20 s, read at 70 s
    assert.equal(bans.recordOffence('a', 81_000), undefined, 'the two reported offences left the window at 80 s');
    assert.equal(bans.recordOffence('c', 100_000, 3, 30_000), undefined, 'offences older than the window add nothing');
  });

  it('forgets failures older than the window', () => {
    const bans = new BanPolicy(rules);
    bans.recordOffence('a', 0);
    bans.recordOffence('a', 30_000);
    assert.equal(bans.recordOffence('a', 60_000), undefined, 'the first failure left the window');
    assert.ok(bans.recordOffence('a', 61_000));
  });

  it('keeps its memory bounded under a flood of addresses', () => {
    const bans = new BanPolicy({ ...rules, maxTracked: 100 });
    for (let i = 0; i < 10_000; i++) bans.recordOffence(`10.${i >> 8}.${i & 255}.1`, i);
    assert.ok(bans.tracked <= 300, `tracked ${bans.tracked}`);
  });

  it('doubles the ban for a source that offends again soon after one, up to the longest ban', () => {
    const bans = new BanPolicy({ ...rules, banMs: 60_000, maxBanMs: 300_000 });
    let now = 0;
    const lengths: number[] = [];
    for (let round = 0; round < 6; round++) {
      let ban;
      for (let i = 0; i < 3; i++) ban = bans.recordOffence('x', now++);
      assert.ok(ban);
      lengths.push(ban.until - (now - 1));
      now = ban.until; // back as soon as the ban ends
    }
    assert.deepEqual(lengths, [60_000, 120_000, 240_000, 300_000, 300_000, 300_000]);
  });

  it('starts again from the first ban length after a clean spell as long as the longest ban', () => {
    const bans = new BanPolicy({ ...rules, banMs: 60_000, maxBanMs: 300_000 });
    for (let i = 0; i < 3; i++) bans.recordOffence('x', i);
    const first = bans.recordOffence('x', 60_010) ?? bans.recordOffence('x', 60_011) ?? bans.recordOffence('x', 60_012);
    assert.equal(first?.round, 2);
    const later = 60_012 + 120_000 + 300_000;
    bans.recordOffence('x', later);
    bans.recordOffence('x', later + 1);
    assert.equal(bans.recordOffence('x', later + 2)?.round, 1);
  });

  it('takes over a ban decided elsewhere, and escalates from it on the next offences here', () => {
    const bans = new BanPolicy({ ...rules, banMs: 60_000, maxBanMs: 3_600_000 });
    bans.impose({ key: 'x', until: 60_000, offences: 3, round: 1 }, 0);
    assert.ok(bans.banned('x', 59_999));
    bans.impose({ key: 'x', until: 30_000, offences: 3, round: 1 }, 0);
    assert.equal(bans.banned('x', 1)?.until, 60_000, 'a shorter ban changes nothing');
    bans.impose({ key: 'z', until: 1e15, offences: 3, round: 1 }, 0);
    assert.equal(bans.banned('z', 1)?.until, 3_600_000, 'a ban from a clock far ahead lasts at most the longest ban');
    bans.impose({ key: 'y', until: 10, offences: 3, round: 1 }, 20);
    assert.equal(bans.banned('y', 21), undefined, 'an ended ban is not taken over');
    for (let i = 0; i < 3; i++) bans.recordOffence('x', 60_000 + i);
    assert.equal(bans.banned('x', 60_003)?.round, 2, 'the next ban here counts the one from elsewhere');
  });

  it('under a flood of new bans forgets the ones that end soonest, never a long ban', () => {
    const bans = new BanPolicy({ ...rules, threshold: 1, banMs: 1_000, maxBanMs: 1_000_000, maxTracked: 10 });
    // A repeat offender earns a long ban first.
    bans.recordOffence('long', 0);
    bans.recordOffence('long', 1_000);
    bans.recordOffence('long', 2_000);
    const long = bans.banned('long', 2_001);
    assert.ok(long && long.round === 3);
    for (let i = 0; i < 1_000; i++) bans.recordOffence(`flood-${i}`, 3_000);
    assert.ok(bans.banned('long', 3_001), 'the long ban survives the flood');
  });

  it('bans exactly when threshold failures fall within one window, whatever the timing (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 50 }), (times) => {
        const bans = new BanPolicy(rules);
        const sorted = [...times].sort((x, y) => x - y);
        // Once banned, the server refuses at accept, so no later failure is ever recorded.
        for (const [i, t] of sorted.entries()) {
          const inWindow = sorted.slice(0, i + 1).filter((u) => t - u < rules.windowMs).length;
          const ban = bans.recordOffence('k', t);
          assert.equal(Boolean(ban), inWindow >= rules.threshold);
          if (ban) break;
        }
      }),
    );
  });
});

describe('address keys', () => {
  const cases: [string, string][] = [
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:0:1:aaaa:bbbb:cccc:dddd', '2001:db8:0:1::/64'],
    ['2001:db8:0:1::5', '2001:db8:0:1::/64'],
    ['2001:DB8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ];
  for (const [address, key] of cases) it(`keys ${address} as ${key}`, () => assert.equal(addressKey(address), key));

  it('keys 6to4 and NAT64 addresses by the IPv4 address inside them', () => {
    assert.equal(addressKey('2002:cb00:7107::1'), '203.0.113.7');
    assert.equal(addressKey('2002:cb00:7107:ffff:1:2:3:4'), '203.0.113.7', 'the whole /48 of one IPv4 host is one key');
    assert.equal(addressKey('64:ff9b::cb00:7107'), '203.0.113.7');
    assert.equal(addressKey('64:ff9b::203.0.113.8'), '203.0.113.8');
    assert.notEqual(addressKey('64:ff9b::cb00:7107'), addressKey('64:ff9b::cb00:7108'), 'clients behind one NAT64 gateway are told apart');
  });

  it('puts every address of one /64 under one key', () => {
    assert.equal(addressKey('2001:db8:1:2:3:4:5:6'), addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    assert.notEqual(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
  });
});

describe('token bucket', () => {
  it('lets a burst through, then spaces reads at the configured rate', () => {
    const bucket = new TokenBucket(1000, 500, 0);
    assert.equal(bucket.take(500, 0), 0, 'the burst');
    assert.equal(bucket.take(1000, 0), 1000, 'a second of debt');
    assert.equal(bucket.take(0, 1000), 0, 'paid back after a second');
  });

  it('never refills beyond the burst, however long it idles', () => {
    const bucket = new TokenBucket(1000, 500, 0);
    assert.equal(bucket.take(1500, 3_600_000), 1000);
  });

  it('keeps the long-run rate for any read sizes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 20, maxLength: 200 }), (reads) => {
        const rate = 100_000;
        const burst = 10_000;
        const bucket = new TokenBucket(rate, burst, 0);
        let now = 0;
        let total = 0;
        for (const n of reads) {
          total += n;
          now += bucket.take(n, now); // the reader sleeps as told
        }
        // Elapsed time is what the bytes beyond the burst cost at the rate, to the millisecond.
        const expected = ((total - burst) / rate) * 1000;
        assert.ok(now >= expected - 1 && now <= expected + reads.length, `${now} ms for ${total} bytes`);
      }),
    );
  });
});

describe('compression probe', () => {
  it('compresses every piece while pieces shrink', () => {
    const probe = new CompressionProbe();
    for (let i = 0; i < 100; i++) {
      assert.equal(probe.shouldCompress(), true);
      probe.observe(1000, 300);
    }
  });

  it('skips runs that double after each miss, up to 64, and returns at once after a hit', () => {
    const probe = new CompressionProbe();
    const pattern: boolean[] = [];
    for (let i = 0; i < 200; i++) {
      const tried = probe.shouldCompress();
      pattern.push(tried);
      if (tried) probe.observe(1000, 1000); // incompressible
    }
    const tries = pattern.flatMap((t, i) => (t ? [i] : []));
    assert.deepEqual(tries.slice(0, 6), [0, 5, 14, 31, 64, 129], 'gaps of 4, 8, 16, 32, 64 skipped pieces');
    assert.equal(tries[6], 194, 'the run stops growing at 64');
    probe.observe(1000, 500); // the data became compressible at a probe
    for (let i = 0; i < 10; i++) assert.equal(probe.shouldCompress(), true);
  });
});
