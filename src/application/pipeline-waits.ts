// Where a transfer's pipeline sat waiting, by cause (docs/PERFORMANCE.md#waits): the time its
// main loop spent on a promise that was not its own work. What is not a wait is work, or
// waiting for a core. The causes say which side or resource held the pipeline up, so a run
// shows what bounds it without a profiler.
import type { Clock } from '../domain/ports/clock.js';

/** The sender's writer: nothing it may send (the window is full), the next piece not read and compressed yet, the socket full. */
export type SenderWait = 'window' | 'source' | 'socket';
/** The receiver's loop: no bytes from the network yet, the disk behind, no buffer free for a piece, the socket full (ACKs). */
export type ReceiverWait = 'network' | 'disk' | 'buffers' | 'socket';
export const SENDER_WAITS: readonly SenderWait[] = ['window', 'source', 'socket'];
export const RECEIVER_WAITS: readonly ReceiverWait[] = ['network', 'disk', 'buffers', 'socket'];

/** What counts a wait: the part of the pipeline that owns the promise need not know the rest. */
export interface WaitTimer<C extends string> {
  during<T>(cause: C, work: Promise<T>): Promise<T>;
}

/** Counts nothing: where no one is measuring, a wait is only awaited. */
export const UNTIMED: WaitTimer<string> = { during: (_cause, work) => work };

/** Seconds from the start of the transfer's pieces to now, and seconds waited per cause. */
export interface WaitReport<C extends string> {
  readonly seconds: number;
  readonly waits: Readonly<Record<C, number>>;
}

export class PipelineWaits<C extends string> implements WaitTimer<C> {
  private readonly totals: Record<C, number>;
  private readonly started: number;

  constructor(
    private readonly clock: Pick<Clock, 'elapsedMs'>,
    causes: readonly C[],
  ) {
    this.started = clock.elapsedMs();
    this.totals = Object.fromEntries(causes.map((c) => [c, 0])) as Record<C, number>;
  }

  /** Awaits work, counting the time as a wait for cause. */
  async during<T>(cause: C, work: Promise<T>): Promise<T> {
    const from = this.clock.elapsedMs();
    try {
      return await work;
    } finally {
      this.totals[cause] += this.clock.elapsedMs() - from;
    }
  }

  report(): WaitReport<C> {
    const s = (ms: number) => Math.round(ms) / 1000;
    const waits = Object.fromEntries(Object.entries(this.totals).map(([c, ms]) => [c, s(ms as number)])) as Record<C, number>;
    return { seconds: s(this.clock.elapsedMs() - this.started), waits };
  }
}
