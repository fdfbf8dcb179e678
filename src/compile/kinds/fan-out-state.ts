/**
 * The state shared by the kinds that run on the fan-out actor (actors/fan-out.ts): a RunMap,
 * and a RunConcurrent too wide for a parallel state. One state, one invoked actor, however
 * many items; the kind's module says what the actor runs (`KindCompiler.plan`).
 */
import type { FanOutInput } from '../../../actors/fan-out.js';
import type { Executable } from '../../graph/executable.js';
import { FAN_OUT_ACTOR, type GraphCompiler } from '../compile-graph.js';
import type { RunAction, RunStateConfig, StateMeta } from '../machine-types.js';
import type { RunContext } from '../run-scope.js';
import { stateMeta, type StateSite } from './kind.js';

export function fanOutState(
  executable: Executable,
  kind: StateMeta['kind'],
  { key, path, done }: StateSite,
  graph: GraphCompiler,
  entry: readonly RunAction[] = [],
): RunStateConfig {
  return {
    id: key,
    meta: stateMeta(kind, executable.name, key),
    entry: [{ type: 'countExecution', params: { node: key } }, ...entry, { type: 'reportGroupStarted', params: { key } }],
    invoke: {
      id: key,
      src: FAN_OUT_ACTOR,
      input: ({ context }: { context: RunContext }): FanOutInput => ({ node: key, iteration: context.executionCounts[key]! }),
      onDone: done([{ type: 'recordFanOutResults', params: undefined }, { type: 'reportGroupCompleted', params: { key } }]),
      onError: graph.failTo(path),
    },
  };
}
