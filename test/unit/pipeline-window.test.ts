// The sender's window of pieces in flight (docs/PERFORMANCE.md#the-window), against a simulated
// path: a bottleneck of a given rate with a first-in first-out queue, and a round trip. A fixed
// 16 pieces caps a long fat path; the adaptive window must fill it, and settle near twice its
// bandwidth-delay product instead of growing to its bound.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PIPELINE_WINDOW, MAX_PIPELINE_BYTES } from '../../src/domain/limits.js';
import { PipelineWindow } from '../../src/domain/transfer/pipeline-window.js';

const MiB = 1024 * 1024;

interface Path {
  /** Bottleneck rate, bytes per millisecond. */
  readonly bytesPerMs: number;
  readonly rttMs: number;
}

/** Sends pieces through the path as the window allows; the rate of the second half and the window at the end. */
function simulate(window: PipelineWindow, path: Path, pieces: number, wireBytes: number): { rate: number; window: number } {
  let now = 0;
  let next = 0;
  let bottleneckFree = 0;
  // ACKs come back in the order sent: a FIFO bottleneck and one path.
  const acks: { index: number; at: number }[] = [];
  let halfAt = 0;
  let acked = 0;
  while (acked < pieces) {
    while (next < pieces && next - acked < window.size) {
      window.sent(next, wireBytes, now);
      bottleneckFree = Math.max(now, bottleneckFree) + wireBytes / path.bytesPerMs;
      // Millisecond ticks, as the sender's clock gives them.
      acks.push({ index: next, at: Math.ceil(bottleneckFree + path.rttMs) });
      next++;
    }
    const ack = acks.shift()!;
    now = Math.max(now, ack.at);
    window.acked(ack.index, now);
    acked++;
    if (acked === pieces / 2) halfAt = now;
  }
  return { rate: ((pieces / 2) * wireBytes) / (now - halfAt), window: window.size };
}

const gbit = (n: number) => (n * 1e9) / 8 / 1000;

describe('the pipeline window', () => {
  it('caps a long fat path when fixed at 16 pieces', () => {
    const path = { bytesPerMs: gbit(10), rttMs: 100 };
    const { rate } = simulate(PipelineWindow.fixed(16), path, 2000, MiB);
    assert.ok(rate < 0.15 * path.bytesPerMs, `16 MiB per 100 ms: ${(rate / path.bytesPerMs).toFixed(2)} of the link`);
  });

  it('fills a 10 Gbit/s path with a 100 ms round trip when adaptive', () => {
    const path = { bytesPerMs: gbit(10), rttMs: 100 };
    const { rate, window } = simulate(PipelineWindow.forPieces(MiB), path, 4000, MiB);
    assert.ok(rate >= 0.9 * path.bytesPerMs, `${(rate / path.bytesPerMs).toFixed(2)} of the link`);
    assert.ok(window <= MAX_PIPELINE_BYTES / MiB, `within its bound: ${window}`);
  });

  it('settles near twice the path bandwidth-delay product, not at its bound', () => {
    const path = { bytesPerMs: gbit(1), rttMs: 200 };
    const bdpPieces = (path.bytesPerMs * path.rttMs) / MiB; // about 24
    const { rate, window } = simulate(PipelineWindow.forPieces(MiB), path, 3000, MiB);
    assert.ok(rate >= 0.9 * path.bytesPerMs, `${(rate / path.bytesPerMs).toFixed(2)} of the link`);
    assert.ok(window >= bdpPieces && window <= 2.5 * bdpPieces, `window ${window} for a product of ${bdpPieces.toFixed(1)} pieces`);
  });

  it('counts pieces as they went on the wire: compressed ones fill the path in greater number', () => {
    const path = { bytesPerMs: gbit(1), rttMs: 200 };
    const raw = simulate(PipelineWindow.forPieces(MiB), path, 3000, MiB);
    const compressed = simulate(PipelineWindow.forPieces(MiB), path, 12000, MiB / 4);
    assert.ok(compressed.rate >= 0.9 * path.bytesPerMs);
    assert.ok(compressed.window >= 3.5 * raw.window, `${compressed.window} pieces of a quarter against ${raw.window}`);
  });

  it('never goes below its initial size on a short path', () => {
    const path = { bytesPerMs: 300_000, rttMs: 1 };
    const { rate, window } = simulate(PipelineWindow.forPieces(MiB), path, 500, MiB);
    assert.equal(window, DEFAULT_PIPELINE_WINDOW);
    assert.ok(rate >= 0.9 * path.bytesPerMs);
  });

  it('learns nothing from a refused piece, nor from an ACK of a piece it never sent', () => {
    const w = PipelineWindow.forPieces(MiB);
    w.sent(0, MiB, 0);
    w.dropped(0);
    w.acked(0, 1);
    w.acked(7, 1);
    assert.equal(w.roundTripMs, undefined);
    assert.equal(w.size, DEFAULT_PIPELINE_WINDOW);
  });

  it('stays fixed when fixed, and refuses bounds that make no window', () => {
    const w = PipelineWindow.fixed(4);
    for (let i = 0; i < 100; i++) {
      w.sent(i, MiB, i);
      w.acked(i, i + 100);
    }
    assert.equal(w.size, 4);
    assert.throws(() => PipelineWindow.fixed(0), RangeError);
    assert.throws(() => PipelineWindow.adaptive({ initial: 8, max: 4 }), RangeError);
  });
});
