/**
 * The flagship example: `npm start` runs it. It records a workout message and prints, as the
 * run goes, each node starting and finishing and each state change, then the final state.
 *
 *   npm start                                   # the default message
 *   npm start -- "swam 1k and rode 20k yesterday"
 *   npm start -- --inspect                      # also send the run to `npm run inspector`
 */
import type { LifecycleEvent, StateChangedEvent } from '../../src/index.js';
import { inspect } from '../../inspector/client.js';
import { recordWorkoutActivity } from './workflow.js';

const message = process.argv.slice(2).find((arg) => !arg.startsWith('--'))
  ?? 'Ran 5k this morning, then did 20 pushups and yoga';

const inspector = process.argv.includes('--inspect') ? inspect() : undefined;

const started = Date.now();
const elapsed = () => `${String(Date.now() - started).padStart(4)} ms`;
const show = (value: unknown) => JSON.stringify(value);

const result = await recordWorkoutActivity.execute(
  { message },
  {
    inspect: inspector,
    hooks: {
      onEvent(event) {
        if (event.type === 'stateChanged') {
          const e = event as StateChangedEvent;
          const changes = e.patches.map((p) => `${p.path.join('.')} = ${show(p.value)}`).join(', ');
          console.log(`${elapsed()}   state  ${e.action} from ${e.node ?? '(outside)'}: ${changes}`);
          return;
        }
        const e = event as LifecycleEvent;
        const what = `${e.kind} '${e.name}'`;
        console.log(`${elapsed()}   ${e.status.padEnd(9)} ${what}${e.error ? `: ${String(e.error)}` : ''}`);
      },
    },
  },
);

console.log('\nFinal state:');
console.log(JSON.stringify(result.state, null, 2));
console.log(`Execution counts: ${show(result.executionCounts)}`);

if (inspector) {
  await inspector.stop();
  console.log('Sent to the inspector: see it at http://127.0.0.1:4480/ (started with `npm run inspector`)');
}
