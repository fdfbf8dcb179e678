/**
 * Lifecycle hooks: every workflow, subflow, node and RunConcurrent reports started /
 * completed / failed / cancelled, and every store commit reports `stateChanged`. Hooks are
 * plain callbacks; streaming and OpenTelemetry are built on them.
 *
 * Every event carries the run's id (different on every run) and a structural `id` (the same
 * on every run of the same graph shape: the workflow's name, then keys, joined by '/'), and
 * its parent's structural id. Ends are well nested: an execution ends after everything that
 * started inside it (see src/compile/run-lifecycle.ts). docs/hooks-stream-otel.md has the
 * full list of fields and guarantees.
 */
import type { GraphJSON } from './graph/to-json.js';
import { describe } from './describe.js';
import type { Patch } from 'immer';

export type ExecutableLifecycleKind = 'workflow' | 'subflow' | 'node' | 'runConcurrent';
export type LifecycleStatus = 'started' | 'completed' | 'failed' | 'cancelled';

/** Which execution an event is about: the fields every lifecycle and retry event carries. */
export interface ExecutionIdentity {
  /** The top-level run's id. */
  runId: string;
  /** The executable's display name. */
  name: string;
  /** Structural id, stable across runs: e.g. `Sample/Initial Analysis/CountActivities`. */
  id: string;
  parentId: string | null;
  /** Runtime id of this execution, unique across runs: e.g. `<runId>/CountActivities#1`. */
  executionId: string;
  parentExecutionId: string | null;
  timestamp: number;
}

export interface LifecycleEvent extends ExecutionIdentity {
  type: `${ExecutableLifecycleKind}${Capitalize<LifecycleStatus>}`;
  kind: ExecutableLifecycleKind;
  status: LifecycleStatus;
  /** `failed` only. */
  error?: unknown;
  /** Workflow and subflow events: the store state at that point (after `redact`). */
  state?: unknown;
  /** Workflow and subflow started events: the graph as JSON (one object shared by every run of it). */
  graph?: GraphJSON;
  /** Node events: which attempt of this execution (1 unless it was retried or resumed). */
  attempt?: number;
  /**
   * Node completed / failed events: what the service set with `ctx.setAttributes` (e.g. the
   * OpenInference `llm.model_name`, `llm.token_count.prompt`); spans get them as attributes.
   */
  attributes?: NodeAttributes;
  /**
   * A model request or tool call of an agent node (`model#1`, `tool#2`): a node event whose
   * parent is the agent node's execution (issue 16, the agent kind).
   */
  step?: string;
}

/** Attribute values a node may report (those OpenTelemetry accepts). */
export type NodeAttributes = Record<string, string | number | boolean>;

/**
 * A value a running node sent out with `ctx.emit(data)` (a token, a progress note). It belongs
 * to the node execution `executionId` — the same id as its nodeStarted event — and comes after
 * that event and before the execution's end. It is not state: never in a checkpoint, never in
 * a store. (Added for issue 16: ctx.emit.)
 */
export interface NodeEmittedEvent extends ExecutionIdentity {
  type: 'nodeEmitted';
  kind: 'node';
  status: 'emitted';
  // name, id, executionId, parentId, parentExecutionId: the node execution's own, as on its
  // nodeStarted event. (On the run actor's `junjo.emit` events of a run without any hooks the
  // parent fields are null: without hooks nothing tracks RunConcurrent groups.)
  /** The node's key in its graph. */
  node: string;
  iteration: number;
  attempt: number;
  /** 1 for the execution's first emitted value, then 2, 3 … (counted per attempt). */
  seq: number;
  data: unknown;
  /** Agent nodes: the model request or tool call that sent it (`model#2`, `tool#3`). */
  step?: string;
  timestamp: number;
}

/** An attempt of a node failed (or timed out) and the node will be tried again. */
export interface NodeRetryingEvent extends ExecutionIdentity {
  type: 'nodeRetrying';
  kind: 'node';
  status: 'retrying';
  /** The attempt that failed; attempt `attempt + 1` starts after `delayMs`. */
  attempt: number;
  error: unknown;
  delayMs: number;
}

export interface StateChangedEvent {
  type: 'stateChanged';
  runId: string;
  /** Structural id of the workflow or subflow whose store committed. */
  id: string;
  executionId: string;
  /** The commit's action (`setState` for shallow merges). */
  action: string;
  /** Key of the node that sent the update, and its structural id; null when sent from outside. */
  node: string | null;
  nodeId: string | null;
  seq: number;
  patches: Patch[];
  /** The new state (after `redact`). */
  state: unknown;
  timestamp: number;
}

export type WorkflowEvent = LifecycleEvent | StateChangedEvent | NodeRetryingEvent | NodeEmittedEvent;

type LifecycleHookName = LifecycleEvent['type'];

/** Callbacks for lifecycle events; `onEvent` receives every event. */
export type WorkflowHooks = { [K in LifecycleHookName]?: (event: LifecycleEvent) => void } & {
  stateChanged?: (event: StateChangedEvent) => void;
  nodeRetrying?: (event: NodeRetryingEvent) => void;
  /** Every `ctx.emit(data)` of a running node (issue 16). */
  nodeEmitted?: (event: NodeEmittedEvent) => void;
  onEvent?: (event: WorkflowEvent) => void;
};

/**
 * Hides secrets from hooks and spans: receives each state before it is reported. `S` is the
 * run's own state; a subflow's events bring that subflow's store state, so any store state
 * (an object) may come too — `(state) => ({ ...state, apiKey: '[redacted]' })` type-checks.
 */
export type Redact<S = StoreState> = (state: S | StoreState) => unknown;

/** Any store's state, as far as hooks know: an object. */
export type StoreState = Readonly<Record<string, unknown>>;

/** What hooks get for a state when `redact` threw on it. */
export const REDACT_FAILED = '[hidden: redact threw]';

/** Calls every registered hook for an event; a hook that throws is reported, never rethrown. */
export class HookDispatcher {
  constructor(
    private readonly hooks: readonly WorkflowHooks[],
    readonly redact: Redact | undefined,
  ) {}

  emit(event: WorkflowEvent): void {
    for (const hooks of this.hooks) {
      call(hooks, event.type, hooks[event.type] as ((e: WorkflowEvent) => void) | undefined, event);
      call(hooks, 'onEvent', hooks.onEvent, event);
    }
  }

  #redactFailed = false;

  state(state: unknown): unknown {
    if (!this.redact) return state;
    try {
      // Every store state is an object (defineStore and the store actor see to it).
      return this.redact(state as StoreState);
    } catch (err) {
      // Like a hook that throws, a throwing redact must not change the run; and the state it
      // failed to redact must not be shown unredacted, so hooks get a placeholder instead.
      if (!this.#redactFailed) {
        this.#redactFailed = true;
        console.error(`[junjo-xstate] redact threw; hooks, streams and spans get '${REDACT_FAILED}' instead of the state: ${describe(err)}`);
      }
      return REDACT_FAILED;
    }
  }

  patches(patches: Patch[], redactedState: unknown): Patch[] {
    return this.redact ? redactPatches(patches, redactedState) : patches;
  }
}

/**
 * Patches whose values are read from the redacted state they led to, so a secret cannot
 * leak through a patch that the redacted state hides.
 */
export function redactPatches(patches: readonly Patch[], redactedState: unknown): Patch[] {
  return patches.map((patch) => (patch.op === 'remove' ? patch : { ...patch, value: valueAt(redactedState, patch.path) }));
}

function call(hooks: WorkflowHooks, name: string, fn: ((e: WorkflowEvent) => void) | undefined, event: WorkflowEvent) {
  if (!fn) return;
  try {
    fn.call(hooks, event);
  } catch (err) {
    // Reporting must not throw in turn (console.error inspects `err`, which may be hostile).
    try {
      console.error(`[junjo-xstate] the '${name}' hook threw on ${event.type} of '${event.id}'; the run goes on:`, err);
    } catch {
      console.error(`[junjo-xstate] the '${name}' hook threw on ${event.type} of '${event.id}'; the run goes on: ${describe(err)}`);
    }
  }
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}
