import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../../domain/ports/clock.js';

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  elapsedMs(): number {
    return performance.now();
  }

  async sleep(ms: number): Promise<void> {
    await delay(ms);
  }
}
