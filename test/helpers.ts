/** Shared test helpers: abortable sleeps, a count of live timers, a run's failure. */
import { setTimeout as delay } from 'node:timers/promises';
import * as assert from 'uvu/assert';
import { WorkflowExecutionError } from '../src/index.js';

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

/** The error a run failed with; fails the test if the run succeeded. */
export async function failureOf<S>(run: Promise<{ state: S }>): Promise<WorkflowExecutionError<S>> {
  try {
    await run;
  } catch (err) {
    assert.instance(err, WorkflowExecutionError);
    return err as WorkflowExecutionError<S>;
  }
  return assert.unreachable('the run should have failed') as never;
}
