import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colorsFor } from '../../src/adapters/cli/color.js';
import { EventWriter } from '../../src/adapters/cli/events.js';
import { progressLine } from '../../src/adapters/cli/format.js';
import { formatDuration, ProgressMeter } from '../../src/adapters/cli/progress-meter.js';

describe('CLI display', () => {
  it('colours only a terminal unless NO_COLOR or FORCE_COLOR say otherwise', () => {
    assert.equal(colorsFor({}, true), true);
    assert.equal(colorsFor({}, false), false);
    assert.equal(colorsFor({ TERM: 'dumb' }, true), false);
    assert.equal(colorsFor({ NO_COLOR: '1' }, true), false);
    assert.equal(colorsFor({ NO_COLOR: '' }, true), true, 'an empty NO_COLOR is unset');
    assert.equal(colorsFor({ FORCE_COLOR: '1' }, false), true);
    assert.equal(colorsFor({ FORCE_COLOR: '0' }, true), false);
    assert.equal(colorsFor({ FORCE_COLOR: 'false' }, true), false);
    assert.equal(colorsFor({ FORCE_COLOR: '1', NO_COLOR: 'yes' }, true), false);
  });

  it('measures the rate over the last seconds, so a burst of held pieces fades out of the time left', () => {
    const meter = new ProgressMeter(100_000_000);
    assert.equal(meter.update(0, 0).etaSeconds, undefined, 'no rate from one reading');
    // A resume: half the file confirmed at once, then 1 MB/s.
    meter.update(50_000_000, 100);
    let reading = meter.update(50_000_000, 100);
    for (let t = 1; t <= 10; t++) reading = meter.update(50_000_000 + t * 1_000_000, 100 + t * 1000);
    assert.ok(Math.abs(reading.rate - 1_000_000) < 1, `rate ${reading.rate}`);
    assert.ok(Math.abs(reading.etaSeconds! - 40) < 0.01, `eta ${reading.etaSeconds}`);
    assert.equal(meter.update(100_000_000, 20_000).etaSeconds, 0);
  });

  it('formats durations and the progress line with the time left', () => {
    assert.equal(formatDuration(75), '1:15');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatDuration(undefined), '--:--');
    const line = progressLine({ bytes: 512, total: 1024, rate: 256, etaSeconds: 2 });
    assert.match(line, /50\.0%/);
    assert.match(line, /ETA 0:02$/);
  });

  it('writes one versioned JSON object per line, escaping what came from the network', () => {
    let out = '';
    const writer = new EventWriter({ write: (t: string) => (out += t) }, () => 0);
    writer.emit({ event: 'transfer-completed', transferId: 'id', path: 'a\nb"c' });
    assert.equal(out.split('\n').length, 2, 'one line');
    assert.deepEqual(JSON.parse(out), {
      v: 1,
      at: '1970-01-01T00:00:00.000Z',
      event: 'transfer-completed',
      transferId: 'id',
      path: 'a\nb"c',
    });
  });
});
