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
import { compileWorkflow, FAILED_STATE, NODE_ACTOR, type WorkflowSource } from './compile/compile-graph.js';
import { RunStart, newRunId, type RunOptions } from './compile/run-options.js';
import { executionKey } from './compile/node-execution.js';
import type { NodeEmitEvent } from './compile/node-emit.js';
import { restoreRunScope } from './compile/run-registry.js';
import type { RunContext } from './compile/run-scope.js';
import { UNFINISHED, type CheckpointOrigin, type CheckpointStore, type CheckpointSummary } from './durable/checkpoint-store.js';
import { countResumedAttempts, decodeCheckpoint, fingerprintOf } from './durable/checkpoint.js';
import { RunCheckpointer, claimRun } from './durable/checkpointer.js';
import { commitsOf, forkSnapshot, historyOf, recordAt, type ForkOptions, type HistoryOptions, type RunCommit } from './durable/fork.js';
import type { LeaseOptions } from './durable/lease.js';
import { CheckpointError, StoreUpdateError, WorkflowCancelledError } from './errors.js';
import { notAStateOf } from './store/define-store.js';
import { definitionOf } from './store/handle.js';
import type { GraphJSON } from './graph/to-json.js';
import type { Graph } from './graph/graph.js';
import type { Redact, WorkflowHooks } from './hooks.js';
import { driveRun, freezeResult } from './run-outcome.js';
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
  /**
   * Builds the graph; called once per run, so every run gets fresh nodes. (issue 13, branch
   * robust) A Graph of this workflow's store: one holding another store's nodes does not type-check.
   */
  graph: () => Graph<NoInfer<H>>;
  /** Builds the run's store from the run's input; called once per run. */
  store: (input: I) => H;
  /** How often one node may run in one run (default 100). */
  maxIterations?: number;
  /** Lifecycle hooks for every run; more can be added with `addHooks`. */
  hooks?: WorkflowHooks;
  /** Hides secrets from the states that hooks (and spans) see. (issue 13, branch robust: typed by the store) */
  redact?: Redact<HandleState<H>>;
}

type Inspect = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

export interface ExecuteOptions extends RunOptions {
  /** Aborting it cancels the run: every node in flight is aborted. */
  signal?: AbortSignal;
  /** An XState inspection observer, e.g. from `@statelyai/inspect` or this package's `inspect()`. */
  inspect?: Inspect;
  /**
   * Makes the run durable: it is checkpointed to this store after every transition and every
   * commit, and `workflow.resume(runId, { checkpoint })` continues it after a crash.
   */
  checkpoint?: CheckpointStore;
  /**
   * With `checkpoint`: keep the checkpoint of a completed run (status `completed`, with its
   * result) — the default — or delete it. Failed and cancelled runs always keep theirs.
   */
  keepCompleted?: boolean;
  /** With `checkpoint` in a store that offers leases: how this process holds the run's lease (docs/durable.md). */
  lease?: LeaseOptions;
}

/** Options of `workflow.resume()`. */
export interface ResumeOptions extends Pick<ExecuteOptions, 'signal' | 'inspect' | 'hooks' | 'redact' | 'keepCompleted' | 'lease'> {
  /** The store the run was checkpointed to. */
  checkpoint: CheckpointStore;
}

/** Input first, then options; the input may be left out only when the store factory allows it. */
export type RunArgs<I, O> = undefined extends I ? [input?: I, options?: O] : [input: I, options?: O];

/** The compiled machine of a workflow: input `I`, output an ExecutionResult of state `S`. */
export type WorkflowMachine<I, S> = StateMachine<
  RunContext<S>,
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
  // Emitted events: every node's `ctx.emit` (issue 16), so `actor.on('junjo.emit', e => …)` types `e`.
  NodeEmitEvent,
  any,
  any
>;

export class Workflow<I = void, H extends AnyStoreHandle = AnyStoreHandle> implements WorkflowSource {
  readonly name: string;
  readonly graph: () => Graph<H>;
  readonly store: (input: I) => H;
  readonly maxIterations: number;
  readonly redact: Redact | undefined;
  readonly #hooks = new Set<WorkflowHooks>();
  #machine: WorkflowMachine<I, HandleState<H>> | undefined;
  #fingerprint: string | undefined;

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
    // Typed by the store for the caller; the runtime hands it every store state (subflows' too).
    this.redact = options.redact as Redact | undefined;
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

  /**
   * A hash of this workflow's name and graph shape (nodes, edges, subflows): checkpoints carry
   * it, and a checkpoint written under another fingerprint is not resumed.
   */
  get fingerprint(): string {
    return (this.#fingerprint ??= fingerprintOf(this.name, this.#graphJSON));
  }

  /** The graph as the compiled machine carries it: what the fingerprint is of, and what stores keep (`putGraph`). */
  get #graphJSON(): GraphJSON {
    return (this.machine.config.meta as { junjo: { graph: GraphJSON } }).junjo.graph;
  }

  /** Creates (does not start) an actor for one run. */
  createRun(...[input, options = NO_OPTIONS]: RunArgs<I, RunOptions & Pick<ExecuteOptions, 'inspect'>>) {
    return this.#createActor(input, options, options.inspect);
  }

  #createActor(input: I | undefined, runOptions: RunOptions, inspect: ExecuteOptions['inspect']) {
    // XState spreads an actor's options over its defaults, and in V8 each such copy with a key
    // of its own gets a hidden class of its own (~0.3 KiB per run): pass options only when needed.
    // The options travel inside the input, which the machine's context factory unwraps.
    const start = runOptions === NO_OPTIONS && input === undefined ? undefined : (new RunStart(input, runOptions) as I);
    const actorOptions = inspect ? { input: start as I, inspect } : start === undefined ? undefined : { input: start };
    return createActor(this.machine, actorOptions);
  }

  /**
   * Runs the workflow once as an async iterable of its events, ending with
   * `{ type: 'result', result }` or throwing the run's error; leaving the loop early cancels
   * the run. See src/stream.ts.
   */
  stream(...[input, options = NO_OPTIONS]: RunArgs<I, ExecuteOptions>): WorkflowStream<ExecutionResult<HandleState<H>>> {
    const { signal, hooks, ...rest } = options;
    return new WorkflowStream((own, stop) => {
      const runOptions: ExecuteOptions = { ...rest, signal: stop, hooks: [...[hooks ?? []].flat(), own] };
      return this.execute(...([input, runOptions] as RunArgs<I, ExecuteOptions>));
    }, signal);
  }

  /**
   * Runs the workflow once. Resolves with `{ runId, state, executionCounts }`; rejects with a
   * GraphValidationError (before any node ran), a WorkflowExecutionError (with the last
   * committed state) or a WorkflowCancelledError. With `checkpoint`, the run is durable (see
   * docs/durable.md) and a CheckpointError rejects it if its checkpoint cannot be written.
   */
  execute(...[input, options = NO_OPTIONS]: RunArgs<I, ExecuteOptions>): Promise<ExecutionResult<HandleState<H>>> {
    // Whatever goes wrong, even compiling the machine, rejects: a caller awaits, never catches twice.
    try {
      return this.#execute(input, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #execute(input: I | undefined, options: ExecuteOptions): Promise<ExecutionResult<HandleState<H>>> {
    // RunOptions are read by name from `options`, so it is passed on without copying.
    if (!options.checkpoint) return driveRun<ExecutionResult<HandleState<H>>>(this.#createActor(input, options, options.inspect), options, this.#cancelled);
    const { signal, checkpoint, keepCompleted, inspect, lease, ...runOptions } = options;
    const create = (o: RunOptions & Pick<ExecuteOptions, 'inspect'>) => this.createRun(...([input, o] as RunArgs<I, RunOptions>));
    const runId = runOptions.runId ?? newRunId();
    const start = async () => {
      const checkpointer = this.#checkpointer(checkpoint, runId, Date.now(), lease);
      await checkpointer.claim();
      const actor = create({ ...runOptions, runId, inspect: both(inspect, checkpointer.inspect) });
      return driveRun<ExecutionResult<HandleState<H>>>(actor, options, this.#cancelled, checkpointer);
    };
    if (runOptions.runId === undefined) return start();
    // A run id given by the caller may already be taken: never overwrite another run.
    return Promise.resolve(checkpoint.get(runId)).then((existing) => {
      if (existing) {
        throw new CheckpointError(
          'finished',
          runId,
          `Run '${runId}' already has a checkpoint (workflow '${existing.workflow}', ${existing.status}): ` +
            `resume it with workflow.resume('${runId}', { checkpoint }), delete it, or start the run under another runId.`,
        );
      }
      return start();
    });
  }

  /**
   * Continues a checkpointed run that was interrupted (its process died, or it was cancelled):
   * nodes that completed do not run again; nodes that were in flight run again, with
   * `ctx.attempt` one higher. Resolves like `execute()`; a completed run resolves with its
   * result at once. Rejects with a CheckpointError when there is no checkpoint of `runId`, it
   * is corrupt, of another workflow or of another version of this graph, or its run failed;
   * the checkpoint is then left as it is.
   */
  async resume(runId: string, options: ResumeOptions): Promise<ExecutionResult<HandleState<H>>> {
    const { checkpoint: store, signal, inspect, hooks, redact, keepCompleted, lease } = options ?? ({} as ResumeOptions);
    if (!store) throw new TypeError(`Workflow '${this.name}': resume(runId, { checkpoint }) needs the store the run was checkpointed to`);
    const record = await store.get(runId);
    if (!record) {
      throw new CheckpointError(
        'missing',
        runId,
        `There is no checkpoint of run '${runId}' in this store: list the runs that can be resumed with workflow.unfinishedRuns(store).`,
      );
    }
    const checkpoint = decodeCheckpoint<HandleState<H>>(record, this.name, this.fingerprint);
    if (record.status === 'failed') {
      throw new CheckpointError(
        'finished',
        runId,
        `Run '${runId}' of workflow '${this.name}' failed (${record.error ?? 'no message'}), and a failed run is not resumed: ` +
          `start a new run, and delete this checkpoint (checkpoint.delete('${runId}')) once you no longer need it. It was left as it is.`,
      );
    }
    // (issue 13, branch robust) Frozen like a live run's result: this one was deserialized.
    if (record.status === 'completed') return freezeResult(checkpoint.snapshot.output as ExecutionResult<HandleState<H>>);

    const checkpointer = this.#checkpointer(store, runId, record.createdAt, lease, record.origin);
    // Owned from here on, and read again: its last owner may have written since the checks above.
    const owned = await claimRun(checkpointer, store, runId, (r) => decodeCheckpoint<HandleState<H>>(r, this.name, this.fingerprint));
    if (owned.status === 'completed') return owned.snapshot.output as ExecutionResult<HandleState<H>>;
    const { snapshot } = owned;
    countResumedAttempts(snapshot, NODE_ACTOR, executionKey);
    const actor = createActor(this.machine, {
      snapshot,
      inspect: both(inspect, checkpointer.inspect),
    } as unknown as { input: I });
    restoreRunScope(actor, { hooks, redact });
    return driveRun<ExecutionResult<HandleState<H>>>(actor, { signal, keepCompleted, runId }, this.#cancelled, checkpointer);
  }

  /**
   * The checkpoints the store keeps of run `runId`, oldest first: each one's number (`seq`, for
   * `fork`), time, status, node statuses, the nodes completed since the one before, and the
   * committed state. Rejects with a CheckpointError when the store holds no such run (or one of
   * another workflow or graph version), a TypeError when the store keeps no history.
   */
  async history(runId: string, options: HistoryOptions): Promise<RunCommit<HandleState<H>>[]> {
    const records = await historyOf(options?.checkpoint, runId, this.name);
    return commitsOf(records, (r) => decodeCheckpoint<HandleState<H>>(r, this.name, this.fingerprint));
  }

  /**
   * Starts a new run from checkpoint `at` of run `runId` (see `history`), with the store state
   * `state` if given: the nodes done by then do not run again, the nodes that were running
   * start over, and the rest runs as usual, checkpointed to the same store with the origin
   * recorded (`summary.origin`). The original run is not changed. Resolves like `execute()`.
   * Rejects with a CheckpointError for an unknown run or `at`, a StoreUpdateError for a
   * `state` the store refuses.
   */
  async fork(runId: string, options: ForkOptions<HandleState<H>> & ResumeOptions): Promise<ExecutionResult<HandleState<H>>> {
    const { checkpoint: store, at, state, signal, inspect, hooks, redact, keepCompleted, lease } = options ?? ({} as ForkOptions<HandleState<H>> & ResumeOptions);
    const record = recordAt(await historyOf(store, runId, this.name), runId, at);
    const checkpoint = decodeCheckpoint<HandleState<H>>(record, this.name, this.fingerprint);
    if (checkpoint.snapshot.status !== 'active') {
      throw new CheckpointError(
        'finished',
        runId,
        `Checkpoint ${at} of run '${runId}' is the run's end (${record.status}): nothing is left to run from it. Fork from an earlier checkpoint.`,
      );
    }
    if (state !== undefined) {
      const definition = definitionOf(this.store((checkpoint.snapshot.context as { input?: unknown }).input as I));
      const problem = notAStateOf(definition, state);
      if (problem) {
        throw new StoreUpdateError(definition.name, '(fork state)', [
          `the state given to fork('${runId}', { at: ${at} }) is not a state of this store: ${problem}`,
          'give a state of the same shape as history()[…].state',
        ]);
      }
    }
    const newId = options.runId ?? newRunId();
    const existing = await store.get(newId);
    if (existing) {
      throw new CheckpointError('finished', newId, `Run '${newId}' already has a checkpoint (workflow '${existing.workflow}', ${existing.status}): fork under another runId.`);
    }
    const snapshot = forkSnapshot(checkpoint.snapshot, newId, state === undefined ? undefined : { value: state });
    const checkpointer = this.#checkpointer(store, newId, Date.now(), lease, { runId, seq: record.seq });
    await checkpointer.claim();
    const actor = createActor(this.machine, { snapshot, inspect: both(inspect, checkpointer.inspect) } as unknown as { input: I });
    restoreRunScope(actor, { hooks, redact });
    return driveRun<ExecutionResult<HandleState<H>>>(actor, { signal, keepCompleted, runId: newId }, this.#cancelled, checkpointer);
  }

  /** Summaries of this workflow's runs in `store` that `resume` can continue, oldest first. */
  async unfinishedRuns(store: CheckpointStore): Promise<CheckpointSummary[]> {
    return store.list({ workflow: this.name, status: UNFINISHED });
  }

  #checkpointer(store: CheckpointStore, runId: string, createdAt: number, lease?: LeaseOptions, origin?: CheckpointOrigin): RunCheckpointer {
    return new RunCheckpointer({
      store,
      runId,
      lease,
      origin,
      workflow: this.name,
      fingerprint: this.fingerprint,
      graph: () => JSON.stringify(this.#graphJSON),
      createdAt,
      skip: (snapshot) => snapshot.value === FAILED_STATE,
    });
  }

  /** The error a run that was stopped, or whose signal aborted, rejects with. */
  readonly #cancelled = (actor: AnyActorRef, runId: string | undefined, reason: unknown): WorkflowCancelledError => {
    const context = (actor.getSnapshot() as { context?: RunContext }).context;
    return new WorkflowCancelledError({
      workflow: this.name,
      runId: context?.runId ?? runId ?? '(not started)',
      state: context?.store.getSnapshot().context,
      reason,
    });
  };
}

/** Options are only read, so calls without any share one empty object instead of holding their own. */
const NO_OPTIONS: ExecuteOptions = Object.freeze({});

/** One inspection observer that feeds both. */
function both(a: Inspect | undefined, b: (event: InspectionEvent) => void): (event: InspectionEvent) => void {
  if (!a) return b;
  return (event) => {
    b(event);
    if (typeof a === 'function') a(event);
    else a.next?.(event);
  };
}
