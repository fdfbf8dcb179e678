/**
 * The compiler: the one place that knows how a Graph becomes an XState machine.
 *
 *   graph vertex        → a state (id = the vertex's unique key), built by its kind's module
 *                         (./kinds/, looked up by `executable.kind` in ./kinds/index.ts)
 *   edges of a vertex   → guarded transitions on its done event, in declaration order (./edges.ts)
 *   sink                → its done event goes to the final state `$done`
 *   any failure         → `$failed`, which stops what is still running, then errors the actor
 *
 * A machine is a workflow's or a subflow's; its MachineRole says how its runs start and what
 * frames its graph. The store is a child actor spawned into context, so guards read the
 * committed state, the inspector shows every commit on it, and a persisted snapshot carries it.
 */
import { fromPromise, setup, type AnyActorRef, type AnyEventObject, type UnknownActorLogic } from 'xstate';
import { fanOut, type FanOutItem } from '../../actors/fan-out.js';
import { nodeRunner } from '../../actors/node-runner.js';
import { storeLogic, type StoreActorRef } from '../../actors/store.js';
import { EMPTY_RECORD } from '../empty-record.js';
import { freezeResult } from '../run-outcome.js';
import { GraphValidationError, MaxIterationsError, WorkflowExecutionError } from '../errors.js';
import { nestingCycle, nestingCycleProblem, type Executable } from '../graph/executable.js';
import { isWarning, type Graph } from '../graph/graph.js';
import type { Node } from '../graph/node.js';
import type { Subflow } from '../graph/subflow.js';
import { graphToJSON } from '../graph/to-json.js';
import { HookDispatcher, type Redact, type WorkflowHooks } from '../hooks.js';
import type { AnyStoreDefinition } from '../store/define-store.js';
import { definitionOf, initialStateOf } from '../store/handle.js';
import { edgeGuards, edgeTransitions, type EdgeGuards } from './edges.js';
import { KINDS } from './kinds/index.js';
import type { KindCompiler, StateSite } from './kinds/kind.js';
import { stateMeta } from './kinds/kind.js';
import { AGENT_STEP_ACTOR, agentStep } from './kinds/agent.js';
import { SUBFLOW_ACTIONS_ACTOR, subflowActions, subflowRole } from './kinds/subflow.js';
import type { RunStateConfig, RunTransition } from './machine-types.js';
import { ATTEMPT_EVENT, RunNodeExecution } from './node-execution.js';
import { initialContext, runActions } from './run-actions.js';
import { RunLifecycle } from './run-lifecycle.js';
import { RunStart, newRunId, type RunOptions } from './run-options.js';
import { bindScope, registerMachine, scopeOf } from './run-registry.js';
import {
  attachStore,
  executableAt,
  instantiateGraph,
  instantiateRunGraph,
  instantiateStore,
  positionsOf,
  type RunContext,
  type RunScope,
  type RunSource,
} from './run-scope.js';

export const DONE_STATE = '$done';
export const FAILED_STATE = '$failed';
/** The names under which compiled machines know the node runner and the fan-out actor. */
export const NODE_ACTOR = 'node';
export const FAN_OUT_ACTOR = 'fanOut';
/** Rejects with its input's error: the run's failure, or an agent's that cannot go on. */
export const FAILURE_ACTOR = 'raiseFailure';

/** A workflow as the compiler sees it. */
export interface WorkflowSource extends RunSource {
  readonly graph: () => Graph;
  readonly store: (input: any) => unknown;
  /** Hooks of every run, read when a run starts. */
  readonly hooks: Iterable<WorkflowHooks>;
  readonly redact: Redact | undefined;
}

/** What makes a compiled graph a workflow's machine or a subflow's. */
export interface MachineRole {
  readonly kind: 'workflow' | 'subflow';
  /** The workflow's or subflow's name. */
  readonly name: string;
  /** How errors name the machine's owner: "Workflow 'Sample'". */
  readonly owner: string;
  /** Reads a run's id, input and options from its actor's input; throws to refuse the run. */
  begin(actorInput: unknown, self: AnyActorRef): { runId: string; input: unknown; options: RunOptions };
  /** Builds a run's scope, for a new run and for one restored from a snapshot. */
  createScope(runId: string, input: unknown, actor: AnyActorRef, options: RunOptions, graph: GraphCompiler): RunScope;
  /** The states around the graph: where a run starts, where sinks lead, and those states. */
  frame(sourceKey: string, graph: GraphCompiler): { initial: string; sinkTarget: string; states: Record<string, RunStateConfig> };
}

/** A compiled graph: its machine, its actor name, and the events its waiting nodes accept. */
export interface CompiledGraph {
  readonly machine: ReturnType<GraphCompiler['compile']>;
  readonly src: string;
  readonly awaited: readonly string[];
}

export function compileWorkflow(source: WorkflowSource) {
  return new GraphCompiler(instantiateGraph(`Workflow '${source.name}'`, source.graph), workflowRole(source), source.name).compile();
}

/** How a workflow's machine starts its runs: options from the actor's input, validation first. */
function workflowRole(source: WorkflowSource): MachineRole {
  const owner = `Workflow '${source.name}'`;
  let problems: string[] | undefined;
  return {
    kind: 'workflow',
    name: source.name,
    owner,
    begin: (actorInput) => {
      const { input, options } = RunStart.unwrap(actorInput);
      return { runId: options.runId ?? newRunId(), input, options };
    },
    createScope: (runId, input, actor, options, graph) => {
      const { prototype } = graph;
      if (options.validate !== false) {
        // Every run's graph has the prototype's shape (instantiateRunGraph checks), so the
        // prototype's findings are every run's; finding them once saves each run a graph walk.
        problems ??= prototype.problems().filter((p) => !isWarning(p));
        if (problems.length) throw new GraphValidationError(source.name, problems);
      }
      const runGraph = instantiateRunGraph(owner, source.graph, prototype, graph.positions);
      const store = instantiateStore(owner, () => source.store(input), graph.definition);
      const hooks = [...source.hooks];
      if (options.hooks) hooks.push(...[options.hooks].flat());
      const lifecycle = hooks.length
        ? new RunLifecycle(
            new HookDispatcher(hooks, options.redact ?? source.redact),
            runId,
            { kind: 'workflow', name: source.name, id: source.name, parentId: null, executionId: runId, parentExecutionId: null },
            prototype,
            () => store.getState(),
          )
        : undefined;
      return { runId, actor, source, graph: runGraph, store, lifecycle };
    },
    frame: (sourceKey) => ({ initial: sourceKey, sinkTarget: DONE_STATE, states: {} }),
  };
}

/** The kind module of `executable`. */
function kindModule(executable: Executable): KindCompiler<Executable> {
  return KINDS[executable.kind] as KindCompiler<Executable>;
}

/**
 * Compiles one graph (a workflow's or a subflow's) into a machine. Kind modules build their
 * states through it: it knows the prototype graph, the failure transition, the actor table,
 * and the compiled machines of subflows.
 */
export class GraphCompiler {
  readonly positions: ReadonlyMap<string, number>;
  /** The store definition, learnt from the first run's store (the store factory needs input). */
  definition: AnyStoreDefinition | undefined;
  readonly #actors: Record<string, UnknownActorLogic>;
  readonly #subflows = new Map<string, CompiledGraph>();
  readonly #guards: EdgeGuards;

  constructor(
    readonly prototype: Graph,
    readonly role: MachineRole,
    /** The workflow this graph belongs to, and the subflows it is nested in. */
    readonly workflow: string,
    readonly outer: readonly Subflow[] = [],
  ) {
    this.positions = positionsOf(prototype);
    this.#guards = edgeGuards(prototype);
    this.#actors = {
      store: storeLogic(() => {
        if (!this.definition) throw new Error(`${role.owner}: its store was used before any run created it`);
        return this.definition;
      }),
      [NODE_ACTOR]: nodeRunner((parent, input) => {
        const scope = scopeOf(parent);
        const { maxIterations } = scope.source;
        if (input.iteration > maxIterations) throw new MaxIterationsError(input.node, maxIterations);
        return new RunNodeExecution(scope, parent, input, executableAt(scope, input.node) as Node<unknown>);
      }),
      [FAN_OUT_ACTOR]: fanOut((runActor, self, input) => {
        const scope = scopeOf(runActor);
        // Item actors are children of the fan-out actor; they find their run through it.
        bindScope(scope, self);
        const executable = executableAt(scope, input.node)!;
        return kindModule(executable).plan!(executable, { scope, key: input.node, iteration: input.iteration }, this);
      }),
      [FAILURE_ACTOR]: fromPromise<never, { error: WorkflowExecutionError }>(({ input }) => Promise.reject(input.error)),
      [SUBFLOW_ACTIONS_ACTOR]: subflowActions,
      [AGENT_STEP_ACTOR]: agentStep,
    };
  }

  /** The logic the machine knows as `name`. */
  actor(name: string): UnknownActorLogic {
    return this.#actors[name]!;
  }

  /** The prototype's executable of `key`. */
  prototypeAt(key: string): Executable {
    return this.prototype.entries[this.positions.get(key)!]!.executable;
  }

  /** The transition to `$failed`, recording the failure at `path`. */
  failTo(path: readonly string[]): RunTransition {
    return { target: `#${FAILED_STATE}`, actions: { type: 'recordFailure', params: { path } } };
  }

  /** The state of one executable at `site`, as its kind builds it. */
  stateOf(executable: Executable, site: StateSite): RunStateConfig {
    return kindModule(executable).state(executable, site, this);
  }

  /** Whether `executable` can run as a fan-out item (a RunMap item). */
  canBeItem(executable: Executable): boolean {
    return kindModule(executable).item !== undefined;
  }

  /** The nouns of the kinds that can be fan-out items, for error messages. */
  itemKinds(): string[] {
    return Object.entries(KINDS).flatMap(([kind, module]) => ((module as KindCompiler<Executable>).item ? [kind] : []));
  }

  /** `executable` as a fan-out item with actor id `id`; items of one `shape` share a machine. */
  item(executable: Executable, id: string, iteration: number, shape: string): FanOutItem {
    return kindModule(executable).item!(executable, id, iteration, this, shape);
  }

  /** The compiled machine of `subflow` (compiled once per `shape`, the key it runs under). */
  subflow(subflow: Subflow, shape: string): CompiledGraph {
    let compiled = this.#subflows.get(shape);
    if (!compiled) {
      // A subflow inside itself would compile forever: refuse it, as validation does.
      const cycle = nestingCycle(this.outer, subflow);
      if (cycle) throw new GraphValidationError(this.workflow, [nestingCycleProblem(cycle)]);
      const inner = new GraphCompiler(
        instantiateGraph(`Subflow '${subflow.name}'`, subflow.graph),
        subflowRole(subflow),
        this.workflow,
        [...this.outer, subflow],
      );
      const machine = inner.compile();
      compiled = { machine, src: `subflow:${shape}`, awaited: inner.awaited() };
      this.#actors[compiled.src] = machine;
      this.#subflows.set(shape, compiled);
    }
    return compiled;
  }

  /** Event types that the machine's waiting nodes accept, its subflows' included. */
  awaited(): string[] {
    const events = new Set<string>();
    for (const { executable } of this.prototype.entries) {
      for (const type of kindModule(executable).awaits?.(executable, this) ?? []) events.add(type);
    }
    return [...events];
  }

  /** Builds the scope of a run of `actor`, and binds it to the actor. */
  #scope(runId: string, input: unknown, actor: AnyActorRef, options: RunOptions): RunScope {
    const scope = this.role.createScope(runId, input, actor, options, this);
    this.definition ??= definitionOf(scope.store);
    bindScope(scope, actor);
    return scope;
  }

  /** Binds a run's scope to its store actor too. */
  #attach(scope: RunScope, store: StoreActorRef<any>): RunScope {
    bindScope(scope, store);
    attachStore(scope, store);
    return scope;
  }

  compile() {
    const { prototype, role } = this;
    const sourceKey = prototype.keyOf(prototype.source);
    const frame = role.frame(sourceKey, this);
    const states: Record<string, RunStateConfig> = { ...frame.states };
    for (const { key, executable, parent } of prototype.entries) {
      if (parent !== undefined) continue;
      states[key] = this.stateOf(executable, {
        key,
        path: [key],
        done: (actions) => edgeTransitions(prototype, executable, frame.sinkTarget, this.#guards, actions),
      });
    }
    states[DONE_STATE] = { id: DONE_STATE, type: 'final', meta: stateMeta('internal', 'done'), entry: { type: 'reportCompleted', params: undefined } };
    states[FAILED_STATE] = {
      id: FAILED_STATE,
      meta: stateMeta('internal', 'failed'),
      // The failure is raised by an invoked actor that errors and that nothing handles: XState
      // then stops every child (the store too) and the run's snapshot reports status 'error',
      // as it does for any unhandled actor error, so every inspector shows it.
      invoke: {
        id: 'failure',
        src: FAILURE_ACTOR,
        input: ({ context }: { context: RunContext }) => ({
          error: new WorkflowExecutionError({
            workflow: role.name,
            runId: context.runId,
            state: context.store.getSnapshot().context,
            path: context.failure?.path ?? [],
            cause: context.failure?.error,
          }),
        }),
      },
    };

    // One JSON of the graph per machine: the root's meta, and what hooks are told a run runs.
    const graphJSON = graphToJSON(prototype, this.outer);
    const machine = setup({
      types: {
        context: {} as RunContext,
        events: {} as AnyEventObject,
        input: {} as unknown,
        output: {} as RunOutput,
        meta: {} as RunStateConfig['meta'] & object,
      },
      actors: this.#actors,
      guards: this.#guards.predicates,
      actions: runActions,
    }).createMachine({
      id: role.name.replace(/[.#]/g, '_'),
      meta: { junjo: { kind: role.kind, name: role.name, graph: graphJSON } },
      context: ({ input: actorInput, self, spawn }) => {
        const { runId, input, options } = role.begin(actorInput, self);
        const scope = this.#scope(runId, input, self, options);
        const store = spawn('store', { id: 'store', input: { state: initialStateOf(scope.store) } }) as StoreActorRef<any>;
        this.#attach(scope, store);
        scope.lifecycle?.runStarted(graphJSON);
        return initialContext(runId, input, store);
      },
      on: { [ATTEMPT_EVENT]: { actions: { type: 'recordAttempt', params: undefined } } },
      initial: frame.initial,
      states,
      // Frozen, like Junjo's results; subflows copied, since the context's record is written in
      // place while a run goes on.
      output: ({ context }) =>
        freezeResult({
          runId: context.runId,
          state: context.store.getSnapshot().context,
          executionCounts: { ...context.executionCounts },
          subflows:
            context.subflows === EMPTY_RECORD
              ? {}
              : Object.fromEntries(Object.entries(context.subflows).map(([key, runs]) => [key, [...runs]])),
        }),
    });
    registerMachine(machine, (context, actor, options = {}) =>
      this.#attach(this.#scope(context.runId, context.input, actor, options), context.store),
    );
    return machine;
  }
}

/** What a run machine outputs (the public ExecutionResult, before typing by state). */
export interface RunOutput {
  runId: string;
  state: unknown;
  executionCounts: Record<string, number>;
  subflows: Record<string, unknown[]>;
}
