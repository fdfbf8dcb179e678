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
  storeLogic,
  type Commit,
  type StoreActorRef,
  type StoreEvent,
  type StoreLogic,
} from '../../actors/store.js';
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
  /** A node execution's view: its id and how many updates it has sent. */
  execution?: { id: string; sent: number };
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
          listener(snapshot.context as Immutable<S>, snapshot.commit);
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
  if (execution !== undefined) internals.execution = { id: execution, sent: 0 };
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
  if (cancel?.aborted) {
    return Promise.reject(
      new StoreUpdateError(definition.name, action, [
        `node '${node}' was cancelled, so its update was not applied`,
      ], node),
    );
  }
  const event: StoreEvent = node === undefined ? { type: action, args } : { type: action, args, node };
  if (execution) {
    event.execution = execution.id;
    event.position = ++execution.sent;
  }
  return requestUpdate(refOf(handle), event, definition.name);
}
