// A minimum rate after ACCEPT (docs/defences.md#slow-senders): an idle timeout alone restarts on
// every record, so a sender that trickles a byte now and then would hold its session, its
// reservation and its partial file for ever. Every `intervalMs` the session must have moved at
// least `minBytes` (read or written) since the previous check, or it is closed. Pure: the caller
// passes the time and the byte counter.

export interface ProgressRules {
  readonly intervalMs: number;
  readonly minBytes: number;
}

export class ProgressRule {
  private checkedAt: number;
  private bytesAtCheck: number;

  constructor(
    private readonly rules: ProgressRules,
    now: number,
    bytes: number,
  ) {
    if (!(rules.intervalMs > 0) || rules.minBytes < 0) throw new RangeError('ProgressRule: invalid rules');
    this.checkedAt = now;
    this.bytesAtCheck = bytes;
  }

  /** Starts a new interval now: the one that ended said nothing about the peer (the receiver made it wait). */
  restart(now: number, bytes: number): void {
    this.checkedAt = now;
    this.bytesAtCheck = bytes;
  }

  /**
   * Called at least once per interval. Undefined while the session keeps up; otherwise why it is
   * too slow. A check before the interval is over says nothing.
   */
  check(now: number, bytes: number): string | undefined {
    if (now - this.checkedAt < this.rules.intervalMs) return undefined;
    const moved = bytes - this.bytesAtCheck;
    const seconds = (now - this.checkedAt) / 1000;
    this.checkedAt = now;
    this.bytesAtCheck = bytes;
    if (moved >= this.rules.minBytes) return undefined;
    return `${moved} bytes moved in ${seconds.toFixed(1)} s, fewer than the ${this.rules.minBytes} required per ${this.rules.intervalMs / 1000} s`;
  }
}
