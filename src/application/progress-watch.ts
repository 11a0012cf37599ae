// After ACCEPT a session must keep moving bytes (docs/defences.md#slow-senders): an idle timeout
// alone restarts on every record, so a trickle would hold the session for ever. Every interval
// the bytes moved are checked against the progress rule, except an interval in which the
// receiver itself kept the session waiting (its buffer pool, its disk): that one says nothing
// about the sender, so it starts again.
import { ProgressRule, type ProgressRules } from '../domain/policy/progress-rule.js';
import type { Clock } from '../domain/ports/clock.js';

/** A disk write that kept the session waiting this long excuses the interval. */
const DISK_WAIT_EXCUSE_MS = 1000;

export class ProgressWatch {
  private timer: NodeJS.Timeout | undefined;
  private waiting = 0;
  private waited = false;

  constructor(
    private readonly rules: ProgressRules,
    private readonly clock: Clock,
    /** Bytes the session has moved so far. */
    private readonly moved: () => number,
    /** The rule is broken: the session ends with this reason. */
    private readonly tooSlow: (detail: string) => void,
  ) {}

  start(): void {
    const rule = new ProgressRule(this.rules, this.clock.now(), this.moved());
    this.timer = setInterval(() => {
      if (this.waiting > 0 || this.waited) {
        this.waited = false;
        rule.restart(this.clock.now(), this.moved());
        return;
      }
      const slow = rule.check(this.clock.now(), this.moved());
      if (slow === undefined) return;
      this.stop();
      this.tooSlow(`too slow: ${slow}`);
    }, this.rules.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The session waited for the receiver (an empty buffer pool): the interval is excused. */
  excuse(): void {
    this.waited = true;
  }

  /** Runs a disk write; only one that really held the session up excuses the interval. */
  async whileWriting<T>(write: () => Promise<T>): Promise<T> {
    const started = this.clock.now();
    this.waiting++;
    try {
      return await write();
    } finally {
      this.waiting--;
      if (this.clock.now() - started >= DISK_WAIT_EXCUSE_MS) this.waited = true;
    }
  }
}
