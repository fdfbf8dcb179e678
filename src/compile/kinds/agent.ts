/**
 * Agent (issue 16): an agent node compiled into states, so each model request and each tool
 * call is a child actor of the run of its own — seen one by one in the run's snapshot, by the
 * inspector, by hooks and spans — and the loop's state lives in the run's context between
 * them (`context.agents[key]`), so a run resumed from a checkpoint repeats no finished step.
 *
 *   deciding    → asks the agent's `plan(loop)`; an eventless transition to one of:
 *   modelRequest  spawns `<key>/model#<n>`; its output is the next loop state
 *   toolCalls     spawns `<key>/tool#<n>` per call of the plan, all at once; done when all are
 *   approval      waits, nothing in flight (persistable), for a decision event on the call;
 *                 a RunQueue parks the run here as at a waitFor (src/postgres/run-events.ts)
 *   limit         fails the node with the plan's error (e.g. AgentLimitError)
 *   finishing     the node runner runs the node's service with the final loop: it commits
 *   finished      final: the agent's state is done, and leaves along its edges
 *
 * The steps are spawned rather than invoked because their number is known only as the loop
 * runs; their ids name them. What a step does is the agent's (junjo-xstate/ai's AgentNode):
 * this module knows the loop only as JSON, so the core never imports 'ai'.
 */
import { assign, enqueueActions, fromPromise, stopChild, type AnyEventObject } from 'xstate';
import type { AgentExecutable, AgentPlan, AgentStepContext, AgentToolCallRef } from '../../graph/agent.js';
import { backoff } from '../../../actors/node-runner.js';
import { writable } from '../../empty-record.js';
import { sleep } from '../../sleep.js';
import { FAILURE_ACTOR, NODE_ACTOR } from '../compile-graph.js';
import { NodeEmitter } from '../node-emit.js';
import type { NodeLifecycle } from '../run-lifecycle.js';
import { scopeOf } from '../run-registry.js';
import { executableAt, type AgentRecord, type RunContext } from '../run-scope.js';
import { countExecution } from '../run-actions.js';
import type { KindCompiler } from './kind.js';

/** The name under which compiled machines know the agent step actor. */
export const AGENT_STEP_ACTOR = 'agentStep';

/** The event type the node's service gets the final loop state with. */
export const AGENT_DONE_EVENT = 'junjo.agent.done';

/** What one step actor is given: plain data, so a restored run restarts it as it was. */
export interface AgentStepInput {
  node: string;
  iteration: number;
  /** `model#2`, `tool#3` */
  step: string;
  loop: unknown;
  call?: AgentToolCallRef;
}

function recordOf(context: RunContext, key: string): AgentRecord {
  const record = context.agents?.[key];
  if (!record) throw new Error(`Agent node '${key}': its loop is missing from the run's context (a snapshot of another version?)`);
  return record;
}

function agentOf(context: RunContext, key: string): AgentExecutable {
  return executableAt(scopeOf(context.store), key) as AgentExecutable;
}

/** The agent's plan for its loop as the context holds it (a first model request before any). */
function planOf(context: RunContext, key: string): AgentPlan {
  const record = recordOf(context, key);
  return record.loop === null ? { kind: 'model' } : agentOf(context, key).plan(record.loop);
}

/** Per execution of an agent node: one emitter and one count of emitted values over its steps. */
const emitters = new WeakMap<object, Map<string, { emitter: NodeEmitter; seq: number }>>();

/**
 * The actor of one model request or tool call: the agent's step, under a signal that aborts
 * when the actor is stopped, reported to the run's hooks as a node inside the agent node.
 */
export const agentStep = fromPromise<unknown, AgentStepInput>(async ({ input, self, signal }) => {
  const run = self._parent!;
  const scope = scopeOf(run);
  const agent = executableAt(scope, input.node) as AgentExecutable;
  const tool = input.call ? `: ${input.call.name}` : '';
  const label = `${agent.name} ${input.step.replace('#', ' ')}${tool}`;
  let byExecution = emitters.get(scope);
  if (!byExecution) emitters.set(scope, (byExecution = new Map()));
  const executionKey = `${input.node}#${input.iteration}`;
  // The node's retry policy applies to each step: a failed request or call is tried again.
  const attempts = agent.retry?.attempts ?? 1;
  for (let attempt = 1; ; attempt++) {
    const last = attempt >= attempts;
    const report: NodeLifecycle | undefined = scope.lifecycle?.agentStep(input.node, agent.name, input.iteration, input.step, label, signal, attempt, last);
    let ended = false;
    const ctx: AgentStepContext = {
      signal,
      emit: (data) => {
        if (ended || signal.aborted) return false;
        let route = byExecution.get(executionKey);
        if (!route) byExecution.set(executionKey, (route = { emitter: new NodeEmitter(scope, { key: input.node, name: agent.name, iteration: input.iteration }), seq: 0 }));
        route.emitter.emit(attempt, ++route.seq, data, report?.emitted, input.step);
        return true;
      },
      setAttributes: (attributes) => report?.setAttributes(attributes),
      runId: scope.runId,
      node: input.node,
      iteration: input.iteration,
      step: input.step,
    };
    try {
      const output = input.call
        ? await agent.toolCall(input.loop, input.call, ctx)
        : await agent.modelRequest(input.loop ?? agent.begin(scope.store.getState()), ctx);
      ended = true;
      report?.completed();
      return output;
    } catch (error) {
      ended = true;
      report?.failed(error);
      if (last || signal.aborted) throw error;
      const delayMs = backoff(agent.retry!, attempt, error);
      scope.lifecycle?.nodeRetrying(input.node, label, input.iteration, attempt, error, delayMs);
      await sleep(delayMs, signal);
    }
  }
});

// A done step actor stays among the run's children (and in its snapshot) until stopped.
const forget = stopChild<RunContext, AnyEventObject, undefined, AnyEventObject>(({ event }: { event: AnyEventObject }) => event.actorId as string);

/** Whether a child actor's done or error event is one of this agent's `kind` steps. */
const stepOf = (key: string, kind: 'model' | 'tool') => {
  const prefix = `${key}/${kind}#`;
  return ({ event }: { event: AnyEventObject }) => typeof event.actorId === 'string' && event.actorId.startsWith(prefix);
};

export const agentKind: KindCompiler<AgentExecutable<any>> = {
  awaits: (agent) => agent.approvalEvents,
  state: (agent, { key, path, done }, graph) => {
    const is = (kind: AgentPlan['kind']) => ({ context }: { context: RunContext }) => planOf(context, key).kind === kind;
    const isModel = stepOf(key, 'model');
    const isTool = stepOf(key, 'tool');
    // A result is kept by call id; the batch is answered when every call of it has one.
    const callOf = ({ context, event }: { context: RunContext; event: AnyEventObject }) =>
      recordOf(context, key).batch.find((c) => `${key}/tool#${c.n}` === event.actorId);
    const keepResult = (args: { context: RunContext; event: AnyEventObject }) => {
      const call = callOf(args);
      if (call) recordOf(args.context, key).results[call.id] = args.event.output;
    };
    const isLast = (args: { context: RunContext; event: AnyEventObject }) => {
      const call = callOf(args);
      const { batch, results } = recordOf(args.context, key);
      return call !== undefined && batch.every((c) => c === call || Object.hasOwn(results, c.id));
    };
    const fail = graph.failTo(path);
    return {
      id: key,
      meta: { junjo: { kind: 'agent', name: agent.name, key, events: agent.approvalEvents, sink: graph.prototype.isSink(agent) } },
      entry: assign({
        agents: ({ context }) => {
          const agents = writable<AgentRecord>(context.agents ?? {});
          agents[key] = { iteration: countExecution(context, key), loop: null, requests: 0, tools: 0, decisions: 0, batch: [], results: {} };
          return agents;
        },
      }),
      // The loop is the node's business only while it runs: later checkpoints do not carry it.
      exit: ({ context }) => void delete context.agents?.[key],
      initial: 'deciding',
      states: {
        deciding: {
          always: [
            { guard: is('model'), target: 'modelRequest' },
            { guard: is('tools'), target: 'toolCalls' },
            { guard: is('approval'), target: 'approval' },
            { guard: is('failed'), target: 'limit' },
            { target: 'finishing' },
          ],
        },
        modelRequest: {
          entry: enqueueActions(({ context, enqueue }) => {
            const record = recordOf(context, key);
            const step = `model#${++record.requests}`;
            enqueue.spawnChild(AGENT_STEP_ACTOR, {
              id: `${key}/${step}`,
              input: { node: key, iteration: record.iteration, step, loop: record.loop } satisfies AgentStepInput,
            });
          }),
          on: {
            'xstate.done.actor.*': {
              guard: isModel,
              target: 'deciding',
              actions: [({ context, event }) => void (recordOf(context, key).loop = event.output), forget],
            },
            'xstate.error.actor.*': { ...fail, guard: isModel },
          },
        },
        toolCalls: {
          entry: enqueueActions(({ context, enqueue }) => {
            const record = recordOf(context, key);
            const plan = planOf(context, key) as Extract<AgentPlan, { kind: 'tools' }>;
            record.batch = plan.calls.map((call) => ({ id: call.id, name: call.name, n: ++record.tools }));
            record.results = {};
            for (const call of record.batch) {
              const step = `tool#${call.n}`;
              enqueue.spawnChild(AGENT_STEP_ACTOR, {
                id: `${key}/${step}`,
                input: { node: key, iteration: record.iteration, step, loop: record.loop, call: { id: call.id, name: call.name } } satisfies AgentStepInput,
              });
            }
          }),
          on: {
            'xstate.done.actor.*': [
              {
                guard: isLast,
                target: 'deciding',
                actions: [forget, (args) => {
                  keepResult(args);
                  const record = recordOf(args.context, key);
                  const calls = record.batch.map((c) => ({ id: c.id, name: c.name }));
                  record.loop = agentOf(args.context, key).answered(record.loop, calls, calls.map((c) => record.results[c.id]));
                  record.batch = [];
                  record.results = {};
                }],
              },
              { guard: (args) => callOf(args) !== undefined, actions: [forget, keepResult] },
            ],
            'xstate.error.actor.*': { ...fail, guard: isTool },
          },
        },
        approval: {
          on: Object.fromEntries(
            agent.approvalEvents.map((type) => [
              type,
              {
                // Not about the call the loop waits at: ignored, the loop keeps waiting.
                guard: ({ context, event }: { context: RunContext; event: AnyEventObject }) => decisionOf(context, key, event) !== undefined,
                target: 'deciding',
                actions: ({ context, event }: { context: RunContext; event: AnyEventObject }) => {
                  const record = recordOf(context, key);
                  record.loop = decisionOf(context, key, event);
                  record.decisions = (record.decisions ?? 0) + 1;
                },
              },
            ]),
          ),
        },
        limit: {
          invoke: {
            src: FAILURE_ACTOR,
            input: ({ context }: { context: RunContext }) => ({ error: (planOf(context, key) as Extract<AgentPlan, { kind: 'failed' }>).error }),
            onError: fail,
          },
        },
        finishing: {
          invoke: {
            id: key,
            src: NODE_ACTOR,
            input: ({ context }: { context: RunContext }) => {
              const record = recordOf(context, key);
              return { node: key, iteration: record.iteration, event: { type: AGENT_DONE_EVENT, loop: record.loop } };
            },
            onDone: 'finished',
            onError: fail,
          },
        },
        finished: { type: 'final' },
      },
      // On the agent's own state, so the targets resolve where `done` means them (next to it).
      onDone: done([]),
    };
  },
};

function decisionOf(context: RunContext, key: string, event: AnyEventObject): unknown {
  const plan = planOf(context, key);
  if (plan.kind !== 'approval') return undefined;
  return agentOf(context, key).decided(recordOf(context, key).loop, plan.call, event);
}
