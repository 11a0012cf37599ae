// Where a pipeline waited (docs/PERFORMANCE.md#waits): each awaited promise's time goes to its
// cause, failures included, and the report gives seconds since the start beside them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PipelineWaits } from '../../src/application/pipeline-waits.js';
import { ManualClock } from '../support/manual-clock.js';

describe('pipeline waits', () => {
  it('adds the time of each awaited promise to its cause, a failed one too', async () => {
    const clock = new ManualClock(0);
    const waits = new PipelineWaits(clock, ['disk', 'network'] as const);
    await clock.advance(100); // work, not a wait
    const disk = waits.during('disk', clock.sleep(250));
    await clock.advance(250);
    await disk;
    const failed = waits.during(
      'network',
      clock.sleep(40).then(() => Promise.reject(new Error('connection lost'))),
    );
    const refused = assert.rejects(failed, /connection lost/);
    await clock.advance(40);
    await refused;
    assert.deepEqual(waits.report(), { seconds: 0.39, waits: { disk: 0.25, network: 0.04 } });
  });

  it('reports every cause, those never waited for at zero', () => {
    const waits = new PipelineWaits(new ManualClock(0), ['window', 'source', 'socket'] as const);
    assert.deepEqual(waits.report().waits, { window: 0, source: 0, socket: 0 });
  });
});
