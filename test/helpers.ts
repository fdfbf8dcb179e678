/** Shared test helpers: abortable sleeps and a count of live timers. */
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after `ms`; rejects (and clears its timer) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : undefined);
}

/** How many timers the process holds right now. */
export function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

/** Lets pending microtasks and immediate callbacks run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
