/**
 * Stands in for a call to a language model in the examples: waits `ms`, and stops early with
 * the node's signal (rejecting with its reason) without leaving a timer or listener behind.
 */
export function modelLatency(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
