import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ADAPT_EVERY_PIECES,
  AdaptiveCompressionLevel,
  AUTO_LEVEL_CEILING,
  AUTO_LEVEL_FLOOR,
} from '../../src/domain/policy/adaptive-compression-level.js';

function feed(level: AdaptiveCompressionLevel, windows: number, pieceWaitMs: number, networkWaitMs: number): number[] {
  const seen: number[] = [];
  for (let w = 0; w < windows; w++) {
    for (let i = 0; i < ADAPT_EVERY_PIECES; i++) level.observe(pieceWaitMs, networkWaitMs);
    seen.push(level.level);
  }
  return seen;
}

describe('adaptive compression level', () => {
  it('starts at the old fixed default and steps down to the floor while compression is the wait (a fast link)', () => {
    const level = new AdaptiveCompressionLevel();
    assert.equal(level.level, AUTO_LEVEL_CEILING);
    assert.deepEqual(feed(level, 4, 5, 0), [2, 1, 1, 1]);
    assert.equal(level.level, AUTO_LEVEL_FLOOR);
  });

  it('steps back up while the network is the wait (a slow link), never past the ceiling', () => {
    const level = new AdaptiveCompressionLevel();
    feed(level, 2, 5, 0);
    assert.deepEqual(feed(level, 4, 0.2, 30), [2, 3, 3, 3]);
  });

  it('holds still when neither wait dominates, or there is nothing to wait for', () => {
    const level = new AdaptiveCompressionLevel();
    assert.deepEqual(feed(level, 3, 3, 2), [3, 3, 3]);
    assert.deepEqual(feed(level, 3, 0, 0), [3, 3, 3]);
  });

  it('decides only once per window of pieces', () => {
    const level = new AdaptiveCompressionLevel();
    for (let i = 0; i < ADAPT_EVERY_PIECES - 1; i++) level.observe(100, 0);
    assert.equal(level.level, AUTO_LEVEL_CEILING);
    level.observe(100, 0);
    assert.equal(level.level, AUTO_LEVEL_CEILING - 1);
  });

  it('ignores negative times (a clock stepped back)', () => {
    const level = new AdaptiveCompressionLevel();
    assert.deepEqual(feed(level, 1, -50, 1), [3]);
  });
});
