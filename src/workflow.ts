/**
 * Workflow: a graph factory, a store factory and a name. `workflow.machine` is the compiled
 * XState machine (a run is an actor of it); `execute()` runs it and resolves with the result.
 *
 * ```ts
 * const workflow = new Workflow({ name: 'Sample', graph: () => buildGraph(), store: () => CounterStore.create() });
 * const { state } = await workflow.execute();
 * ```
 */
import { createActor, type AnyActorRef, type AnyEventObject, type InspectionEvent, type Observer, type StateMachine } from 'xstate';
import { compileWorkflow, withRunOptions, type RunOptions, type WorkflowSource } from './compile/compile-graph.js';
import type { RunContext } from './compile/run-scope.js';
import { WorkflowCancelledError } from './errors.js';
import type { Graph } from './graph/graph.js';
import type { Redact, WorkflowHooks } from './hooks.js';
import { WorkflowStream } from './stream.js';
import { checkMaxIterations } from './graph/subflow.js';
import type { AnyStoreHandle } from './store/handle.js';

/** The state type of a store handle. */
export type HandleState<H> = H extends { getState(): infer S } ? S : never;

export interface ExecutionResult<S = unknown> {
  runId: string;
  /** The final committed state. */
  state: S;
  /** How often each node (by key) ran; a subflow counts as one node. */
  executionCounts: Record<string, number>;
  /** Each subflow's own results, one per run of it, by subflow key. */
  subflows: Record<string, ExecutionResult[]>;
}

export interface WorkflowOptions<I, H extends AnyStoreHandle> {
  name: string;
  /** Builds the graph; called once per run, so every run gets fresh nodes. */
  graph: () => Graph;
  /** Builds the run's store from the run's input; called once per run. */
  store: (input: I) => H;
  /** How often one node may run in one run (default 100). */
  maxIterations?: number;
  /** Lifecycle hooks for every run; more can be added with `addHooks`. */
  hooks?: WorkflowHooks;
  /** Hides secrets from the states that hooks (and spans) see. */
  redact?: Redact;
}

export interface ExecuteOptions extends RunOptions {
  /** Aborting it cancels the run: every node in flight is aborted. */
  signal?: AbortSignal;
  /** An XState inspection observer, e.g. from `@statelyai/inspect` or this package's `inspect()`. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

/** Input first, then options; the input may be left out only when the store factory allows it. */
export type RunArgs<I, O> = undefined extends I ? [input?: I, options?: O] : [input: I, options?: O];

/** The compiled machine of a workflow: input `I`, output an ExecutionResult of state `S`. */
export type WorkflowMachine<I, S> = StateMachine<
  RunContext,
  AnyEventObject,
  Record<string, AnyActorRef | undefined>,
  any,
  any,
  any,
  any,
  any,
  any,
  I,
  ExecutionResult<S>,
  any,
  any,
  any
>;

export class Workflow<I = void, H extends AnyStoreHandle = AnyStoreHandle> implements WorkflowSource {
  readonly name: string;
  readonly graph: () => Graph;
  readonly store: (input: I) => H;
  readonly maxIterations: number;
  readonly redact: Redact | undefined;
  readonly #hooks = new Set<WorkflowHooks>();
  #machine: WorkflowMachine<I, HandleState<H>> | undefined;

  constructor(options: WorkflowOptions<I, H>) {
    const { name, graph, store } = options ?? ({} as WorkflowOptions<I, H>);
    if (typeof name !== 'string' || !name) throw new TypeError('Workflow: give it a name, e.g. { name: "Sample" }');
    if (typeof graph !== 'function') {
      throw new TypeError(`Workflow '${name}': graph must be a factory function () => new Graph(...)`);
    }
    if (typeof store !== 'function') {
      throw new TypeError(`Workflow '${name}': store must be a factory function (input) => MyStore.create(...)`);
    }
    this.name = name;
    this.graph = graph;
    this.store = store;
    this.maxIterations = checkMaxIterations(options.maxIterations, `Workflow '${name}'`);
    this.redact = options.redact;
    if (options.hooks) this.#hooks.add(options.hooks);
  }

  /** The hooks every run reports to; a run sees those registered when it starts. */
  get hooks(): Iterable<WorkflowHooks> {
    return this.#hooks;
  }

  /** Registers hooks for every later run; returns the function that unregisters them. */
  addHooks(hooks: WorkflowHooks): () => void {
    this.#hooks.add(hooks);
    return () => {
      this.#hooks.delete(hooks);
    };
  }

  /**
   * The workflow as an XState machine: `createActor(workflow.machine, { input })`, or
   * `invoke` / `spawnChild` it from any machine. Each actor is an isolated run.
   * Compiled on first access (calling the graph factory once to learn the shape).
   */
  get machine(): WorkflowMachine<I, HandleState<H>> {
    return (this.#machine ??= compileWorkflow(this) as unknown as WorkflowMachine<I, HandleState<H>>);
  }

  /** Creates (does not start) an actor for one run. */
  createRun(...[input, options = {}]: RunArgs<I, RunOptions & Pick<ExecuteOptions, 'inspect'>>) {
    const { inspect, ...runOptions } = options;
    return withRunOptions(runOptions, () => createActor(this.machine, { input: input as I, inspect }));
  }

  /**
   * Runs the workflow once as an async iterable of its events, ending with
   * `{ type: 'result', result }` or throwing the run's error; leaving the loop early cancels
   * the run. See src/stream.ts.
   */
  stream(...[input, options = {}]: RunArgs<I, ExecuteOptions>): WorkflowStream<ExecutionResult<HandleState<H>>> {
    const { signal, hooks, ...rest } = options;
    return new WorkflowStream((own, stop) => {
      const runOptions: ExecuteOptions = { ...rest, signal: stop, hooks: [...[hooks ?? []].flat(), own] };
      return this.execute(...([input, runOptions] as RunArgs<I, ExecuteOptions>));
    }, signal);
  }

  /**
   * Runs the workflow once. Resolves with `{ runId, state, executionCounts }`; rejects with a
   * GraphValidationError (before any node ran), a WorkflowExecutionError (with the last
   * committed state) or a WorkflowCancelledError.
   */
  execute(...[input, options = {}]: RunArgs<I, ExecuteOptions>): Promise<ExecutionResult<HandleState<H>>> {
    const { signal, ...rest } = options;
    const actor = this.createRun(...([input, rest] as RunArgs<I, RunOptions>));
    const snapshotOf = () => actor.getSnapshot() as unknown as { status: string; context?: RunContext; output?: unknown };
    const cancelled = (reason: unknown) => {
      const context = snapshotOf().context;
      return new WorkflowCancelledError({
        workflow: this.name,
        runId: context?.runId ?? options.runId ?? '(not started)',
        state: context?.store.getSnapshot().context,
        reason,
      });
    };
    if (signal?.aborted) return Promise.reject(cancelled(signal.reason));

    return new Promise((resolve, reject) => {
      const onAbort = () => actor.stop();
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => signal?.removeEventListener('abort', onAbort);
      actor.subscribe({
        error: (error) => {
          cleanup();
          reject(error);
        },
        // `complete` follows both reaching the end and being stopped; the status tells which.
        complete: () => {
          cleanup();
          const snapshot = snapshotOf();
          if (snapshot.status === 'done') resolve(snapshot.output as ExecutionResult<HandleState<H>>);
          else reject(cancelled(signal?.reason));
        },
      });
      actor.start();
    });
  }
}
