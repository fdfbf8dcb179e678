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
import { condition, type Condition } from '../graph/condition.js';
import { node, type Node, type NodeContext, type NodeOptions, type NodeResult } from '../graph/node.js';
import { waitFor, type ResumeEvent, type WaitForEvent } from '../graph/wait-for-event.js';
import type { ExecutionResult } from '../workflow.js';
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

/**
 * The options of a store whose schema has a typed input (zod, valibot …): the schema types the
 * state, so `initial` and every action are checked against it.
 */
export interface SchemaStoreOptions<Schema extends StandardSchemaV1<object, unknown>, A> {
  name: string;
  schema: Schema;
  initial: NoInfer<StandardSchemaV1.InferInput<Schema>>;
  actions: A;
}

/** The state a schema describes (its input: the store keeps what it validated, untransformed). */
export type SchemaState<Schema extends StandardSchemaV1<object, unknown>> = StandardSchemaV1.InferInput<Schema>;

// A schema whose input type is known must go through the schema overload; one left untyped
// (a hand-written Standard Schema) types nothing, so the state comes from `initial`.
type UntypedSchemaOnly<Schema extends StandardSchemaV1<unknown, unknown>> = unknown extends StandardSchemaV1.InferInput<Schema>
  ? unknown
  : { readonly '~error': 'this schema describes another state than `initial`: make initial (and the actions) match it' };

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
  /**
   * A node working on this store, its `store` typed with no annotation:
   * `CounterStore.node('AddTen', (store) => store.setCounter(store.getState().counter + 10))`.
   */
  node(
    name: string,
    service: (store: StoreHandle<S, A>, ctx: NodeContext) => NodeResult,
    options?: Omit<NodeOptions, 'name'>,
  ): Node<StoreHandle<S, A>>;
  /** A condition over this store's state, typed with no annotation: `CounterStore.condition('IsEven', (s) => s.counter % 2 === 0)`. */
  condition(name: string, predicate: (state: Immutable<S>) => boolean): Condition<Immutable<S>>;
  /** A WaitForEvent node on this store (see `waitFor`); `E` is the event it resumes on. */
  waitFor<E extends ResumeEvent = ResumeEvent>(
    name: string,
    events: string | readonly string[],
    apply: (store: StoreHandle<S, A>, event: E, ctx: NodeContext) => NodeResult,
  ): WaitForEvent<StoreHandle<S, A>, E>;
  /**
   * The results of subflow `key` in a run's result, typed as this store's: the subflow must
   * run on this store. Each result's state is checked (its fields, and the schema if any), so
   * naming the wrong store throws instead of handing out a mistyped state; an absent key gives [].
   */
  subflowResults(result: { readonly subflows: Readonly<Record<string, readonly unknown[]>> }, key: string): readonly ExecutionResult<Immutable<S>>[];
}

// `any` actions, not StoreActions<any>: a definition's node() takes its handle, so only `any` lets every definition in.
export type AnyStoreDefinition = StoreDefinition<any, any>;

/** The handle type of a store definition: what nodes receive as `store`. */
export type StoreOf<D> = D extends StoreDefinition<infer S, infer A> ? StoreHandle<S, A> : never;
/** The state type of a store definition: what conditions receive. */
export type StateOf<D> = D extends StoreDefinition<infer S, any> ? Immutable<S> : never;

const RESERVED = new Set([SET_STATE, 'getState', 'subscribe', 'then', 'constructor', 'toJSON', 'storeName']);

export function defineStore<Schema extends StandardSchemaV1<object, unknown>, A extends StoreActions<SchemaState<Schema>>>(
  options: SchemaStoreOptions<Schema, A>,
): StoreDefinition<SchemaState<Schema>, A>;
export function defineStore<S extends object, A extends StoreActions<S>, Schema extends StandardSchemaV1<unknown, unknown> = never>(
  options: StoreOptions<S, A> & { schema?: Schema & UntypedSchemaOnly<Schema> },
): StoreDefinition<S, A>;
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
    node: (nodeName, service, nodeOptions) => node(nodeName, service, nodeOptions),
    condition: (conditionName, predicate) => condition(conditionName, predicate),
    waitFor: (waitName, events, apply) => waitFor(waitName, events, apply),
    subflowResults(result, key) {
      const runs = result?.subflows?.[key] ?? [];
      for (const [i, run] of runs.entries()) {
        const problem = notAStateOf(definition, (run as { state?: unknown })?.state);
        if (problem) {
          throw new TypeError(`${name}.subflowResults(result, '${key}'): run ${i} of subflow '${key}' is not a '${name}' state (${problem}); name the store the subflow runs on`);
        }
      }
      return runs as readonly ExecutionResult<Immutable<S>>[];
    },
  };
  const Handle = createHandleClass<S, A>(definition);
  return definition;
}

/** Why `state` is not a state of `definition` (its top-level fields, then its schema), or undefined. */
export function notAStateOf(definition: StoreDefinition<any, any>, state: unknown): string | undefined {
  if (state === null || typeof state !== 'object') return `it is ${kindOf(state)}`;
  const expected = Object.keys(definition.initial).sort().join(',');
  const actual = Object.keys(state).sort().join(',');
  if (expected !== actual) return `its fields are ${actual || 'none'}, not ${expected}`;
  const problem = definition.schema && checkSchema(definition.schema, state);
  return problem ? problem.reasons.join('; ') : undefined;
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
