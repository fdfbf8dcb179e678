/**
 * The store handle: what nodes call. `getState()` reads the committed state synchronously;
 * every action method (and `setState`) sends an event to the store actor and resolves with
 * the state once that update is committed.
 *
 * Inside a run each node gets its own view of the run's handle, so the store knows which node
 * each update came from, and a cancelled node's late updates are refused.
 */
import type { Immutable } from 'immer';
import { createActor } from 'xstate';
import {
  SET_STATE,
  requestUpdate,
  sendUpdate,
  storeLogic,
  type Reply,
  type Commit,
  type StoreActorRef,
  type StoreEvent,
  type StoreLogic,
} from '../../actors/store.js';
import { describe } from '../describe.js';
import { stamp } from '../graph/brand.js';
import { StoreUpdateError } from '../errors.js';
import type { StoreActions, StoreDefinition, AnyStoreDefinition } from './define-store.js';

type ActionArgs<F> = F extends (draft: any, ...args: infer P) => any ? P : never;

export interface StoreHandleBase<S> {
  /** The store definition's name. */
  readonly storeName: string;
  /** The committed state: frozen, so it is safe to keep and never needs copying. */
  getState(): Immutable<S>;
  /** Shallow-merges top-level fields, like Junjo's `set_state`. */
  setState(partial: Partial<S>): Promise<Immutable<S>>;
  /** Calls `listener` after every commit; returns the function that unsubscribes. */
  subscribe(listener: (state: Immutable<S>, commit: Commit) => void): () => void;
}

export type StoreHandle<S, A extends StoreActions<S> = StoreActions<S>> = StoreHandleBase<S> & {
  readonly [K in keyof A]: (...args: ActionArgs<A[K]>) => Promise<Immutable<S>>;
};

export type AnyStoreHandle = StoreHandleBase<any>;

const INTERNALS = Symbol('junjo-xstate.store');

interface Internals {
  definition: AnyStoreDefinition;
  initial: unknown;
  /** Shared by a handle and all its node views, so binding the handle binds them all. */
  binding: { ref: StoreActorRef<any> | undefined };
  node?: string;
  /** The node execution's cancellation (an AbortSignal, or the node runner's Cancellation). */
  cancel?: { readonly aborted: boolean };
  /** A node execution's view: its id, how many updates it has sent, and their outcomes. */
  execution?: ExecutionUpdates;
}

/**
 * The updates of one node execution (one attempt). A node may forget to `await` an update; if
 * the store then refuses it, nobody would see the refusal — the node would complete as if the
 * update were committed, and the rejected promise would crash Node as an unhandled rejection.
 * So the execution keeps its updates' outcomes: the node completes only once they have all
 * settled, and fails with the first refusal the node never looked at (see `settleUpdates`).
 * Once it has completed, it is closed: a later update (from a stray timer) is refused.
 */
interface ExecutionUpdates {
  id: string;
  sent: number;
  /** Updates sent and not yet settled. */
  pending: number;
  /** Refused updates, to check at completion whether the node observed them. */
  refused: UpdatePromise<unknown>[] | undefined;
  /** Called when `pending` drops to 0. */
  idle: (() => void) | undefined;
  /** Set once the node's service has settled: updates sent after it are refused. */
  closed: 'completed' | 'failed' | undefined;
}

/**
 * The promise an update gives a node inside a run. It notes whether the node ever attached a
 * handler (`then`, `catch`, `finally`, `await` — which calls `then` on a subclass), so a refusal
 * the node never looked at can fail the node instead of going unseen.
 */
class UpdatePromise<T> extends Promise<T> {
  observed = false;
  // Chained promises are plain ones: only the promise handed to the node is watched.
  static override get [Symbol.species]() {
    return Promise;
  }
  override then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.observed = true;
    return super.then(onfulfilled, onrejected);
  }
}

// The intrinsic then: our own bookkeeping must not count as the node observing its update.
const intrinsicThen = Promise.prototype.then;

/**
 * An update of a node execution: `send` is given the reply that settles the promise handed to
 * the node (one promise per update), and the execution counts it as pending until it settles.
 */
function tracked<T>(updates: ExecutionUpdates, send: (reply: Reply) => void): UpdatePromise<T> {
  let settle!: Reply;
  const promise = new UpdatePromise<T>((resolve, reject) => (settle = { resolve: resolve as Reply['resolve'], reject }));
  updates.pending++;
  send({
    resolve(value) {
      settle.resolve(value);
      settled(updates);
    },
    reject(error) {
      settle.reject(error);
      // Handled here, so a refusal never becomes an unhandled rejection: it is reported by
      // failing the node (below, in settleUpdates) or, after completion, by a warning.
      intrinsicThen.call(promise, undefined, noop);
      if (updates.closed === undefined) (updates.refused ??= []).push(promise as UpdatePromise<unknown>);
      else warnIfUnobserved(promise, error);
      settled(updates);
    },
  });
  return promise;
}

function settled(updates: ExecutionUpdates): void {
  if (--updates.pending === 0 && updates.idle) {
    const idle = updates.idle;
    updates.idle = undefined;
    idle();
  }
}

const noop = (): void => {};

// An update refused after its node completed has nobody left to fail; if its sender did not
// look at the refusal either, it must still be seen.
function warnIfUnobserved(promise: UpdatePromise<unknown>, error: unknown): void {
  setTimeout(() => {
    if (!promise.observed) console.warn(`[junjo-xstate] ${describe(error)}`);
  }, 0);
}

/**
 * Wraps a node service's outcome (`result`, its return value) so that the node completes only
 * once every update it sent has settled, and fails with the first refused update it did not
 * observe; then closes `view` to further updates. Returns `result` itself for a store that is
 * not a node execution's view.
 */
export function settleUpdates(view: unknown, result: unknown): unknown {
  const updates = isStoreHandle(view) ? internalsOf(view).execution : undefined;
  if (!updates) return result;
  const complete = (): unknown => {
    if (updates.pending > 0) return new Promise<void>((resolve) => (updates.idle = resolve)).then(complete);
    updates.closed = 'completed';
    const unobserved = updates.refused?.find((p) => !p.observed);
    if (unobserved) return unobserved;
    return undefined;
  };
  const fail = (error: unknown): never => {
    updates.closed = 'failed';
    throw error;
  };
  if (result !== null && typeof (result as PromiseLike<unknown>)?.then === 'function') {
    return Promise.resolve(result).then(complete, fail);
  }
  return complete();
}

type HandleClass<S, A extends StoreActions<S>> = new (initial: Immutable<S>) => StoreHandle<S, A>;

const logicByDefinition = new WeakMap<AnyStoreDefinition, StoreLogic<any>>();

/** The actor logic of a definition's stores, made once per definition. */
export function logicOf(definition: AnyStoreDefinition): StoreLogic<any> {
  let logic = logicByDefinition.get(definition);
  if (!logic) logicByDefinition.set(definition, (logic = storeLogic(() => definition)));
  return logic;
}

/** One class per definition, with one method per action on its prototype. */
export function createHandleClass<S extends object, A extends StoreActions<S>>(
  definition: StoreDefinition<S, A>,
): HandleClass<S, A> {
  class Handle {
    [INTERNALS]: Internals;
    // `internals` is given for node views only (see viewFor).
    constructor(initial: Immutable<S>, internals?: Internals) {
      this[INTERNALS] = internals ?? { definition, initial, binding: { ref: undefined } };
    }
    get storeName(): string {
      return definition.name;
    }
    getState(): Immutable<S> {
      return refOf(this).getSnapshot().context as Immutable<S>;
    }
    setState(partial: Partial<S>): Promise<Immutable<S>> {
      return dispatch(this, SET_STATE, [partial]);
    }
    subscribe(listener: (state: Immutable<S>, commit: Commit) => void): () => void {
      let seen = refOf(this).getSnapshot().commit?.seq ?? 0;
      const sub = refOf(this).subscribe((snapshot) => {
        if (snapshot.commit && snapshot.commit.seq !== seen) {
          seen = snapshot.commit.seq;
          // A listener that throws must not escape into XState, which rethrows it as an
          // uncaught exception (a crash); it is reported, and the store goes on.
          try {
            listener(snapshot.context as Immutable<S>, snapshot.commit);
          } catch (err) {
            console.error(`[junjo-xstate] a subscriber of store '${definition.name}' threw on commit ${snapshot.commit.seq} (${snapshot.commit.action}); the store goes on: ${describe(err)}`);
          }
        }
      });
      return () => sub.unsubscribe();
    }
    toJSON() {
      return { store: definition.name, state: this.getState() };
    }
  }
  for (const action of Object.keys(definition.actions)) {
    Object.defineProperty(Handle.prototype, action, {
      value: function (this: Handle, ...args: unknown[]) {
        return dispatch(this, action, args);
      },
      writable: true,
      configurable: true,
    });
  }
  Object.defineProperty(Handle, 'name', { value: `${definition.name}Handle` });
  // So another loaded copy of the library can say "two copies" of this handle (src/graph/brand.ts).
  stamp(Handle.prototype);
  return Handle as unknown as HandleClass<S, A>;
}

function internalsOf(handle: object): Internals {
  return (handle as { [INTERNALS]: Internals })[INTERNALS];
}

export function isStoreHandle(value: unknown): value is AnyStoreHandle {
  return typeof value === 'object' && value !== null && INTERNALS in value;
}

export function definitionOf(handle: AnyStoreHandle): AnyStoreDefinition {
  return internalsOf(handle).definition;
}

/** The state a store handle starts from, before it is bound to an actor. */
export function initialStateOf(handle: AnyStoreHandle): unknown {
  return internalsOf(handle).initial;
}

/** Makes `ref` the actor behind `handle` (and all its views). Done once, by the runtime. */
export function bindStore(handle: AnyStoreHandle, ref: StoreActorRef<any>): void {
  const { binding, definition } = internalsOf(handle);
  if (binding.ref && binding.ref !== ref) {
    throw new Error(
      `Store '${definition.name}' is already in use by another run: a store factory must return a new store every time (call create() inside it)`,
    );
  }
  binding.ref = ref;
}

/**
 * A view of `handle` whose updates are attributed to `node` and refused once `cancel` aborts.
 * With `execution` (`node#iteration`), each update carries its position in that execution,
 * so the store applies it only once however often the execution runs (see actors/store.ts):
 * make one view per attempt.
 */
export function viewFor<H extends AnyStoreHandle>(
  handle: H,
  node: string,
  cancel: { readonly aborted: boolean },
  execution?: string,
): H {
  // Made on every node execution: fields listed and the class constructor used, because an
  // object spread and Object.create here cost ~30× more (bench/).
  const { definition, initial, binding } = internalsOf(handle);
  const internals: Internals = { definition, initial, binding, node, cancel };
  if (execution !== undefined) {
    internals.execution = { id: execution, sent: 0, pending: 0, refused: undefined, idle: undefined, closed: undefined };
  }
  const View = handle.constructor as new (initial: unknown, internals: Internals) => H;
  return new View(initial, internals);
}

function refOf(handle: object): StoreActorRef<any> {
  const internals = internalsOf(handle);
  if (!internals.binding.ref) {
    // Used outside a workflow: the handle runs its own store actor.
    internals.binding.ref = createActor(logicOf(internals.definition), {
      input: { state: internals.initial },
    }).start();
  }
  return internals.binding.ref;
}

function dispatch(handle: object, action: string, args: unknown[]): Promise<any> {
  const { node, cancel, definition, execution } = internalsOf(handle);
  const refusal =
    cancel?.aborted ? `node '${node}' was cancelled, so its update was not applied`
    : execution?.closed ?
      `node '${node}' already ${execution.closed}, so its update was not applied; ` +
      `await every store update inside the node's service (this one came from a timer or callback that outlived it)`
    : undefined;
  if (refusal !== undefined) {
    const error = new StoreUpdateError(definition.name, action, [refusal], node);
    return execution ? tracked(execution, (reply) => reply.reject(error)) : Promise.reject(error);
  }
  const event: StoreEvent = node === undefined ? { type: action, args } : { type: action, args, node };
  if (!execution) return requestUpdate(refOf(handle), event, definition.name);
  event.execution = execution.id;
  event.position = ++execution.sent;
  return tracked(execution, (reply) => sendUpdate(refOf(handle), event, definition.name, reply));
}
