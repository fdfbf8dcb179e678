/**
 * The node runner: the actor a node state invokes. It runs one execution of a Node's
 * `service(store, ctx)` and is done when the service's promise settles. Its `ctx.signal`
 * aborts when the actor is stopped: the state was left (a RunConcurrent sibling failed) or
 * the run was stopped.
 *
 * A node with a retry policy runs as several attempts inside this one actor: a failed (or
 * timed out) attempt is followed by the next after its backoff, unless the actor was stopped
 * meanwhile; the last attempt's error is the actor's error. A node with `timeoutMs` has each
 * attempt aborted (through its `ctx.signal`) and failed when it takes longer.
 *
 * The runner's input is plain data (the node's key and iteration), so a persisted run can
 * restore it; everything live (the node instance, the store handle) comes from `resolve`.
 *
 * @example
 * ```ts
 * setup({ actors: { node: nodeRunner((parent, key) => lookUp(parent, key)) } })
 * ```
 */
import { fromPromise, type AnyActorRef, type PromiseActorLogic } from 'xstate';
import { NodeTimeoutError } from '../src/errors.js';
import type { NodeContext, RetryPolicy } from '../src/graph/node.js';

export interface NodeRunnerInput {
  /** The node's key: its unique name in the graph. */
  node: string;
  /** 1 on the node's first execution in the run, then 2, 3 … */
  iteration: number;
  /** The event a waiting node resumed on. */
  event?: { type: string; [key: string]: unknown };
}

/** Reports the end of one attempt. */
export interface AttemptReport {
  completed(): void;
  failed(error: unknown): void;
}

/** What a runner needs from its run to execute a node. */
export interface NodeExecution {
  service(store: unknown, ctx: NodeContext): unknown;
  /** A store view for one attempt, whose updates are refused once `signal` aborts. */
  store(signal: AbortSignal): unknown;
  runId: string;
  retry: RetryPolicy | undefined;
  timeoutMs: number | undefined;
  /** The number of the first attempt this runner makes (above 1 when a run was resumed). */
  firstAttempt: number;
  /** Called as each attempt starts; `signal` aborts only if the run cancels the node. */
  attemptStarted(attempt: number, signal: AbortSignal): AttemptReport | undefined;
  /** Called when attempt `attempt` failed and attempt `attempt + 1` follows after `delayMs`. */
  retrying(attempt: number, error: unknown, delayMs: number): void;
}

export type NodeRunnerLogic = PromiseActorLogic<void, NodeRunnerInput>;

export function nodeRunner(
  resolve: (workflowActor: AnyActorRef, input: NodeRunnerInput) => NodeExecution,
): NodeRunnerLogic {
  return fromPromise<void, NodeRunnerInput>(({ input, signal, self }) => {
    try {
      const execution = resolve(self._parent!, input);
      // The common case (no retry, no timeout) is one call and one promise hop, with none of
      // the async frames of the attempt loop.
      if (execution.retry === undefined && execution.timeoutMs === undefined) return runOnce(execution, input, signal);
      return runAttempts(execution, input, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  });
}

function runOnce(execution: NodeExecution, input: NodeRunnerInput, signal: AbortSignal): Promise<void> {
  const attempt = execution.firstAttempt;
  const report = execution.attemptStarted(attempt, signal);
  let result: unknown;
  try {
    result = call(execution, input, attempt, signal);
  } catch (error) {
    report?.failed(error);
    return Promise.reject(error);
  }
  return Promise.resolve(result).then(
    report ? () => report.completed() : toVoid,
    report
      ? (error) => {
          report.failed(error);
          throw error;
        }
      : undefined,
  );
}

const toVoid = (): void => {};

async function runAttempts(execution: NodeExecution, input: NodeRunnerInput, signal: AbortSignal): Promise<void> {
  const attempts = execution.retry?.attempts ?? 1;
  for (let attempt = execution.firstAttempt; ; attempt++) {
    const report = execution.attemptStarted(attempt, signal);
    try {
      await runAttempt(execution, input, attempt, signal);
      report?.completed();
      return;
    } catch (error) {
      report?.failed(error);
      if (signal.aborted || attempt >= attempts) throw error;
      const delayMs = backoff(execution.retry!, attempt, error);
      execution.retrying(attempt, error, delayMs);
      await sleep(delayMs, signal);
    }
  }
}

function call(execution: NodeExecution, input: NodeRunnerInput, attempt: number, signal: AbortSignal): unknown {
  const ctx: NodeContext = { signal, runId: execution.runId, node: input.node, iteration: input.iteration, attempt };
  return execution.service(execution.store(signal), input.event ? { ...ctx, event: input.event } : ctx);
}

async function runAttempt(execution: NodeExecution, input: NodeRunnerInput, attempt: number, runSignal: AbortSignal) {
  // Each attempt has its own signal: a timed out or failed attempt is aborted (its late updates
  // are refused) while the node goes on with the next one.
  const controller = new AbortController();
  const onRunAbort = () => controller.abort(runSignal.reason);
  runSignal.addEventListener('abort', onRunAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const work = Promise.resolve().then(() => call(execution, input, attempt, controller.signal));
    if (execution.timeoutMs === undefined) return await work;
    const timeoutMs = execution.timeoutMs;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new NodeTimeoutError(input.node, timeoutMs, attempt);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    // A service that ignores its signal may settle later; that outcome is no longer wanted.
    work.catch(() => {});
    return await Promise.race([work, timedOut]);
  } catch (error) {
    controller.abort(error);
    throw error;
  } finally {
    clearTimeout(timer);
    runSignal.removeEventListener('abort', onRunAbort);
  }
}

function backoff(retry: RetryPolicy, failedAttempt: number, error: unknown): number {
  const { backoff = 0 } = retry;
  const ms = typeof backoff === 'function' ? backoff(failedAttempt, error) : backoff;
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** Waits `ms`; rejects at once (clearing its timer) when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
