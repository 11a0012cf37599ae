// The rate and time left of a transfer as its progress arrives. The rate is measured over the
// last few seconds, not since the start, so a resume's burst of held pieces (confirmed without
// being sent) or a change of link speed fades out of the estimate.

const WINDOW_MS = 3_000;

export interface ProgressReading {
  readonly bytes: number;
  readonly total: number;
  /** Bytes per second over the recent window; 0 until two readings are apart in time. */
  readonly rate: number;
  /** Seconds left at that rate; undefined while the rate is unknown. */
  readonly etaSeconds: number | undefined;
}

export class ProgressMeter {
  private samples: { readonly at: number; readonly bytes: number }[] = [];

  constructor(private readonly total: number) {}

  update(bytes: number, at: number): ProgressReading {
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const elapsed = (at - first.at) / 1000;
    const rate = elapsed > 0 ? (bytes - first.bytes) / elapsed : 0;
    const left = Math.max(0, this.total - bytes);
    return { bytes, total: this.total, rate, etaSeconds: left === 0 ? 0 : rate > 0 ? left / rate : undefined };
  }
}

/** 75 -> "1:15", 3725 -> "1:02:05"; unknown -> "--:--". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}
