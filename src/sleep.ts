/**
 * An abortable wait: what a node that waits (a backoff, a poll, a stand-in for a slow call)
 * should use, so that cancelling its run stops the wait at once.
 *
 * ```ts
 * const poll = node<H>('Poll', async (store, ctx) => {
 *   while (!(await ready())) await sleep(500, ctx.signal);
 * });
 * ```
 */

/** Waits `ms`; rejects at once with `signal`'s reason when it aborts, leaving no timer or listener. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
