// Repeated audit events from one source are coalesced (docs/defences.md#audit): within each
// window of `windowMs`, the first `burst` events of one kind from one source are recorded and the
// rest only counted; the count is recorded as "N similar events suppressed" when the window
// closes. A flood of connections then costs a bounded number of rows per source and window,
// while a source's first events are always recorded as they were. Pure: time is passed in.

export interface CoalescingRules {
  readonly windowMs: number;
  readonly burst: number;
  /** Sources tracked at once; beyond it the least recent is summarised and forgotten. */
  readonly maxTracked: number;
}

export interface Suppressed {
  readonly key: string;
  readonly count: number;
  readonly since: number;
}

interface Window {
  readonly since: number;
  recorded: number;
  suppressed: number;
}

export class EventCoalescer {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly rules: CoalescingRules) {
    if (!(rules.windowMs > 0) || rules.burst < 1 || rules.maxTracked < 1) throw new RangeError('EventCoalescer: invalid rules');
  }

  /**
   * Whether an event of this key at now is recorded, and the summary of the key's window that
   * just closed, if one did and it suppressed anything.
   */
  admit(key: string, now: number): { readonly record: boolean; readonly closed?: Suppressed } {
    let closed: Suppressed | undefined;
    let w = this.windows.get(key);
    if (w && now - w.since >= this.rules.windowMs) {
      if (w.suppressed > 0) closed = { key, count: w.suppressed, since: w.since };
      this.windows.delete(key);
      w = undefined;
    }
    if (!w) {
      w = { since: now, recorded: 0, suppressed: 0 };
      this.windows.set(key, w);
    }
    const record = w.recorded < this.rules.burst;
    if (record) w.recorded++;
    else w.suppressed++;
    return closed ? { record, closed } : { record };
  }

  /** Summaries of every window that is over (or of all, at shutdown), which are then forgotten. */
  drain(now: number, all = false): Suppressed[] {
    const out: Suppressed[] = [];
    for (const [key, w] of this.windows) {
      if (!all && now - w.since < this.rules.windowMs) continue;
      if (w.suppressed > 0) out.push({ key, count: w.suppressed, since: w.since });
      this.windows.delete(key);
    }
    return out;
  }

  /** Summaries of the least recent windows beyond maxTracked, which are then forgotten. */
  overflow(): Suppressed[] {
    const out: Suppressed[] = [];
    while (this.windows.size > this.rules.maxTracked) {
      const [key, w] = this.windows.entries().next().value as [string, Window];
      if (w.suppressed > 0) out.push({ key, count: w.suppressed, since: w.since });
      this.windows.delete(key);
    }
    return out;
  }

  get tracked(): number {
    return this.windows.size;
  }
}
