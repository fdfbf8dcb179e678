/**
 * WaitForEvent: a state that first waits with nothing in flight (so a waiting run can be
 * persisted), then, on one of the node's events, invokes the node runner to apply it; once it
 * is applied the state is done and leaves along its edges.
 */
import type { NodeRunnerInput } from '../../../actors/node-runner.js';
import type { WaitForEvent } from '../../graph/wait-for-event.js';
import { NODE_ACTOR } from '../compile-graph.js';
import type { RunContext } from '../run-scope.js';
import type { KindCompiler } from './kind.js';

export const waitForEventKind: KindCompiler<WaitForEvent<any, any>> = {
  awaits: (wait) => wait.events,
  state: (wait, { key, path, done }, graph) => ({
    id: key,
    meta: { junjo: { kind: 'waitForEvent', name: wait.name, key, events: wait.events, sink: graph.prototype.isSink(wait) } },
    entry: { type: 'countExecution', params: { node: key } },
    initial: 'waiting',
    states: {
      waiting: { on: Object.fromEntries(wait.events.map((type) => [type, { target: 'applying' }])) },
      applying: {
        invoke: {
          id: key,
          src: NODE_ACTOR,
          input: ({ context, event }: { context: RunContext; event: NodeRunnerInput['event'] }) => ({
            node: key,
            iteration: context.executionCounts[key],
            event,
          }),
          onDone: 'applied',
          onError: graph.failTo(path),
        },
      },
      applied: { type: 'final' },
    },
    // On the waitFor's own state, as the agent's is: `done`'s targets resolve next to it (a
    // RunConcurrent branch's `done`), not inside it, where they would not exist.
    onDone: done([]),
  }),
};
