import { sleep } from '../../src/index.js';

/**
 * Stands in for a call to a language model in the examples: waits `ms`, and stops early with
 * the node's signal (rejecting with its reason) without leaving a timer or listener behind.
 */
export function modelLatency(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, signal);
}
