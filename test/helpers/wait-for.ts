import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves once `condition` holds, checking every `intervalMs`; rejects naming `what` after
 * `timeoutMs`. An error the condition throws ends the wait at once (a child process that exited).
 * Measured with performance.now(), which a test that fakes Date does not move.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, { timeoutMs = 30_000, intervalMs = 50 } = {}): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}
