import { vi } from 'vitest';

/**
 * Moves the clock ahead by `ms` for everything in this process that reads Date: the test server's
 * token, secret and cache expiry included, so a test needs no sleep to see them expire. Timers
 * keep real time. The file must call `vi.useRealTimers()` after each test.
 */
export function advanceClock(ms: number): void {
  if (!vi.isFakeTimers()) vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + ms);
}
