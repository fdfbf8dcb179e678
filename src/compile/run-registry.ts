/**
 * The one way to find a run's live scope from an actor. XState gives actor logic only actor
 * refs and plain context, so each run binds its scope to its actors here (the run actor, its
 * store actor, its fan-out actors); `scopeOf` answers for any actor at or below a run actor.
 *
 * A run restored from a persisted snapshot has actors but no scope yet: its machine, which
 * registered here how to rebuild a scope from context, rebuilds it on first need.
 */
import type { AnyActorRef } from 'xstate';
import type { RunOptions } from './run-options.js';
import type { RunContext, RunScope } from './run-scope.js';

/** Rebuilds the scope of a run of one machine from its (restored) context, and binds it. */
export type RebuildScope = (context: RunContext, actor: AnyActorRef, options?: RunOptions) => RunScope;

const scopes = new WeakMap<AnyActorRef, RunScope>();
const rebuilders = new WeakMap<object, RebuildScope>();

/** Makes `scope` the scope of each of `actors`. */
export function bindScope(scope: RunScope, ...actors: AnyActorRef[]): void {
  for (const actor of actors) scopes.set(actor, scope);
}

/** Registers how runs of `machine` rebuild their scope when restored. */
export function registerMachine(machine: object, rebuild: RebuildScope): void {
  rebuilders.set(machine, rebuild);
}

function rebuilderOf(actor: AnyActorRef): RebuildScope | undefined {
  const logic = (actor as { logic?: object }).logic;
  return logic && rebuilders.get(logic);
}

/** The live scope of the run `actor` belongs to (a run, store, fan-out or node actor). */
export function scopeOf(actor: AnyActorRef): RunScope {
  for (let ref: AnyActorRef | undefined = actor; ref; ref = ref._parent) {
    const known = scopes.get(ref);
    if (known) return known;
    const rebuild = rebuilderOf(ref);
    if (rebuild) return rebuild(ref.getSnapshot().context as RunContext, ref);
  }
  throw new Error(`Actor '${actor.id}' does not belong to a junjo-xstate run`);
}

/**
 * Prepares a run restored from a persisted snapshot (before it starts), with the options of
 * this resumption: its hooks see it start again.
 */
export function restoreRunScope(actor: AnyActorRef, options: RunOptions): void {
  const rebuild = rebuilderOf(actor);
  if (!rebuild) throw new Error(`Actor '${actor.id}' does not run a junjo-xstate workflow`);
  rebuild(actor.getSnapshot().context as RunContext, actor, options).lifecycle?.runStarted();
}
