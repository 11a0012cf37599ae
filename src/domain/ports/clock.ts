export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after ms milliseconds (the rate limiter's pause). */
  sleep(ms: number): Promise<void>;
}
