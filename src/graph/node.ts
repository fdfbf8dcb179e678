/**
 * Node: the unit of work. Its `service(store, ctx)` reads the store, does its work (an LLM
 * call, a query …) and commits results through the store's actions. A node may carry a
 * retry policy and a timeout per attempt.
 */
import { Executable, type ExecutableKind } from './executable.js';
import { kindOf } from '../describe.js';

declare module './executable.js' {
  interface ExecutableKinds {
    node: Node<any>;
  }
}

/** What a node's service gets besides its store. */
export interface NodeContext {
  /** Aborts when the node is cancelled: the run was stopped, or a RunConcurrent sibling failed. */
  readonly signal: AbortSignal;
  /** The run this execution belongs to. */
  readonly runId: string;
  /** The node's unique name in its graph (the state id in the compiled machine). */
  readonly node: string;
  /** 1 on the node's first execution in this run, 2 on its second (in a loop) … */
  readonly iteration: number;
  /**
   * 1 on the first attempt of this execution; higher when it is retried after a failure or a
   * timeout, or run again after its run was resumed from a checkpoint.
   */
  readonly attempt: number;
  /** For a WaitForEvent node: the event that resumed the run. */
  readonly event?: { type: string; [key: string]: unknown };
  /**
   * Sends `data` out of the running node at once (a token, a progress note): `stream()` yields
   * it, hooks get it (`nodeEmitted`), the run actor emits it (`actor.on('junjo.emit', …)`).
   * It is not state: never committed, never checkpointed. Returns false, doing nothing, once
   * this attempt has ended or was cancelled: a late emit (a stream left running after the
   * service returned) is dropped rather than thrown, so a stray callback cannot crash the
   * process. Safe to destructure: `({ emit }) => …`. (Issue 16.)
   */
  readonly emit: (data: unknown) => boolean;
  /**
   * Attributes of this execution (merged over earlier ones), reported on its completed or
   * failed event (`attributes`) and on its span: e.g. `llm.model_name`, token counts.
   */
  readonly setAttributes: (attributes: Record<string, string | number | boolean>) => void;
}

/** Anything a node's service may return. The value is ignored: results go through the store. */
export type NodeResult = void | Promise<void> | unknown;

/** How a failed attempt is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included (so 3 = up to 2 retries). */
  attempts: number;
  /**
   * Milliseconds to wait before the next attempt, after attempt `failedAttempt` failed: a
   * fixed number, or a function (e.g. `(n) => 100 * 2 ** (n - 1)` for exponential). Default 0.
   */
  backoff?: number | ((failedAttempt: number, error: unknown) => number);
}

export interface NodeOptions {
  name?: string;
  /** Retries a failed (or timed out) attempt; the last attempt's error fails the run. */
  retry?: RetryPolicy;
  /** Each attempt may take at most this long; then its `ctx.signal` aborts and it fails. */
  timeoutMs?: number;
}

/**
 * Subclass it and implement `service`:
 *
 * ```ts
 * class IncrementNode extends Node<CounterStoreHandle> {
 *   async service(store: CounterStoreHandle) { await store.increment() }
 * }
 * ```
 */
export abstract class Node<S = unknown> extends Executable<S> {
  // Typed as any kind: kinds that are nodes too (WaitForEvent) answer with their own.
  get kind(): ExecutableKind {
    return 'node';
  }
  // Own properties only when given: every run makes fresh nodes, and most have neither.
  declare readonly retry: RetryPolicy | undefined;
  declare readonly timeoutMs: number | undefined;

  constructor(options?: NodeOptions) {
    super(options?.name);
    const retry = checkRetry(options?.retry, this.name);
    const timeoutMs = checkTimeout(options?.timeoutMs, this.name);
    if (retry !== undefined) (this as { retry?: RetryPolicy }).retry = retry;
    if (timeoutMs !== undefined) (this as { timeoutMs?: number }).timeoutMs = timeoutMs;
  }

  abstract service(store: S, ctx: NodeContext): NodeResult;
}

class FunctionNode<S> extends Node<S> {
  constructor(
    name: string,
    private readonly fn: (store: S, ctx: NodeContext) => NodeResult,
    options: Omit<NodeOptions, 'name'> = {},
  ) {
    super({ ...options, name });
  }
  service(store: S, ctx: NodeContext): NodeResult {
    return this.fn(store, ctx);
  }
}

/**
 * A node from a function. Call it inside the graph factory so each run gets its own.
 *
 * ```ts
 * const addTen = node<CounterStoreHandle>('AddTen', async (store) => {
 *   await store.setCounter(store.getState().counter + 10);
 * });
 * const fetchIt = node<H>('Fetch', (store, ctx) => get(url, ctx.signal), { retry: { attempts: 3, backoff: 100 }, timeoutMs: 5000 });
 * ```
 */
export function node<S = unknown>(
  name: string,
  service: (store: S, ctx: NodeContext) => NodeResult,
  options?: Omit<NodeOptions, 'name'>,
): Node<S> {
  if (typeof service !== 'function') {
    throw new TypeError(`node('${name}', service): service must be a function (store, ctx) => Promise<void>`);
  }
  return new FunctionNode(name, service, options);
}

function checkRetry(retry: RetryPolicy | undefined, name: string): RetryPolicy | undefined {
  if (retry === undefined) return undefined;
  if (!Number.isInteger(retry?.attempts) || retry.attempts < 1) {
    throw new TypeError(`Node '${name}': retry.attempts must be a positive integer (attempts in all), got ${kindOf(retry?.attempts)}`);
  }
  const { backoff } = retry;
  if (backoff !== undefined && typeof backoff !== 'function' && !(Number.isFinite(backoff) && backoff >= 0)) {
    throw new TypeError(`Node '${name}': retry.backoff must be milliseconds (>= 0) or a function (failedAttempt, error) => milliseconds, got ${kindOf(backoff)}`);
  }
  return retry;
}

function checkTimeout(timeoutMs: number | undefined, name: string): number | undefined {
  if (timeoutMs === undefined) return undefined;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`Node '${name}': timeoutMs must be a positive number of milliseconds, got ${kindOf(timeoutMs)}`);
  }
  return timeoutMs;
}
