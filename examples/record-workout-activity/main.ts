/**
 * The flagship example: `npm start` runs it. It records a workout message and prints, as the
 * run goes, each node starting and finishing and each state change, then the final state.
 *
 *   npm start                                   # the default message
 *   npm start -- "swam 1k and rode 20k yesterday"
 *   npm start -- --inspect                      # also send the run to `npm run inspector`
 */
import { messageOf, type LifecycleEvent, type StateChangedEvent } from '../../src/index.js';
import { inspect } from '../../inspector/client.js';
import { recordWorkoutActivity } from './workflow.js';

const message = process.argv.slice(2).find((arg) => !arg.startsWith('--'))
  ?? 'Ran 5k this morning, then did 20 pushups and yoga';

// The client says once if nothing listens; then the run was not shown anywhere, and the
// closing line must not claim it was.
let inspectorUnreachable = false;
const inspector = process.argv.includes('--inspect')
  ? inspect({
      log: (line) => {
        if (/nothing listens/.test(line)) inspectorUnreachable = true;
        console.warn(line);
      },
    })
  : undefined;

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
        console.log(`${elapsed()}   ${e.status.padEnd(9)} ${what}${e.error ? `: ${messageOf(e.error)}` : ''}`);
      },
    },
  },
);

console.log('\nFinal state:');
console.log(JSON.stringify(result.state, null, 2));
console.log(`Execution counts: ${show(result.executionCounts)}`);

if (inspector) {
  await inspector.stop();
  if (inspectorUnreachable) console.log('Not shown in the inspector: start it with `npm run inspector`, then run this again with --inspect');
  else console.log('Sent to the inspector: see it at the address `npm run inspector` printed (it carries the token that reads runs)');
}
