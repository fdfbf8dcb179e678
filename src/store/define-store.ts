/**
 * defineStore: a named state shape with its update actions (immer reducers) and an optional
 * Standard Schema. `create()` makes a store handle; a workflow runs it as its store actor.
 *
 * ```ts
 * const CounterStore = defineStore({
 *   name: 'CounterStore',
 *   initial: { counter: 0 },
 *   actions: { increment: (draft) => { draft.counter += 1 } },
 * });
 * type CounterStoreHandle = StoreOf<typeof CounterStore>;
 * ```
 */
import { freeze, type Draft, type Immutable } from 'immer';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { SET_STATE, checkSchema } from '../../actors/store.js';
import { kindOf } from '../describe.js';
import { StoreUpdateError } from '../errors.js';
import { createHandleClass, type StoreHandle } from './handle.js';

/** An action: an immer reducer over a draft of the state, plus its own arguments. */
export type StoreAction<S> = (draft: Draft<S>, ...args: any[]) => void | S;
export type StoreActions<S> = Record<string, StoreAction<S>>;

export interface StoreOptions<S extends object, A extends StoreActions<S>> {
  name: string;
  initial: S;
  actions: A;
  /** Any Standard Schema (zod, valibot, arktype …); every commit is checked against it. */
  schema?: StandardSchemaV1<unknown, unknown>;
}

export interface StoreDefinition<S extends object, A extends StoreActions<S>> {
  readonly name: string;
  readonly initial: Immutable<S>;
  readonly actions: A;
  readonly schema: StandardSchemaV1<unknown, unknown> | undefined;
  /**
   * A fresh store starting from `initial`, with `overrides` merged in. Inside a workflow's
   * store factory it becomes the run's store actor; on its own it starts an actor on first use.
   */
  create(overrides?: Partial<S>): StoreHandle<S, A>;
}

export type AnyStoreDefinition = StoreDefinition<any, StoreActions<any>>;

/** The handle type of a store definition: what nodes receive as `store`. */
export type StoreOf<D> = D extends StoreDefinition<infer S, infer A> ? StoreHandle<S, A> : never;
/** The state type of a store definition: what conditions receive. */
export type StateOf<D> = D extends StoreDefinition<infer S, any> ? Immutable<S> : never;

const RESERVED = new Set([SET_STATE, 'getState', 'subscribe', 'then', 'constructor', 'toJSON', 'storeName']);

export function defineStore<S extends object, A extends StoreActions<S>>(
  options: StoreOptions<S, A>,
): StoreDefinition<S, A> {
  const { name, initial, actions, schema } = options ?? ({} as StoreOptions<S, A>);
  if (typeof name !== 'string' || !name) {
    throw new TypeError('defineStore: give the store a name, e.g. defineStore({ name: "CounterStore", ... })');
  }
  if (initial === null || typeof initial !== 'object') {
    throw new TypeError(`defineStore '${name}': initial must be the initial state object`);
  }
  for (const [action, reducer] of Object.entries(actions ?? {})) {
    if (RESERVED.has(action) || action.startsWith('xstate.')) {
      throw new TypeError(
        `defineStore '${name}': action '${action}' clashes with a built-in name; rename it`,
      );
    }
    if (typeof reducer !== 'function') {
      throw new TypeError(`defineStore '${name}': action '${action}' must be a function (draft, ...args) => void`);
    }
  }
  if (schema !== undefined && typeof schema?.['~standard']?.validate !== 'function') {
    throw new TypeError(`defineStore '${name}': schema must be a Standard Schema (zod, valibot, arktype …)`);
  }

  const definition: StoreDefinition<S, A> = {
    name,
    initial: freeze(structuredClone(initial), true) as Immutable<S>,
    actions: { ...(actions ?? {}) } as A,
    schema,
    create(overrides) {
      return new Handle(initialState(definition, overrides));
    },
  };
  const Handle = createHandleClass<S, A>(definition);
  return definition;
}

// Definitions whose `initial` (without overrides) passed their schema: it is frozen, so it
// needs checking once.
const initialChecked = new WeakSet<object>();

function initialState<S extends object>(
  definition: StoreDefinition<S, any>,
  overrides: Partial<S> | undefined,
): Immutable<S> {
  if (overrides === undefined || overrides === null) {
    if (!initialChecked.has(definition)) {
      checkInitial(definition, definition.initial);
      initialChecked.add(definition);
    }
    return definition.initial;
  }
  if (typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new TypeError(
      `Store '${definition.name}': create() takes an object of fields to override, got ${kindOf(overrides)}`,
    );
  }
  const state = freeze({ ...definition.initial, ...overrides }, true) as Immutable<S>;
  checkInitial(definition, state);
  return state;
}

function checkInitial(definition: StoreDefinition<any, any>, state: unknown): void {
  if (!definition.schema) return;
  const problem = checkSchema(definition.schema, state);
  if (problem) {
    throw new StoreUpdateError(definition.name, '(initial state)', [
      ...problem.reasons,
      'fix the store\'s initial state or the overrides given to create()',
    ], undefined, problem.cause);
  }
}
