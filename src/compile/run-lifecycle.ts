/**
 * Turns what happens in one run (or subflow run) into lifecycle events for its hooks. Only
 * created when the run has hooks, so a run without hooks pays nothing for them.
 *
 * Ending is idempotent: the first status reported for an execution wins, so a node aborted by
 * a failing sibling stays `cancelled` even if its service settles later.
 */
import type { Commit } from '../../actors/store.js';
import type { Graph } from '../graph/graph.js';
import type { GraphJSON } from '../graph/to-json.js';
import type {
  ExecutableLifecycleKind,
  ExecutionIdentity,
  HookDispatcher,
  LifecycleEvent,
  LifecycleStatus,
  NodeAttributes,
  NodeEmittedEvent,
} from '../hooks.js';

interface Execution {
  kind: ExecutableLifecycleKind;
  name: string;
  id: string;
  parentId: string | null;
  executionId: string;
  parentExecutionId: string | null;
  ended: boolean;
  /** Nodes only. */
  attempt?: number;
  /** Nodes only: set by `ctx.setAttributes`, reported on the end event (issue 16). */
  attributes?: NodeAttributes;
  /** Agent nodes only: their open model requests and tool calls, ended before them. */
  steps?: Set<Execution>;
  /** Agent steps only: which one (`model#1`). */
  step?: string;
}

type EndStatus = Exclude<LifecycleStatus, 'started'>;

export interface NodeLifecycle {
  completed(): void;
  failed(error: unknown): void;
  /** A `ctx.emit` value (issue 16): dispatched unless the execution already ended; says which. */
  emitted(event: NodeEmittedEvent): boolean;
  setAttributes(attributes: NodeAttributes): void;
}

/**
 * Ends are well nested: an execution ends only after everything inside it has ended, so a
 * consumer (a stream, a span tree) can close what it opened in order. When a run fails or is
 * stopped, what is still running inside it is reported cancelled at once, before the actors
 * are stopped in the same step.
 */
export class RunLifecycle {
  readonly run: Execution;
  /** Open RunConcurrent executions by key, outer groups before the groups inside them. */
  readonly #groups = new Map<string, Execution>();
  /** Open nodes and child subflow runs, in start order. */
  readonly #open = new Set<Execution | RunLifecycle>();
  readonly #parentOf: Map<string, string>;
  readonly #names: Map<string, string>;
  readonly #groupIterations = new Map<string, number>();
  /** Open agent node executions by execution id: opened by their first step (issue 16). */
  readonly #agents = new Map<string, Execution>();
  #failure: { error: unknown } | undefined;

  constructor(
    readonly dispatcher: HookDispatcher,
    readonly rootRunId: string,
    run: Omit<Execution, 'ended'>,
    graph: Graph,
    readonly readState: () => unknown,
    /** The run this one is a subflow of. */
    readonly parent?: RunLifecycle,
  ) {
    this.run = { ...run, ended: false };
    this.#parentOf = new Map(graph.entries.filter((e) => e.parent !== undefined).map((e) => [e.key, e.parent!]));
    this.#names = new Map(graph.entries.map((e) => [e.key, e.executable.name]));
  }

  structuralId(key: string): string {
    return `${this.run.id}/${key}`;
  }

  /** `graph`: the run's graph as JSON, for hooks that ship it elsewhere (otel.ts). */
  runStarted(graph?: GraphJSON): void {
    this.#emit(this.run, 'started', { state: this.dispatcher.state(this.readState()), ...(graph ? { graph } : {}) });
  }

  /** The lifecycle of one run of the subflow `key` inside this run. */
  subflow(key: string, name: string, iteration: number, graph: Graph, readState: () => unknown): RunLifecycle {
    const child = new RunLifecycle(
      this.dispatcher,
      this.rootRunId,
      this.describe('subflow', key, name, iteration),
      graph,
      readState,
      this,
    );
    this.#open.add(child);
    return child;
  }

  /**
   * The run is failing at `path` (this run's keys, outermost first): what still runs is
   * cancelled, then the RunConcurrents the failure happened in fail, innermost first. The run
   * itself fails when its store has stopped.
   */
  failing(path: readonly string[], error: unknown): void {
    this.#failure = { error };
    this.#cancelOpen();
    const failed = new Set(path);
    for (const [key, group] of [...this.#groups].reverse()) {
      this.#end(group, failed.has(key) ? 'failed' : 'cancelled', { error });
    }
    this.#groups.clear();
  }

  /** The run's store stopped: the run ended, as failed if it was failing, else cancelled. */
  storeStopped(): void {
    if (this.#failure) this.runEnded('failed', this.#failure.error);
    else this.runEnded('cancelled');
  }

  /** Ends the run; whatever is still open inside it is cancelled first. */
  runEnded(status: EndStatus, error?: unknown): void {
    if (this.run.ended) return;
    this.#cancelOpen();
    for (const group of [...this.#groups.values()].reverse()) this.#end(group, 'cancelled');
    this.#groups.clear();
    this.#end(this.run, status, { error, state: this.dispatcher.state(this.readState()) });
    if (this.parent) this.parent.#open.delete(this);
  }

  #cancelOpen(): void {
    for (const open of this.#open) {
      if (open instanceof RunLifecycle) open.runEnded('cancelled');
      else this.#end(open, 'cancelled');
    }
    this.#open.clear();
  }

  /**
   * Idempotent while the group is open: XState runs a state's entry actions after its
   * children's invocations on a machine's first step, so an item may open its group first.
   */
  groupStarted(key: string): Execution {
    const open = this.#groups.get(key);
    if (open) return open;
    const iteration = (this.#groupIterations.get(key) ?? 0) + 1;
    this.#groupIterations.set(key, iteration);
    const group = this.describe('runConcurrent', key, this.#names.get(key) ?? key, iteration);
    this.#groups.set(key, group);
    this.#emit(group, 'started');
    return group;
  }

  groupCompleted(key: string): void {
    const group = this.#groups.get(key);
    if (!group) return;
    this.#groups.delete(key);
    this.#end(group, 'completed');
  }

  nodeStarted(key: string, name: string, iteration: number, signal: AbortSignal, attempt = 1): NodeLifecycle {
    // An agent node's service runs last, in the execution its steps opened.
    const described = this.describe('node', key, name, iteration);
    const node = this.#agents.get(described.executionId) ?? this.#opened({ ...described, attempt });
    const onAbort = () => this.#end(node, 'cancelled');
    signal.addEventListener('abort', onAbort, { once: true });
    return {
      completed: () => {
        signal.removeEventListener('abort', onAbort);
        this.#end(node, 'completed');
      },
      failed: (error) => {
        signal.removeEventListener('abort', onAbort);
        this.#end(node, signal.aborted ? 'cancelled' : 'failed', { error });
      },
      emitted: (event) => this.#emitted(node, event),
      setAttributes: (attributes) => {
        if (!node.ended) node.attributes = { ...node.attributes, ...attributes };
      },
    };
  }

  #opened(node: Execution): Execution {
    this.#open.add(node);
    this.#emit(node, 'started');
    return node;
  }

  #emitted(node: Execution, event: NodeEmittedEvent): boolean {
    if (node.ended) return false;
    event.parentId = node.parentId;
    event.parentExecutionId = node.parentExecutionId;
    this.dispatcher.emit(event);
    return true;
  }

  /**
   * One model request or tool call (`step`, e.g. `model#2`) of the agent node `key` (issue 16):
   * a node execution inside the agent node's, which the first step opens and the node's service
   * (its last part) ends. A step's last failed attempt fails the agent node too; its emitted
 * values are the node's.
   */
  agentStep(key: string, name: string, iteration: number, step: string, label: string, signal: AbortSignal, attempt = 1, last = true): NodeLifecycle {
    const described = this.describe('node', key, name, iteration);
    let agent = this.#agents.get(described.executionId);
    if (!agent) this.#agents.set(described.executionId, (agent = this.#opened({ ...described, attempt: 1 })));
    const execution: Execution = {
      kind: 'node',
      name: label,
      id: `${agent.id}/${step}`,
      parentId: agent.id,
      executionId: `${agent.executionId}/${step}`,
      parentExecutionId: agent.executionId,
      ended: false,
      attempt,
      step,
    };
    (agent.steps ??= new Set()).add(execution);
    this.#emit(execution, 'started');
    return {
      completed: () => this.#end(execution, 'completed'),
      failed: (error) => {
        // Stopped with its run: cancelled; the run ends the agent node.
        if (signal.aborted) return this.#end(execution, 'cancelled');
        this.#end(execution, 'failed', { error });
        // Another attempt of the step follows (the node's retry policy): the node goes on.
        if (last) this.#end(agent, 'failed', { error });
      },
      emitted: (event) => !execution.ended && this.#emitted(agent, event),
      setAttributes: (attributes) => {
        if (!execution.ended) execution.attributes = { ...execution.attributes, ...attributes };
      },
    };
  }

  nodeRetrying(key: string, name: string, iteration: number, attempt: number, error: unknown, delayMs: number): void {
    const identity = this.#identity(this.describe('node', key, name, iteration));
    this.dispatcher.emit({ type: 'nodeRetrying', kind: 'node', status: 'retrying', ...identity, attempt, error, delayMs });
  }

  committed(commit: Commit, state: unknown): void {
    const redacted = this.dispatcher.state(state);
    this.dispatcher.emit({
      type: 'stateChanged',
      runId: this.rootRunId,
      id: this.run.id,
      executionId: this.run.executionId,
      action: commit.action,
      node: commit.node,
      // A subflow's pre/post-run actions are not vertices of its graph: no structural id.
      nodeId: commit.node !== null && this.#names.has(commit.node) ? this.structuralId(commit.node) : null,
      seq: commit.seq,
      patches: this.dispatcher.patches(commit.patches, redacted),
      state: redacted,
      timestamp: Date.now(),
    });
  }

  /** Makes `key` (a RunMap item, which the graph does not list) an item of the group `groupKey`. */
  adopt(key: string, groupKey: string): void {
    this.#parentOf.set(key, groupKey);
  }

  /** Describes an execution of `key` in this run (used for nodes, groups and child subflows). */
  describe(kind: ExecutableLifecycleKind, key: string, name: string, iteration: number): Execution {
    const parentKey = this.#parentOf.get(key);
    const parentGroup = parentKey === undefined ? undefined : this.groupStarted(parentKey);
    return {
      kind,
      name,
      id: this.structuralId(key),
      parentId: parentKey === undefined ? this.run.id : this.structuralId(parentKey),
      executionId: `${this.run.executionId}/${key}#${iteration}`,
      parentExecutionId: parentGroup?.executionId ?? this.run.executionId,
      ended: false,
    };
  }

  #end(execution: Execution, status: EndStatus, extra: { error?: unknown; state?: unknown } = {}) {
    if (execution.ended) return;
    if (execution.steps) {
      for (const step of execution.steps) this.#end(step, 'cancelled');
      this.#agents.delete(execution.executionId);
    }
    execution.ended = true;
    this.#open.delete(execution);
    this.#emit(execution, status, status === 'failed' ? extra : { state: extra.state });
  }

  #identity(execution: Execution): ExecutionIdentity {
    return {
      runId: this.rootRunId,
      name: execution.name,
      id: execution.id,
      parentId: execution.parentId,
      executionId: execution.executionId,
      parentExecutionId: execution.parentExecutionId,
      timestamp: Date.now(),
    };
  }

  #emit(execution: Execution, status: LifecycleStatus, extra: { error?: unknown; state?: unknown; graph?: GraphJSON } = {}) {
    const event: LifecycleEvent = {
      type: `${execution.kind}${(status[0]!.toUpperCase() + status.slice(1)) as Capitalize<LifecycleStatus>}`,
      kind: execution.kind,
      status,
      ...this.#identity(execution),
    };
    if (extra.error !== undefined) event.error = extra.error;
    if (extra.state !== undefined) event.state = extra.state;
    if (extra.graph !== undefined) event.graph = extra.graph;
    if (execution.attempt !== undefined) event.attempt = execution.attempt;
    if (execution.attributes !== undefined && status !== 'started') event.attributes = execution.attributes;
    if (execution.step !== undefined) event.step = execution.step;
    this.dispatcher.emit(event);
  }
}
