/**
 * `node bench/main.mjs emit`: workload 8 alone (issue 16): a node emitting 10,000 values
 * through ctx.emit to one listener, against the same one-node run calling a bare callback;
 * medians of alternating repetitions, printed as a ratio.
 */
import { emitWorkload } from './workloads.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const workload = emitWorkload();
const samples: Record<'junjo' | 'plain', number[]> = { junjo: [], plain: [] };
for (const impl of ['junjo', 'plain'] as const) await workload.impls[impl]!();
for (let rep = 0; rep < workload.reps; rep++) {
  for (const impl of ['junjo', 'plain'] as const) samples[impl].push(await workload.impls[impl]!());
}
const emit = median(samples.junjo);
const loop = median(samples.plain);
console.log(`${workload.name}: ${emit.toFixed(2)} ms; bare callback loop in the same run: ${loop.toFixed(2)} ms`);
console.log(`ratio ${(emit / loop).toFixed(2)}×, ${(((emit - loop) / 10_000) * 1000).toFixed(3)} µs more per value (medians of ${workload.reps})`);
