/**
 * The compiler: the one place that knows how a Graph becomes an XState machine.
 *
 *   graph vertex        → a state (id = the vertex's unique key) that invokes its actor
 *   Node                → invokes the node runner (actors/node-runner.ts)
 *   Subflow             → invokes the subflow's own compiled machine, and forwards to it the
 *                         events its waiting nodes accept
 *   RunConcurrent       → a parallel state, one region per item; past WIDE_RUN_CONCURRENT items,
 *                         a state invoking the fan-out actor (parallel states are super-linear)
 *   RunMap              → a state invoking the fan-out actor (actors/fan-out.ts), which runs
 *                         one child actor per item
 *   edges of a vertex   → guarded transitions on its done event, in declaration order
 *   sink                → its done event goes to the final state `$done`
 *   any failure         → `$failed`, which stops what is still running, then errors the actor
 *
 * The store is a child actor spawned into context, so guards read the committed state, the
 * inspector shows every commit on it, and a persisted snapshot carries it along.
 */
import { assign, forwardTo, fromPromise, setup, type AnyActorRef, type AnyStateMachine } from 'xstate';
import { fanOut, type FanOutInput, type FanOutOutput, type FanOutPlan } from '../../actors/fan-out.js';
import { nodeRunner, type NodeExecution, type NodeRunnerInput } from '../../actors/node-runner.js';
import { storeLogic } from '../../actors/store.js';
import { EMPTY_RECORD, writable } from '../empty-record.js';
import { ConditionError, FanOutItemError, GraphValidationError, MaxIterationsError, NoMatchingEdgeError, WorkflowExecutionError } from '../errors.js';
import type { Edge } from '../graph/edge.js';
import type { Executable } from '../graph/executable.js';
import type { Graph } from '../graph/graph.js';
import type { Node } from '../graph/node.js';
import { Subflow } from '../graph/subflow.js';
import { WaitForEvent } from '../graph/wait-for-event.js';
import { RunConcurrent } from '../graph/run-concurrent.js';
import { RunMap } from '../graph/run-map.js';
import { graphToJSON } from '../graph/to-json.js';
import { HookDispatcher, type Redact, type WorkflowHooks } from '../hooks.js';
import type { AnyStoreDefinition } from '../store/define-store.js';
import { kindOf } from '../describe.js';
import { freezeResult } from '../run-outcome.js';
import { definitionOf, initialStateOf, settleUpdates, viewFor } from '../store/handle.js';
import {
  executableOf,
  instantiateGraph,
  instantiateRunGraph,
  positionsOf,
  instantiateStore,
  registerScope,
  scopeOfStore,
  type RunContext,
  type RunScope,
  type RunSource,
} from './run-scope.js';
import { RunLifecycle } from './run-lifecycle.js';
import {
  executableFor,
  newRunId,
  registerFanOutItems,
  registerRebuild,
  registerRunActor,
  runScopeOf,
  takeRunOptions,
  type RunOptions,
} from './run-registry.js';
import { ATTEMPT_EVENT, RunNodeExecution, executionKey } from './node-execution.js';

const DONE_STATE = '$done';
export const FAILED_STATE = '$failed';
const PRE_STATE = '$preRunActions';
const POST_STATE = '$postRunActions';
/** The name under which compiled machines know the node runner. */
export const NODE_ACTOR = 'node';
const CONDITION_THREW = 'conditionThrew';

/** Counts one more execution of `node` in place (see RunContext); returns its iteration. */
function countExecution(context: RunContext, node: string): number {
  return (context.executionCounts[node] = (context.executionCounts[node] ?? 0) + 1);
}

/** A workflow as the compiler sees it. */
export interface WorkflowSource extends RunSource {
  readonly graph: () => Graph;
  readonly store: (input: any) => unknown;
  /** Hooks of every run, read when a run starts. */
  readonly hooks: Iterable<WorkflowHooks>;
  readonly redact: Redact | undefined;
}

/** What the machine of a subflow gets as input from its parent. */
export interface SubflowInput {
  subflow: string;
  iteration: number;
}

/** What each `meta.junjo` of a compiled state holds. */
export interface StateMeta {
  kind: 'workflow' | 'subflow' | 'node' | 'runConcurrent' | 'runMap' | 'sink' | 'waitForEvent' | 'internal';
  name: string;
  key?: string;
}

// The event types a compiled machine's waiting nodes accept, its subflows' included: a
// subflow state forwards these to its child, so events sent to a run reach a wait inside it.
const awaitedEvents = new WeakMap<object, readonly string[]>();

/**
 * A RunConcurrent of more items than this compiles to the fan-out actor instead of a parallel
 * state: XState's parallel states cost worse than quadratically in their regions (bench/).
 * Up to here a parallel state is cheap and shows each item as a region in a statechart view.
 */
const WIDE_RUN_CONCURRENT = 16;

/** Whether `group` compiles to the fan-out actor: wide, and made only of plain nodes and subflows. */
function isWide(group: RunConcurrent): boolean {
  return (
    group.items.length > WIDE_RUN_CONCURRENT &&
    group.items.every((item) => item instanceof Subflow || (item.kind === 'node' && !(item instanceof WaitForEvent)))
  );
}

type Mode =
  | { kind: 'workflow'; source: WorkflowSource }
  | { kind: 'subflow'; source: Subflow };

export function compileWorkflow(source: WorkflowSource): AnyStateMachine {
  const prototype = instantiateGraph(`Workflow '${source.name}'`, source.graph);
  return compile(prototype, { kind: 'workflow', source });
}

function compile(prototype: Graph, mode: Mode): AnyStateMachine {
  const { source } = mode;
  const owner = mode.kind === 'workflow' ? `Workflow '${source.name}'` : `Subflow '${source.name}'`;
  let definition: AnyStoreDefinition | undefined;
  const learnDefinition = (handle: Parameters<typeof definitionOf>[0]) => {
    definition ??= definitionOf(handle);
  };

  const positions = positionsOf(prototype);
  const createScope = (
    runId: string,
    input: unknown,
    parentActor: AnyActorRef | undefined,
    options: RunOptions,
  ): RunScope => {
    if (mode.kind === 'workflow') {
      const graph = instantiateRunGraph(owner, mode.source.graph, prototype, positions);
      const store = instantiateStore(owner, () => mode.source.store(input), definition);
      learnDefinition(store);
      const hooks = [...mode.source.hooks];
      if (options.hooks) hooks.push(...[options.hooks].flat());
      const lifecycle = hooks.length
        ? new RunLifecycle(
            new HookDispatcher(hooks, options.redact ?? mode.source.redact),
            runId,
            { kind: 'workflow', name: source.name, id: source.name, parentId: null, executionId: runId, parentExecutionId: null },
            prototype,
            () => store.getState(),
          )
        : undefined;
      return { runId, source, graph, store, lifecycle };
    }
    const parent = runScopeOf(parentActor!);
    const { subflow: key, iteration } = input as SubflowInput;
    const subflow = executableFor(parent, parentActor!, key) as Subflow;
    const graph = instantiateRunGraph(owner, subflow.graphFactory, prototype, positions);
    const store = instantiateStore(owner, subflow.storeFactory, definition);
    learnDefinition(store);
    const lifecycle = parent.lifecycle?.subflow(key, subflow.name, iteration, prototype, () => store.getState());
    return {
      runId,
      source: subflow,
      graph,
      store,
      subflow,
      parentStore: parent.store,
      parent,
      lifecycle,
    };
  };

  const rebuild = (context: RunContext, actor: AnyActorRef, options: RunOptions = {}): RunScope => {
    const scope = createScope(context.runId, context.input, actor._parent, options);
    registerScope(context.store, scope);
    registerRunActor(actor, scope);
    return scope;
  };

  const entries = prototype.entries;
  let problems: string[] | undefined;
  const protoEdges = prototype.edges;
  const edgeIndex = new Map<Edge, number>(protoEdges.map((edge, i) => [edge, i]));
  const keyOf = (e: Executable) => prototype.keyOf(e);

  // Guards: one per conditional edge, named after its condition. A condition that throws
  // must not throw inside XState's transition (the actor would error without stopping its
  // children), so its guard records the error and `conditionThrew`, right after it, fails the run.
  const guards: Record<string, (args: { context: RunContext; event: object }) => boolean> = {
    [CONDITION_THREW]: ({ context, event }) => scopeOfStore(context.store)?.conditionFailure?.event === event,
  };
  const guardNames = new Map<number, string>();
  protoEdges.forEach((edge, i) => {
    if (!edge.condition) return;
    let name = edge.condition.name;
    for (let n = 2; name in guards; n++) name = `${edge.condition.name}#${n}`;
    guardNames.set(i, name);
    guards[name] = ({ context, event }) => {
      const scope = scopeOfStore(context.store);
      const condition = scope?.graph.conditions[i] ?? edge.condition!;
      try {
        const holds: unknown = condition.evaluate(context.store.getSnapshot().context);
        if (typeof holds !== 'boolean') {
          // (issue 13, branch robust) kindOf, not String(): a null-prototype object has no text.
          throw new TypeError(`it returned ${typeof holds === 'object' && holds !== null ? kindOf(holds) : typeof holds}, not a boolean`);
        }
        return holds;
      } catch (error) {
        if (!scope) throw error;
        scope.conditionFailure = { event, error: new ConditionError(edge.toString(), condition.name, error) };
        return false;
      }
    };
  });

  // Subflows are child machines, registered as actors by key.
  const actors: Record<string, any> = {
    store: storeLogic(() => {
      if (!definition) throw new Error(`${owner}: its store was used before any run created it`);
      return definition;
    }),
    [NODE_ACTOR]: nodeRunner((parent, input) => nodeExecution(parent, input)),
    fanOut: fanOut((runActor, self, input) => fanOutPlan(runActor, self, input)),
    raiseFailure: fromPromise<never, { error: WorkflowExecutionError }>(({ input }) => Promise.reject(input.error)),
    subflowActions: fromPromise<void, { phase: 'pre' | 'post' }>(async ({ input, signal, self }) => {
      const scope = runScopeOf(self._parent!);
      // The subflow's key in its parent: a graph entry, or a RunMap item's id.
      const { subflow: parentKey, iteration } = (self._parent!.getSnapshot().context as RunContext).input as SubflowInput;
      const phase = input.phase === 'pre' ? 'preRunActions' : 'postRunActions';
      const parentStore = viewFor(scope.parentStore!, parentKey, signal, `${executionKey(parentKey, iteration)}/${phase}`);
      const store = viewFor(scope.store, phase, signal, executionKey(phase, 1));
      const result = input.phase === 'pre' ? scope.subflow!.preRunActions(parentStore, store) : scope.subflow!.postRunActions(parentStore, store);
      // (issue 13, branch robust) Like a node: done once both views' updates settled, failed
      // by a refused update it did not await (src/store/handle.ts, settleUpdates).
      await settleUpdates(store, settleUpdates(parentStore, result));
    }),
  };
  const awaited = new Set<string>();
  const forwarded = new Map<string, readonly string[]>();
  for (const { key, executable } of entries) {
    if (executable instanceof WaitForEvent) executable.events.forEach((type) => awaited.add(type));
    if (executable instanceof Subflow) {
      const inner = instantiateGraph(`Subflow '${executable.name}'`, executable.graphFactory);
      const machine = compile(inner, { kind: 'subflow', source: executable });
      actors[`subflow:${key}`] = machine;
      forwarded.set(key, awaitedEvents.get(machine)!);
      awaitedEvents.get(machine)!.forEach((type) => awaited.add(type));
    }
  }

  const nodeExecution = (parent: AnyActorRef, input: NodeRunnerInput): NodeExecution => {
    const scope = runScopeOf(parent);
    const maxIterations = scope.source.maxIterations;
    if (input.iteration > maxIterations) throw new MaxIterationsError(input.node, maxIterations);
    return new RunNodeExecution(scope, parent, input, executableFor(scope, parent, input.node) as Node<unknown>);
  };

  // RunMap items that are subflows run this machine, compiled from the first such item.
  const itemMachines = new Map<string, AnyStateMachine>();

  const fanOutPlan = (runActor: AnyActorRef, self: AnyActorRef, input: FanOutInput): FanOutPlan => {
    const scope = runScopeOf(runActor);
    // Item actors are children of the fan-out actor; they find their run through it.
    registerRunActor(self, scope);
    const executable = executableOf(scope.graph, input.node);
    const { iteration } = input;
    const itemOf = (id: string, item: Executable, logic: () => AnyStateMachine) =>
      item instanceof Subflow
        ? { id, logic: logic(), input: { subflow: id, iteration } satisfies SubflowInput }
        : { id, logic: actors[NODE_ACTOR], input: { node: id, iteration } satisfies NodeRunnerInput };
    if (executable instanceof RunConcurrent) {
      // The run's group has the prototype's shape: its items have the prototype group's keys.
      const prototypeItems = (entries[positions.get(input.node)!]!.executable as RunConcurrent).items;
      return {
        owner: `RunConcurrent '${executable.name}'`,
        count: executable.items.length,
        item: (index) => {
          const id = keyOf(prototypeItems[index]!);
          return itemOf(id, executable.items[index]!, () => actors[`subflow:${id}`]);
        },
        concurrency: Infinity,
        collectFailures: false,
      };
    }
    const map = executable as RunMap<unknown, unknown, unknown>;
    const maxIterations = scope.source.maxIterations;
    if (iteration > maxIterations) throw new MaxIterationsError(input.node, maxIterations);
    const list = map.itemsOf(scope.store.getState());
    const items = new Map<string, Executable>();
    registerFanOutItems(self, items);
    let kind: string | undefined;
    return {
      owner: `RunMap '${map.name}'`,
      count: list.length,
      item: (index) => {
        const id = `${input.node}[${index}]`;
        const item = map.itemAt(list[index], index);
        kind ??= item.kind;
        if (item.kind !== kind) {
          throw new TypeError(
            `RunMap '${map.name}': node(item, ${index}) returned a ${item.kind}, but earlier items were ${kind}s; return the same kind for every item`,
          );
        }
        items.set(id, item);
        scope.lifecycle?.adopt(id, input.node);
        return itemOf(id, item, () => {
          let machine = itemMachines.get(input.node);
          if (!machine) {
            const subflow = item as Subflow;
            machine = compile(instantiateGraph(`Subflow '${subflow.name}'`, subflow.graphFactory), { kind: 'subflow', source: subflow });
            itemMachines.set(input.node, machine);
          }
          return machine;
        });
      },
      concurrency: map.concurrency,
      collectFailures: map.collectFailures,
    };
  };

  const meta = (kind: StateMeta['kind'], name: string, key?: string) => ({
    junjo: key === undefined ? { kind, name } : { kind, name, key },
  });

  const failTo = (path: string[]) => ({
    target: `#${FAILED_STATE}`,
    actions: { type: 'recordFailure', params: { path } },
  });

  // A subflow's sinks lead to its post-run actions, not straight to the end.
  const sinkTarget = mode.kind === 'subflow' ? POST_STATE : DONE_STATE;
  const edgeTransitions = (executable: Executable, extraActions: unknown[]): unknown[] => {
    const key = keyOf(executable);
    if (prototype.isSink(executable)) return [{ target: `#${sinkTarget}`, actions: extraActions }];
    const out = prototype.outgoing(executable);
    const transitions: unknown[] = out.flatMap((edge): object[] => {
      const i = edgeIndex.get(edge)!;
      const take = { target: `#${keyOf(edge.head)}`, reenter: true, actions: extraActions };
      if (!edge.condition) return [take];
      return [
        { ...take, guard: guardNames.get(i) },
        {
          guard: CONDITION_THREW,
          target: `#${FAILED_STATE}`,
          actions: [...extraActions, { type: 'recordConditionFailure', params: { node: key } }],
        },
      ];
    });
    if (out.length === 0 || out[out.length - 1]!.condition) {
      transitions.push({
        target: `#${FAILED_STATE}`,
        actions: [
          ...extraActions,
          { type: 'recordNoMatchingEdge', params: { node: key, conditions: out.map((e) => e.condition!.name) } },
        ],
      });
    }
    return transitions;
  };

  /**
   * The state of one executable. `onDone` builds its done transitions, given the actions that
   * must run on every one of them.
   */
  const stateFor = (executable: Executable, path: string[], onDone: (actions: unknown[]) => unknown): object => {
    const key = keyOf(executable);
    const count = { type: 'countExecution', params: { node: key } };
    if (executable instanceof RunMap || (executable instanceof RunConcurrent && isWide(executable))) {
      const isMap = executable instanceof RunMap;
      const itemKeys = isMap ? [] : executable.items.map(keyOf);
      return {
        id: key,
        meta: meta(isMap ? 'runMap' : 'runConcurrent', executable.name, key),
        entry: [
          count,
          ...(isMap ? [] : [{ type: 'countItems', params: { items: itemKeys } }]),
          { type: 'reportGroupStarted', params: { key } },
        ],
        invoke: {
          id: key,
          src: 'fanOut',
          input: ({ context }: { context: RunContext }): FanOutInput => ({ node: key, iteration: context.executionCounts[key]! }),
          onDone: onDone([{ type: 'recordFanOutResults' }, { type: 'reportGroupCompleted', params: { key } }]),
          onError: failTo(path),
        },
      };
    }
    if (executable instanceof RunConcurrent) {
      return {
        id: key,
        type: 'parallel',
        meta: meta('runConcurrent', executable.name, key),
        entry: [count, { type: 'reportGroupStarted', params: { key } }],
        states: Object.fromEntries(
          executable.items.map((item) => [
            keyOf(item),
            {
              initial: 'running',
              states: {
                running: stateFor(item, [...path, keyOf(item)], (actions) => ({ target: 'done', actions })),
                done: { type: 'final' },
              },
            },
          ]),
        ),
        onDone: onDone([{ type: 'reportGroupCompleted', params: { key } }]),
      };
    }
    const isSubflow = executable instanceof Subflow;
    const kind = isSubflow ? 'subflow' : prototype.isSink(executable) ? 'sink' : 'node';
    if (executable instanceof WaitForEvent) {
      // Waits with nothing in flight (so it can be persisted), then applies the event it got.
      return {
        id: key,
        meta: { junjo: { kind: 'waitForEvent', name: executable.name, key, events: executable.events, sink: kind === 'sink' } },
        entry: count,
        initial: 'waiting',
        states: {
          waiting: { on: Object.fromEntries(executable.events.map((type) => [type, { target: 'applying' }])) },
          applying: {
            invoke: {
              id: key,
              src: NODE_ACTOR,
              input: ({ context, event }: { context: RunContext; event: NodeRunnerInput['event'] }) => ({
                node: key,
                iteration: context.executionCounts[key],
                event,
              }),
              onDone: onDone([]),
              onError: failTo(path),
            },
          },
        },
      };
    }
    const forwards = isSubflow ? forwarded.get(key)!.map((type) => [type, { actions: forwardTo(key) }]) : [];
    return {
      id: key,
      meta: meta(kind, executable.name, key),
      ...(forwards.length ? { on: Object.fromEntries(forwards) } : {}),
      invoke: {
        id: key,
        src: isSubflow ? `subflow:${key}` : NODE_ACTOR,
        // Counts the execution here rather than in an entry assign (which copies the context
        // and goes through XState's action machinery on every node): XState evaluates an
        // invoke's input exactly once per spawn, and a restored child keeps its persisted input.
        input: ({ context }: { context: RunContext }) => {
          const iteration = countExecution(context, key);
          return isSubflow ? { subflow: key, iteration } : { node: key, iteration };
        },
        onDone: onDone(isSubflow ? [{ type: 'recordSubflowResult', params: { subflow: key } }] : []),
        onError: failTo(path),
      },
    };
  };

  const states: Record<string, object> = {};
  for (const { key, executable, parent } of entries) {
    if (parent !== undefined) continue;
    states[key] = stateFor(executable, [key], (extra) => edgeTransitions(executable, extra));
  }
  const sourceKey = keyOf(prototype.source);
  let initial = sourceKey;
  if (mode.kind === 'subflow') {
    initial = PRE_STATE;
    states[PRE_STATE] = {
      id: PRE_STATE,
      meta: meta('internal', 'preRunActions'),
      invoke: {
        id: 'preRunActions',
        src: 'subflowActions',
        input: ({ context }: { context: RunContext }) => ({ phase: 'pre', subflow: (context.input as SubflowInput).subflow }),
        onDone: `#${sourceKey}`,
        onError: failTo(['preRunActions']),
      },
    };
    states[POST_STATE] = {
      id: POST_STATE,
      meta: meta('internal', 'postRunActions'),
      invoke: {
        id: 'postRunActions',
        src: 'subflowActions',
        input: ({ context }: { context: RunContext }) => ({ phase: 'post', subflow: (context.input as SubflowInput).subflow }),
        onDone: `#${DONE_STATE}`,
        onError: failTo(['postRunActions']),
      },
    };
  }
  states[DONE_STATE] = { id: DONE_STATE, type: 'final', meta: meta('internal', 'done'), entry: 'reportCompleted' };
  states[FAILED_STATE] = {
    id: FAILED_STATE,
    meta: meta('internal', 'failed'),
    // The failure is raised by an invoked actor that errors and that nothing handles: XState
    // then stops every child (the store too) and the run's snapshot reports status 'error',
    // as it does for any unhandled actor error, so every inspector shows it.
    invoke: {
      id: 'failure',
      src: 'raiseFailure',
      input: ({ context }: { context: RunContext }) => ({
        error: new WorkflowExecutionError({
          workflow: source.name,
          runId: context.runId,
          state: context.store.getSnapshot().context,
          path: context.failure?.path ?? [],
          cause: context.failure?.error,
        }),
      }),
    },
  };

  const machineId = source.name.replace(/[.#]/g, '_');
  const machine = setup({
    actors,
    guards,
    actions: {
      // An assign, not a plain action: XState resolves assigns in order during the step (so
      // the invoke's input sees the new count), while plain actions of an initial step run later.
      countExecution: assign({
        executionCounts: ({ context }: { context: RunContext }, { node }: { node: string }) => {
          countExecution(context, node);
          return context.executionCounts;
        },
      }),
      recordAttempt: ({ context, event }: any) => {
        // In place, like executionCounts: the record is plain data persisted with the context.
        (context.attempts = writable(context.attempts))[event.execution] = event.attempt;
      },
      recordSubflowResult: ({ context, event }: any, { subflow }: { subflow: string }) => {
        ((context.subflows = writable<unknown[]>(context.subflows))[subflow] ??= []).push(event.output);
      },
      // Items of a wide RunConcurrent are counted like those of a parallel state would be.
      countItems: assign({
        executionCounts: ({ context }: { context: RunContext }, { items }: { items: string[] }) => {
          for (const item of items) context.executionCounts[item] = (context.executionCounts[item] ?? 0) + 1;
          return context.executionCounts;
        },
      }),
      recordFanOutResults: ({ context, event }: { context: RunContext; event: { output: FanOutOutput } }) => {
        context.subflows = writable(context.subflows);
        for (const [id, output] of event.output) (context.subflows[id] ??= []).push(output);
      },
      recordFailure: assign({
        failure: ({ context, event }: any, { path }: { path: string[] }) => {
          let error = event.error;
          // A fan-out's failing item, like a subflow's failure, says where it happened.
          if (error instanceof FanOutItemError) {
            path = [...path, error.item];
            error = error.error;
          }
          // A subflow's failure already says where inside it; keep the original as the cause.
          const failure =
            error instanceof WorkflowExecutionError
              ? { path: [...path, ...error.path], error: error.cause }
              : { path, error };
          // Only this run's part of the path: a subflow's keys may repeat this graph's keys.
          scopeOfStore(context.store)?.lifecycle?.failing(path, failure.error);
          return failure;
        },
      }),
      recordConditionFailure: assign({
        failure: ({ context }: any, { node }: { node: string }) => {
          const scope = scopeOfStore(context.store)!;
          const failure = { path: [node], error: scope.conditionFailure!.error };
          scope.conditionFailure = undefined;
          scope.lifecycle?.failing(failure.path, failure.error);
          return failure;
        },
      }),
      recordNoMatchingEdge: assign({
        failure: ({ context }: any, { node, conditions }: { node: string; conditions: string[] }) => {
          const failure = { path: [node], error: new NoMatchingEdgeError(node, conditions) };
          scopeOfStore(context.store)?.lifecycle?.failing(failure.path, failure.error);
          return failure;
        },
      }),
      reportGroupStarted: ({ context }: { context: RunContext }, { key }: { key: string }) => {
        scopeOfStore(context.store)?.lifecycle?.groupStarted(key);
      },
      reportGroupCompleted: ({ context }: { context: RunContext }, { key }: { key: string }) => {
        scopeOfStore(context.store)?.lifecycle?.groupCompleted(key);
      },
      reportCompleted: ({ context }: { context: RunContext }) => {
        scopeOfStore(context.store)?.lifecycle?.runEnded('completed');
      },
    } as any,
  } as any).createMachine({
    id: machineId,
    meta: { junjo: { kind: mode.kind, name: source.name, graph: graphToJSON(prototype) } },
    context: ({ input, self, spawn }: any): RunContext => {
      let runId: string;
      let scope: RunScope;
      if (mode.kind === 'workflow') {
        const options = takeRunOptions();
        runId = options.runId ?? newRunId();
        scope = createScope(runId, input, undefined, options);
        if (options.validate !== false) {
          // Every run's graph has the prototype's shape (instantiateRunGraph checks), so the
          // prototype's findings are every run's; finding them once saves each run a graph walk.
          problems ??= prototype.problems();
          if (problems.length) throw new GraphValidationError(source.name, problems);
        }
      } else {
        const { subflow, iteration } = input as SubflowInput;
        const parent = runScopeOf(self._parent);
        if (iteration > parent.source.maxIterations) {
          throw new MaxIterationsError(subflow, parent.source.maxIterations);
        }
        runId = `${parent.runId}/${subflow}#${iteration}`;
        scope = createScope(runId, input, self._parent, {});
      }
      const store = spawn('store', { id: 'store', input: { state: initialStateOf(scope.store) } });
      registerScope(store, scope);
      registerRunActor(self, scope);
      scope.lifecycle?.runStarted();
      return { runId, input, store, executionCounts: {}, attempts: EMPTY_RECORD, subflows: EMPTY_RECORD, failure: null };
    },
    on: { [ATTEMPT_EVENT]: { actions: 'recordAttempt' } },
    initial,
    states,
    // (issue 13, branch robust) Frozen, like Junjo's results; subflows copied, since the
    // context's record is written in place while a run goes on.
    output: ({ context }: { context: RunContext }) => freezeResult({
      runId: context.runId,
      state: context.store.getSnapshot().context,
      executionCounts: { ...context.executionCounts },
      subflows: context.subflows === EMPTY_RECORD ? {} : Object.fromEntries(Object.entries(context.subflows).map(([k, runs]) => [k, [...(runs as unknown[])]])),
    }),
  } as any) as AnyStateMachine;
  registerRebuild(machine, rebuild);
  awaitedEvents.set(machine, [...awaited]);
  return machine;
}
