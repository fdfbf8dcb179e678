/**
 * The store actor: one per run (and one per subflow run). It owns the run's state and applies
 * update events one at a time, so every reducer sees the latest committed state and
 * concurrent nodes never lose an update. Each event is named after its action, so an
 * inspector shows every commit as an event on this actor.
 *
 * Each commit is produced by immer (the state stays frozen and structurally shared), checked
 * against the store's Standard Schema if it has one, and recorded with its action, the node
 * it came from and its immer patches in `snapshot.commit`.
 *
 * Updates sent by a node execution carry their position in it (1st, 2nd … update), and the
 * snapshot records the last committed position per execution: when an execution runs again
 * (a retry, or after its run was restored from a checkpoint), its updates up to that position
 * are acknowledged without being applied twice.
 *
 * @example
 * ```ts
 * const ref = createActor(storeLogic(() => CounterStore), { input: { state: CounterStore.initial } }).start();
 * const state = await requestUpdate(ref, { type: 'increment', args: [] });
 * ```
 */
import { enablePatches, freeze, produceWithPatches, type Patch } from 'immer';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { ActorLogic, ActorRefFrom, ActorScope, ActorSystem, AnyActorRef, EventObject, Snapshot } from 'xstate';
import { EMPTY_RECORD, writable } from '../src/empty-record.js';
import { describe, kindOf } from '../src/describe.js';
import { StoreUpdateError } from '../src/errors.js';
import type { AnyStoreDefinition } from '../src/store/define-store.js';

enablePatches();

/** The built-in action every store has: shallow-merges its argument into the state. */
export const SET_STATE = 'setState';

/** One committed update. */
export interface Commit {
  /** 1 for the store's first commit, then 2, 3 … */
  seq: number;
  action: string;
  /** The node whose service sent the update, if any. */
  node: string | null;
  patches: Patch[];
}

export type StoreSnapshot<S = unknown> = Snapshot<undefined> & {
  /** The committed state (frozen). */
  context: S;
  /** The latest commit, or null before the first one. */
  commit: Commit | null;
  /** Per node execution (`node#iteration`): the position of its last committed update. */
  applied: Record<string, number>;
};

/** An update request: `type` is the action's name, `args` its arguments after the draft. */
export interface StoreEvent extends EventObject {
  type: string;
  args?: readonly unknown[];
  node?: string;
  /** The node execution that sent it (`node#iteration`), and which of its updates it is. */
  execution?: string;
  position?: number;
  /** Set by `requestUpdate`; links the event to the promise waiting for its outcome. */
  requestId?: number;
}

export interface StoreInput<S = unknown> {
  state: S;
}

export type StoreLogic<S = unknown> = ActorLogic<StoreSnapshot<S>, StoreEvent, StoreInput<S>>;
export type StoreActorRef<S = unknown> = ActorRefFrom<StoreLogic<S>>;

export interface Reply {
  resolve(state: unknown): void;
  reject(error: unknown): void;
}

// Promises waiting for a commit, per store actor. Kept out of the events so they stay plain
// data an inspector can show and a snapshot can persist.
const pendingReplies = new WeakMap<AnyActorRef, Map<number, Reply>>();
let nextRequestId = 1;

/**
 * Sends an update to a store actor; resolves with the committed state once the store applied
 * it, or rejects with a StoreUpdateError (the state unchanged). The event is sent as it is
 * (with its `requestId` set), not copied: pass a fresh one.
 */
export function requestUpdate<S>(ref: StoreActorRef<S>, event: StoreEvent, storeName = ref.id): Promise<S> {
  return new Promise<S>((resolve, reject) => sendUpdate(ref, event, storeName, { resolve: resolve as Reply['resolve'], reject }));
}

/**
 * `requestUpdate` with the reply given rather than a promise made: a node's tracked update
 * (src/store/handle.ts) settles its own promise from here, so each update makes one promise.
 */
export function sendUpdate(ref: AnyActorRef, event: StoreEvent, storeName: string, reply: Reply): void {
  const status = ref.getSnapshot().status;
  if (status !== 'active') {
    reply.reject(
      new StoreUpdateError(storeName, event.type, [
        `the store is ${status}: its run has ended, so no update can be applied`,
      ], event.node),
    );
    return;
  }
  let replies = pendingReplies.get(ref);
  if (!replies) pendingReplies.set(ref, (replies = new Map()));
  const requestId = nextRequestId++;
  replies.set(requestId, reply);
  event.requestId = requestId;
  ref.send(event);
}

function takeReply(self: AnyActorRef, requestId: number | undefined): Reply | undefined {
  if (requestId === undefined) return undefined;
  const replies = pendingReplies.get(self);
  const reply = replies?.get(requestId);
  replies?.delete(requestId);
  return reply;
}

/**
 * Creates the store actor logic. The definition is resolved on first use rather than passed
 * in, because a compiled workflow must name its store logic before any run has called the
 * store factory that yields the definition (see src/compile).
 */
export function storeLogic<S>(resolveDefinition: () => AnyStoreDefinition): StoreLogic<S> {
  return {
    config: resolveDefinition,
    getInitialSnapshot: (_scope, input) => ({
      status: 'active',
      output: undefined,
      error: undefined,
      context: input.state,
      commit: null,
      applied: EMPTY_RECORD,
    }),
    transition(snapshot, event, scope) {
      if (event.type === 'xstate.stop') {
        rejectAll(scope.self, resolveDefinition().name);
        return { ...snapshot, status: 'stopped', error: undefined, output: undefined };
      }
      if (snapshot.status !== 'active' || event.type.startsWith('xstate.')) return snapshot;
      return applyUpdate(resolveDefinition(), snapshot, event, scope);
    },
    getPersistedSnapshot: (snapshot) => snapshot,
    // A restored state was deserialized, so it is not frozen as immer's commits are: freeze it,
    // or getState() after a resume would hand out a state a node could change in place.
    restoreSnapshot: (persisted) => ({
      ...(persisted as StoreSnapshot<S>),
      context: freeze((persisted as StoreSnapshot<S>).context, true),
      applied: (persisted as StoreSnapshot<S>).applied ?? EMPTY_RECORD,
    }),
  };
}

function applyUpdate<S>(
  definition: AnyStoreDefinition,
  snapshot: StoreSnapshot<S>,
  event: StoreEvent,
  scope: ActorScope<StoreSnapshot<S>, StoreEvent, ActorSystem<any>>,
): StoreSnapshot<S> {
  const reply = takeReply(scope.self, event.requestId);
  const node = event.node ?? null;

  const { execution, position } = event;
  if (execution !== undefined && position !== undefined && (snapshot.applied[execution] ?? 0) >= position) {
    // Committed by an earlier attempt of the same execution.
    if (reply) scope.defer(() => reply.resolve(snapshot.context));
    return snapshot;
  }

  const args = event.args ?? [];
  let next: S;
  let patches: Patch[];
  try {
    if (event.type === SET_STATE) {
      const partial = args[0];
      if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) {
        return rejectUpdate(definition.name, event, reply, scope, [`setState expects an object of fields to merge, got ${kindOf(partial)}`], undefined, snapshot);
      }
      [next, patches] = produceWithPatches(snapshot.context, (draft: any) => {
        for (const key of Object.keys(partial)) draft[key] = (partial as any)[key];
      });
    } else {
      const reducer = Object.hasOwn(definition.actions, event.type)
        ? definition.actions[event.type]
        : undefined;
      if (!reducer) {
        const known = [SET_STATE, ...Object.keys(definition.actions)].join(', ');
        return rejectUpdate(definition.name, event, reply, scope, [`it has no action named '${event.type}' (its actions: ${known})`], undefined, snapshot);
      }
      let refused: string | undefined;
      [next, patches] = produceWithPatches(snapshot.context, (draft: any) => {
        const returned = reducer(draft, ...args);
        // Immer takes any returned value (but undefined) as the whole next state: a number, or
        // an object with fields missing, would silently replace or drop the state.
        if (returned !== undefined) refused = checkReturned(returned, snapshot.context);
        return refused === undefined ? returned : undefined;
      }) as [S, Patch[], Patch[]];
      if (refused !== undefined) {
        return rejectUpdate(definition.name, event, reply, scope, [
          `its reducer returned ${refused}; a reducer must mutate the draft or return the whole state (an object with every top-level field)`,
        ], undefined, snapshot);
      }
    }
  } catch (err) {
    return rejectUpdate(definition.name, event, reply, scope, [`its reducer threw: ${describe(err)}`], err, snapshot);
  }

  if (patches.length === 0) {
    // Nothing changed, so nothing is committed.
    if (reply) scope.defer(() => reply.resolve(snapshot.context));
    return snapshot;
  }

  if (definition.schema) {
    const problem = checkSchema(definition.schema, next);
    if (problem) return rejectUpdate(definition.name, event, reply, scope, problem.reasons, problem.cause, snapshot);
  }

  const commit: Commit = { seq: (snapshot.commit?.seq ?? 0) + 1, action: event.type, node, patches };
  // In place, not copied (once the run's first write has replaced the shared empty record):
  // copying a record of every execution on every commit would make long runs quadratic. Each
  // snapshot is persisted (serialised) before the next update is applied.
  let { applied } = snapshot;
  if (execution !== undefined && position !== undefined) (applied = writable(applied))[execution] = position;
  if (reply) scope.defer(() => reply.resolve(next));
  return { status: 'active', output: undefined, error: undefined, context: next, commit, applied };
}

function rejectUpdate<T>(
  storeName: string,
  event: StoreEvent,
  reply: Reply | undefined,
  scope: { defer(fn: () => void): void },
  reasons: string[],
  cause: unknown,
  unchanged: T,
): T {
  const error = new StoreUpdateError(storeName, event.type, reasons, event.node, cause);
  scope.defer(reply ? () => reply.reject(error) : () => reportUnawaited(error));
  return unchanged;
}

function rejectAll(self: AnyActorRef, storeName: string): void {
  const replies = pendingReplies.get(self);
  if (!replies) return;
  pendingReplies.delete(self);
  for (const reply of replies.values()) {
    reply.reject(new StoreUpdateError(storeName, '(pending)', ['the store was stopped before the update was applied']));
  }
}

// An update sent with `ref.send` rather than a store handle has no promise to reject; the
// rejection must still be seen.
function reportUnawaited(error: StoreUpdateError): void {
  console.warn(`[junjo-xstate] ${error.message}`);
}

export function formatIssue(issue: { message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }): string {
  const path = issue.path
    ?.map((p) => (typeof p === 'object' && p !== null ? p.key : p))
    .map((key) => describe(key))
    .join('.');
  const message = describe(issue.message);
  return path ? `field '${path}': ${message}` : message;
}

/** Why a reducer's returned value cannot be the next state, or undefined if it can. */
function checkReturned(returned: unknown, current: unknown): string | undefined {
  if (typeof (returned as PromiseLike<unknown> | null)?.then === 'function') {
    // An async reducer: it would change the draft after immer finished with it, and its own
    // rejection ("proxy has been revoked") would go unhandled.
    Promise.resolve(returned).catch(() => {});
    return 'a promise (reducers run synchronously: do the async work in the node, then call the action with its result)';
  }
  if (returned === null || typeof returned !== 'object' || Array.isArray(returned)) return kindOf(returned);
  const missing = Object.keys(current as object).filter((key) => !Object.hasOwn(returned, key));
  if (missing.length === 0) return undefined;
  return `an object missing ${missing.length === 1 ? 'field' : 'fields'} ${missing.map((k) => `'${k}'`).join(', ')}`;
}

/**
 * Checks `state` against a Standard Schema: the reasons it is refused (with the schema's own
 * exception as the cause, if it threw), or undefined if it passes. Never throws: a schema that
 * throws must not crash the store actor, or its update's promise would never settle.
 */
export function checkSchema(
  schema: StandardSchemaV1<unknown, unknown>,
  state: unknown,
): { reasons: string[]; cause?: unknown } | undefined {
  let result: ReturnType<StandardSchemaV1<unknown, unknown>['~standard']['validate']>;
  try {
    result = schema['~standard'].validate(state);
  } catch (err) {
    return { reasons: [`its schema threw: ${describe(err)}; a schema must return issues, not throw`], cause: err };
  }
  if (result instanceof Promise) {
    // Not awaited, so its rejection must not go unhandled.
    result.catch(() => {});
    return { reasons: ['its schema validates asynchronously, which a store cannot wait for; use a synchronous schema'] };
  }
  // A result that is not one ({ value } or { issues }) must not pass as "valid".
  if (result === null || typeof result !== 'object') {
    return { reasons: [`its schema returned ${kindOf(result)}, not a Standard Schema result ({ value } or { issues })`] };
  }
  if (result.issues !== undefined) {
    if (!Array.isArray(result.issues)) return { reasons: ['its schema returned issues that are not a list'] };
    return { reasons: result.issues.length ? result.issues.map(formatIssue) : ['its schema reported an empty list of issues'] };
  }
  return undefined;
}
