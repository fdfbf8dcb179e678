/**
 * evaluateNode (Junjo's `evaluate_node`, issue 16): runs one node in a generated one-node
 * workflow, with the hooks and telemetry a production run would have, and resolves with the
 * state after it, its commits, what it emitted and the attributes it set — for eval tests of a
 * prompt, a tool, any node.
 *
 * ```ts
 * const { state, commits } = await evaluateNode(summarize, { store: DocsStore, state: { text } });
 * const { state } = await evaluateNode(summarize, { store: DocsStore.create({ text }), hooks: otelHooks() });
 * const { state } = await evaluateNode(summarize, { store: (input: Input) => DocsStore.create(input), input });
 * ```
 *
 * It is a real run (a compiled machine, the store actor, the node runner), so the node sees
 * exactly what it sees in a workflow: `ctx.signal`, retries, timeouts, `ctx.emit`.
 */
import type { Patch } from 'immer';
import { Graph } from './graph/graph.js';
import type { Node } from './graph/node.js';
import { WaitForEvent } from './graph/wait-for-event.js';
import type { NodeAttributes, Redact, WorkflowHooks } from './hooks.js';
import type { AnyStoreHandle } from './store/handle.js';
import { Workflow } from './workflow.js';

type StateOf<H> = H extends { getState(): infer S } ? S : never;

/** One commit the node made. */
export interface EvaluatedCommit<S> {
  action: string;
  seq: number;
  patches: Patch[];
  state: S;
}

export interface EvaluateNodeResult<S> {
  runId: string;
  /** The committed state after the node. */
  state: S;
  commits: EvaluatedCommit<S>[];
  /** What the node sent with ctx.emit, in order. */
  emitted: unknown[];
  /** What the node set with ctx.setAttributes (e.g. model name, token counts). */
  attributes: NodeAttributes;
}

interface CommonOptions {
  /** Hooks of the generated workflow, as a production run would have (e.g. otelHooks()). */
  hooks?: WorkflowHooks | readonly WorkflowHooks[];
  redact?: Redact;
  signal?: AbortSignal;
  /** The generated workflow's name (default `evaluate(<node name>)`). */
  name?: string;
}

/** The node's store: a fresh handle, a definition with the state to start from, or a factory of the input. */
export type EvaluateNodeOptions<H extends AnyStoreHandle> = CommonOptions &
  (
    | { store: H; state?: never; input?: never }
    | { store: { readonly initial: unknown; create(overrides?: Partial<StateOf<H>>): H }; state?: Partial<StateOf<H>>; input?: never }
    | { store: (input: never) => H; input: unknown; state?: never }
  );

export async function evaluateNode<H extends AnyStoreHandle>(
  node: Node<H>,
  options: EvaluateNodeOptions<H>,
): Promise<EvaluateNodeResult<StateOf<H>>> {
  if (!node || typeof (node as { service?: unknown }).service !== 'function') {
    throw new TypeError('evaluateNode(node, options): node must be a Node (node(...), llm(...), a Node subclass)');
  }
  if (node instanceof WaitForEvent) {
    // Its run would wait for an event nobody sends: refuse rather than hang.
    throw new TypeError(
      `evaluateNode('${node.name}'): a WaitForEvent node waits for an event; evaluate its apply(store, event, ctx) in a node of its own instead`,
    );
  }
  const makeStore = storeFactory(node.name, options);
  const graph = new Graph({ source: node, sinks: [node], edges: [] });
  const workflow = new Workflow<unknown, H>({
    name: options.name ?? `evaluate(${node.name})`,
    // The workflow runs once, so the one graph (and node) instance is that run's fresh one; the
    // compiler reads the same instance as its prototype, which it allows.
    graph: () => graph,
    store: makeStore,
  });
  const commits: EvaluatedCommit<StateOf<H>>[] = [];
  const emitted: unknown[] = [];
  let attributes: NodeAttributes = {};
  const own: WorkflowHooks = {
    stateChanged: (e) => commits.push({ action: e.action, seq: e.seq, patches: e.patches, state: e.state as StateOf<H> }),
    nodeEmitted: (e) => void emitted.push(e.data),
    nodeCompleted: (e) => void (attributes = e.attributes ?? {}),
    nodeFailed: (e) => void (attributes = e.attributes ?? {}),
  };
  const hooks = [...[options.hooks ?? []].flat(), own];
  const result = await workflow.execute(options.input, {
    hooks,
    ...(options.redact ? { redact: options.redact } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { runId: result.runId, state: result.state as StateOf<H>, commits, emitted, attributes };
}

function storeFactory<H extends AnyStoreHandle>(name: string, options: EvaluateNodeOptions<H>): (input: unknown) => H {
  const { store } = options ?? ({} as EvaluateNodeOptions<H>);
  if (typeof store === 'function') return store as (input: unknown) => H;
  if (store && typeof (store as { create?: unknown }).create === 'function' && !('getState' in store)) {
    const definition = store as { create(overrides?: unknown): H };
    return () => definition.create(options.state);
  }
  if (store && typeof (store as { getState?: unknown }).getState === 'function') {
    if (options.state !== undefined) {
      throw new TypeError(`evaluateNode('${name}'): give either a store handle or a definition with state, not a handle with state`);
    }
    return () => store as H;
  }
  throw new TypeError(
    `evaluateNode('${name}'): options.store must be a store (MyStore.create({...})), a store definition (with state: {...}) or a factory (input) => MyStore.create(...)`,
  );
}
