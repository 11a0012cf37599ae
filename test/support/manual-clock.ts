// A clock the test moves by hand: now() is what the test set, and sleep(ms) resolves only when
// advance() passes its deadline. Timing-dependent code runs without real waits.
import type { Clock } from '../../src/domain/ports/clock.js';

export class ManualClock implements Clock {
  private sleepers: { readonly at: number; readonly wake: () => void }[] = [];

  constructor(private at = 1_000_000) {}

  now(): number {
    return this.at;
  }

  elapsedMs(): number {
    return this.at;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => this.sleepers.push({ at: this.at + ms, wake }));
  }

  /** Sleeps not yet over. */
  get sleeping(): number {
    return this.sleepers.length;
  }

  /** Moves time on by ms, wakes every sleep that is over, and lets what they started run. */
  async advance(ms: number): Promise<void> {
    this.at += ms;
    const due = this.sleepers.filter((s) => s.at <= this.at);
    this.sleepers = this.sleepers.filter((s) => s.at > this.at);
    for (const s of due) s.wake();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
