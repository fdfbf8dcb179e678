/**
 * The record a run starts with where most runs never write — retry attempts, subflow results,
 * a store's applied update positions: one frozen object that all of them share until
 * `writable` gives a run its own, on its first write. Thousands of runs may wait at once.
 *
 * ```ts
 * context.attempts = writable(context.attempts);
 * context.attempts[execution] = attempt;
 * ```
 */
export const EMPTY_RECORD: Record<string, never> = Object.freeze({});

/** `record` itself, or a fresh record in place of the shared EMPTY_RECORD. */
export function writable<T>(record: Record<string, T>): Record<string, T> {
  return record === EMPTY_RECORD ? {} : record;
}
