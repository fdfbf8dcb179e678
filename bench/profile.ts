/**
 * Runs one workload of the bench repeatedly, for profiling:
 *   node bench/main.mjs profile "3. fan-out of 1,000" junjo 20 -- --cpu-prof
 * (arguments: a prefix of the workload's name, the implementation, the repetitions).
 */
import { workloads, type Impl } from './workloads.js';

const [prefix = '1.', impl = 'junjo', reps = '10'] = process.argv.slice(2);
const workload = workloads().find((w) => w.name.startsWith(prefix));
const run = workload?.impls[impl as Impl];
if (!workload || !run) throw new Error(`no workload starting with '${prefix}' implemented by '${impl}'`);
for (let i = 0; i < Number(reps); i++) console.log(`${workload.name} (${impl}): ${(await run()).toFixed(1)} ms`);
