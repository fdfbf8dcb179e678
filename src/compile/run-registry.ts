/**
 * Where a run's live parts are found from its actors. XState gives actor logic only actor refs
 * and plain context, so a compiled machine registers each run's scope here (by the run's actor,
 * and RunMap items by their fan-out actor), and how to rebuild the scope of a run restored
 * from a persisted snapshot. Also what a run starts with besides its input: its options and id.
 */
import type { AnyActorRef } from 'xstate';
import type { Executable } from '../graph/executable.js';
import type { Redact, WorkflowHooks } from '../hooks.js';
import { executableOf, scopeOfStore, type RunContext, type RunScope } from './run-scope.js';

/** Options of one run that are not its input (see `withRunOptions`). */
export interface RunOptions {
  runId?: string;
  /** Validate the graph before any node runs (default true). */
  validate?: boolean;
  /** Hooks for this run only, in addition to the workflow's. */
  hooks?: WorkflowHooks | readonly WorkflowHooks[];
  /** Hides secrets from the states hooks see; replaces the workflow's `redact`. */
  redact?: Redact;
}

// XState computes a machine's initial context inside `createActor`, so options that are not
// part of the input reach the context factory through this slot, set just around that call.
let pendingRunOptions: RunOptions | undefined;

/** Creates an actor (via `create`) whose run starts with `options`. */
export function withRunOptions<T>(options: RunOptions, create: () => T): T {
  pendingRunOptions = options;
  try {
    return create();
  } finally {
    pendingRunOptions = undefined;
  }
}

/** The options of the run whose context is being made: see `withRunOptions`. */
export function takeRunOptions(): RunOptions {
  const options = pendingRunOptions ?? {};
  pendingRunOptions = undefined;
  return options;
}

/** Rebuilds the scope of a run of one machine from its (restored) context. */
export type RebuildScope = (context: RunContext, actor: AnyActorRef, options?: RunOptions) => RunScope;

// Each compiled machine knows how to rebuild the scope of a restored run of itself.
const rebuilders = new WeakMap<object, RebuildScope>();

export function registerRebuild(machine: object, rebuild: RebuildScope): void {
  rebuilders.set(machine, rebuild);
}

function rebuilderOf(actor: AnyActorRef): RebuildScope {
  const rebuild = rebuilders.get((actor as { logic?: object }).logic ?? {});
  if (!rebuild) throw new Error(`Actor '${actor.id}' does not run a junjo-xstate workflow`);
  return rebuild;
}

// Scopes by run actor, for lookups while that actor is still being constructed (a subflow
// that is the source state is created before its parent has a snapshot to read). Fan-out
// actors are registered too: their items find their run through them.
const scopeByActor = new WeakMap<AnyActorRef, RunScope>();

export function registerRunActor(actor: AnyActorRef, scope: RunScope): void {
  scopeByActor.set(actor, scope);
}

/** The live scope of the run `actor` (a workflow, subflow or fan-out actor) executes. */
export function runScopeOf(actor: AnyActorRef): RunScope {
  const known = scopeByActor.get(actor);
  if (known) return known;
  const context = actor.getSnapshot().context as RunContext;
  return scopeOfStore(context.store) ?? rebuilderOf(actor)(context, actor);
}

/**
 * Prepares a run restored from a persisted snapshot (before it starts), with the options of
 * this resumption: its hooks see it start again.
 */
export function restoreRunScope(actor: AnyActorRef, options: RunOptions): void {
  rebuilderOf(actor)(actor.getSnapshot().context as RunContext, actor, options).lifecycle?.runStarted();
}

// The executables of RunMap items, by item id, per fan-out actor: they are made as each item
// starts, so they are not in the run's graph; node runners and subflows look them up here.
const itemsByFanOut = new WeakMap<AnyActorRef, Map<string, Executable>>();

export function registerFanOutItems(fanOutActor: AnyActorRef, items: Map<string, Executable>): void {
  itemsByFanOut.set(fanOutActor, items);
}

/** The executable `key` names for a child of `parentActor`: a graph entry or a RunMap item. */
export function executableFor(scope: RunScope, parentActor: AnyActorRef, key: string): Executable | undefined {
  return executableOf(scope.graph, key) ?? itemsByFanOut.get(parentActor)?.get(key);
}

let runCounter = 0;
export function newRunId(): string {
  const uuid = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto?.randomUUID;
  // Node builds the UUID as a chain of ~20 concatenated pieces (~0.5 KiB held for as long as
  // the run lives); lower-casing the already lower-case UUID copies it into one flat string.
  return uuid ? uuid.call(globalThis.crypto).toLowerCase() : `run-${Date.now().toString(36)}-${(runCounter++).toString(36)}`;
}
