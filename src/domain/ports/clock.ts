export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Milliseconds on a monotonic clock with sub-millisecond resolution, for measuring durations. */
  elapsedMs(): number;
  /** Resolves after ms milliseconds (the rate limiter's pause). */
  sleep(ms: number): Promise<void>;
}
