// The receiver's durability policy (docs/requirements.md#durability) with a fake partial file and a fake clock: a piece
// is recorded only after its write finished and an fdatasync covered it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DurablePieceSink } from '../../src/application/durable-piece-sink.js';
import { DURABLE_BATCH_MS, DURABLE_BATCH_PIECES } from '../../src/domain/limits.js';
import type { Clock } from '../../src/domain/ports/clock.js';
import type { PartialFile } from '../../src/domain/ports/files.js';

class FakePartial implements PartialFile {
  readonly log: string[] = [];
  private pending: (() => void)[] = [];
  failNext = false;
  write(offset: number): Promise<void> {
    this.log.push(`write-start ${offset}`);
    return new Promise((resolve, reject) =>
      this.pending.push(() => {
        this.log.push(`write-done ${offset}`);
        if (this.failNext) reject(new Error('disk full'));
        else resolve();
      }),
    );
  }
  /** Completes the writes started so far. */
  finishWrites(): void {
    const now = this.pending;
    this.pending = [];
    for (const done of now) done();
  }
  read(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(0));
  }
  sync(): Promise<void> {
    this.log.push('sync');
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const clockAt = (t: { now: number }): Clock => ({ now: () => t.now, elapsedMs: () => t.now, sleep: () => Promise.resolve() });
const tick = () => new Promise((r) => setImmediate(r));
const hash = new Uint8Array(32);

describe('durable piece sink', () => {
  it('records a full batch only after its writes are done and synced, without blocking the writes', async () => {
    const file = new FakePartial();
    const recorded: { indexes: number[]; pieces: number; log: number }[] = [];
    const sink = new DurablePieceSink(
      file,
      async (batch, totals) => void recorded.push({ indexes: batch.map((p) => p.index), pieces: totals.pieces, log: file.log.length }),
      clockAt({ now: 0 }),
      { pieces: 0, bytes: 0 },
    );
    for (let i = 0; i < DURABLE_BATCH_PIECES; i++) {
      const submitted = sink.write(i * 10, new Uint8Array(10));
      file.finishWrites();
      await submitted;
      sink.add({ index: i, hash }, 10);
    }
    await tick();
    file.finishWrites();
    const totals = await sink.flush();
    assert.equal(recorded.length, 1, 'one batch');
    assert.equal(recorded[0]!.indexes.length, DURABLE_BATCH_PIECES);
    const syncAt = file.log.indexOf('sync');
    assert.ok(syncAt > file.log.lastIndexOf(`write-done ${(DURABLE_BATCH_PIECES - 1) * 10}`), 'the sync follows every write of the batch');
    assert.ok(recorded[0]!.log > syncAt, 'the record follows the sync');
    assert.deepEqual(totals, { pieces: DURABLE_BATCH_PIECES, bytes: 10 * DURABLE_BATCH_PIECES });
  });

  it('starts a batch after DURABLE_BATCH_MS even when it is small, and flush records the rest with the final fields', async () => {
    const file = new FakePartial();
    const time = { now: 1000 };
    const batches: { indexes: number[]; status: unknown }[] = [];
    const sink = new DurablePieceSink(
      file,
      async (batch, _t, extra) => void batches.push({ indexes: batch.map((p) => p.index), status: extra.status }),
      clockAt(time),
      { pieces: 5, bytes: 50 },
    );
    await sink.write(0, new Uint8Array(1));
    file.finishWrites();
    sink.add({ index: 7, hash }, 1);
    time.now += DURABLE_BATCH_MS;
    await sink.write(1, new Uint8Array(1));
    file.finishWrites();
    sink.add({ index: 8, hash }, 1);
    await tick();
    sink.add({ index: 9, hash }, 1);
    const totals = await sink.flush({ status: 'interrupted' });
    assert.deepEqual(batches, [
      { indexes: [7, 8], status: undefined },
      { indexes: [9], status: 'interrupted' },
    ]);
    assert.deepEqual(totals, { pieces: 8, bytes: 53 }, 'held pieces of earlier attempts count');
  });

  it('never records a piece whose write failed, and reports the failure', async () => {
    const file = new FakePartial();
    const recorded: number[] = [];
    const sink = new DurablePieceSink(file, async (batch) => void recorded.push(...batch.map((p) => p.index)), clockAt({ now: 0 }), {
      pieces: 0,
      bytes: 0,
    });
    file.failNext = true;
    await sink.write(0, new Uint8Array(1));
    sink.add({ index: 0, hash }, 1);
    file.finishWrites();
    await assert.rejects(sink.flush(), /disk full/);
    await assert.rejects(sink.write(1, new Uint8Array(1)), /disk full/);
    assert.deepEqual(recorded, []);
    assert.equal(file.log.includes('sync'), false);
  });
});
