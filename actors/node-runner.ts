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
 * setup({ actors: { node: nodeRunner((run, input) => executionOf(run, input.node, input.iteration)) } })
 * ```
 */
import type { AnyActorRef, PromiseActorLogic, PromiseSnapshot } from 'xstate';
import { NodeTimeoutError } from '../src/errors.js';
import type { NodeContext, RetryPolicy } from '../src/graph/node.js';
import { sleep } from '../src/sleep.js';

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
  /** `ctx.setAttributes` of this attempt (issue 16): reported on its end event. */
  setAttributes?(attributes: Record<string, string | number | boolean>): void;
}

/** What a runner needs from its run to execute a node. */
export interface NodeExecution {
  service(store: unknown, ctx: NodeContext): unknown;
  /** A store view for one attempt, whose updates are refused once `cancel` is aborted. */
  store(cancel: Cancellation): unknown;
  runId: string;
  retry: RetryPolicy | undefined;
  timeoutMs: number | undefined;
  /** The number of the first attempt this runner makes (above 1 when a run was resumed). */
  firstAttempt: number;
  /**
   * What an attempt's body waits for once it is reported started: the checkpoint that shows it
   * (src/durable/start-barrier.ts); undefined when the run has no checkpoint.
   */
  durable?(): Promise<void> | undefined;
  /** Called as each attempt starts; `cancel` aborts only if the run cancels the node. */
  attemptStarted(attempt: number, cancel: Cancellation): AttemptReport | undefined;
  /** Called when attempt `attempt` failed and attempt `attempt + 1` follows after `delayMs`. */
  retrying(attempt: number, error: unknown, delayMs: number): void;
  /**
   * The `seq`-th value attempt `attempt` sent with `ctx.emit` while it ran (issue 16); never
   * called after the attempt ended or was cancelled. Optional: a runner without it drops them.
   */
  emit?(data: unknown, attempt: number, seq: number, report: AttemptReport | undefined): void;
}

/**
 * Whether a node execution was cancelled, with its AbortSignal made only when something asks
 * for it: most services never read `ctx.signal`, and a signal costs an AbortController, an
 * EventTarget and its listener tables per execution — for each of thousands of waiting runs.
 */
export class Cancellation {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  get aborted(): boolean {
    return this.#aborted;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    // What AbortController.abort() would make of no reason.
    this.#reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    this.#controller?.abort(this.#reason);
  }
}

export type NodeRunnerLogic = PromiseActorLogic<void, NodeRunnerInput>;

// The events of XState's own promise actors, so tools that know those read these alike.
const RESOLVE = 'xstate.promise.resolve';
const REJECT = 'xstate.promise.reject';
const STOP = 'xstate.stop';

/**
 * The node runner's logic: a promise actor, like XState's `fromPromise`, whose cancellation
 * makes its AbortSignal only on demand (see Cancellation).
 */
export function nodeRunner(
  resolve: (workflowActor: AnyActorRef, input: NodeRunnerInput) => NodeExecution,
): NodeRunnerLogic {
  const cancellations = new WeakMap<AnyActorRef, Cancellation>();
  const settle = (self: AnyActorRef, type: typeof RESOLVE | typeof REJECT, data?: unknown) => {
    if (self.getSnapshot().status !== 'active') return;
    cancellations.delete(self);
    self.send({ type, data });
  };
  return {
    config: resolve,
    transition: (snapshot, event, { self }) => {
      if (snapshot.status !== 'active') return snapshot;
      switch (event.type) {
        case RESOLVE:
          return { ...snapshot, status: 'done', output: undefined, input: undefined };
        case REJECT:
          return { ...snapshot, status: 'error', error: event.data, input: undefined };
        case STOP:
          cancellations.get(self)?.abort();
          cancellations.delete(self);
          return { ...snapshot, status: 'stopped', input: undefined };
        default:
          return snapshot;
      }
    },
    start: (snapshot, { self }) => {
      if (snapshot.status !== 'active') return;
      const cancel = new Cancellation();
      cancellations.set(self, cancel);
      run(resolve, self, snapshot.input!, cancel).then(
        () => settle(self, RESOLVE),
        (error) => settle(self, REJECT, error),
      );
    },
    getInitialSnapshot: (_, input) => ({ status: 'active', output: undefined, error: undefined, input }),
    getPersistedSnapshot: (snapshot) => snapshot,
    restoreSnapshot: (snapshot) => snapshot as PromiseSnapshot<void, NodeRunnerInput>,
  };
}

function run(
  resolve: (workflowActor: AnyActorRef, input: NodeRunnerInput) => NodeExecution,
  self: AnyActorRef,
  input: NodeRunnerInput,
  cancel: Cancellation,
): Promise<void> {
  try {
    const execution = resolve(self._parent!, input);
    // The common case (no retry, no timeout) is one call and one promise hop, with none of
    // the async frames of the attempt loop.
    const go = () => (execution.retry === undefined && execution.timeoutMs === undefined ? runOnce(execution, input, cancel) : runAttempts(execution, input, cancel));
    const barrier = execution.durable?.();
    // A durable run's node starts once its start is checkpointed; stopped meanwhile, it never starts.
    return barrier ? barrier.then(() => (cancel.aborted ? Promise.reject(new Error('stopped before it started')) : go())) : go();
  } catch (error) {
    return Promise.reject(error);
  }
}

function runOnce(execution: NodeExecution, input: NodeRunnerInput, cancel: Cancellation): Promise<void> {
  const attempt = execution.firstAttempt;
  const report = execution.attemptStarted(attempt, cancel);
  const ctx = contextOf(execution, input, attempt, cancel, report);
  let result: unknown;
  try {
    result = execution.service(execution.store(cancel), ctx);
  } catch (error) {
    endEmits(ctx);
    report?.failed(error);
    return Promise.reject(error);
  }
  // Emits end before the attempt's end is reported, so none follows its end event.
  return Promise.resolve(result).then(
    () => {
      endEmits(ctx);
      report?.completed();
    },
    (error) => {
      endEmits(ctx);
      report?.failed(error);
      throw error;
    },
  );
}

async function runAttempts(execution: NodeExecution, input: NodeRunnerInput, cancel: Cancellation): Promise<void> {
  const attempts = execution.retry?.attempts ?? 1;
  for (let attempt = execution.firstAttempt; ; attempt++) {
    const report = execution.attemptStarted(attempt, cancel);
    try {
      // A retry is recorded in the run's context (attemptStarted): durable before it runs too.
      if (attempt > execution.firstAttempt) {
        await execution.durable?.();
        if (cancel.aborted) throw new Error('stopped before it started');
      }
      await runAttempt(execution, input, attempt, cancel, report);
      report?.completed();
      return;
    } catch (error) {
      report?.failed(error);
      if (cancel.aborted || attempt >= attempts) throw error;
      const delayMs = backoff(execution.retry!, attempt, error);
      execution.retrying(attempt, error, delayMs);
      await sleep(delayMs, cancel.signal);
    }
  }
}

/**
 * What `ctx.emit` of one attempt needs (issue 16), made on the first read of `ctx.emit` only:
 * most services never emit. Closed when the attempt settles; a cancelled attempt drops too.
 */
class Emits {
  seq = 0;
  ended = false;
  constructor(
    readonly execution: NodeExecution,
    readonly attempt: number,
    readonly cancel: Cancellation,
    readonly report: AttemptReport | undefined,
  ) {}
  readonly emit = (data: unknown): boolean => {
    if (this.ended || this.cancel.aborted || !this.execution.emit) return false;
    this.execution.emit(data, this.attempt, ++this.seq, this.report);
    return true;
  };
}

const emitsOf = new WeakMap<object, Emits>();

function endEmits(ctx: object): void {
  const emits = emitsOf.get(ctx);
  if (emits) emits.ended = true;
}

function contextOf(
  execution: NodeExecution,
  input: NodeRunnerInput,
  attempt: number,
  cancel: Cancellation,
  report: AttemptReport | undefined,
): NodeContext {
  const ctx: { -readonly [K in keyof NodeContext]: NodeContext[K] } = {
    get signal() {
      return cancel.signal;
    },
    // Own getters (like `signal`), so `{ ...ctx }` and `({ emit }) =>` keep working.
    get emit() {
      let emits = emitsOf.get(ctx);
      if (!emits) emitsOf.set(ctx, (emits = new Emits(execution, attempt, cancel, report)));
      return emits.emit;
    },
    setAttributes: report?.setAttributes ? (attributes) => report.setAttributes!(attributes) : noAttributes,
    runId: execution.runId,
    node: input.node,
    iteration: input.iteration,
    attempt,
  };
  if (input.event) ctx.event = input.event;
  return ctx;
}

// Without hooks nobody reads attributes; the one shared function costs nothing per node.
const noAttributes = (): void => {};

async function runAttempt(
  execution: NodeExecution,
  input: NodeRunnerInput,
  attempt: number,
  runCancel: Cancellation,
  report?: AttemptReport,
) {
  // Each attempt has its own cancellation: a timed out or failed attempt is aborted (its late
  // updates are refused) while the node goes on with the next one.
  const cancel = new Cancellation();
  const runSignal = runCancel.signal;
  const onRunAbort = () => cancel.abort(runSignal.reason);
  runSignal.addEventListener('abort', onRunAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ctx = contextOf(execution, input, attempt, cancel, report);
  try {
    const work = Promise.resolve().then(() => execution.service(execution.store(cancel), ctx));
    if (execution.timeoutMs === undefined) return await work;
    const timeoutMs = execution.timeoutMs;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new NodeTimeoutError(input.node, timeoutMs, attempt);
        cancel.abort(error);
        reject(error);
      }, timeoutMs);
    });
    // A service that ignores its signal may settle later; that outcome is no longer wanted.
    work.catch(() => {});
    return await Promise.race([work, timedOut]);
  } catch (error) {
    cancel.abort(error);
    throw error;
  } finally {
    endEmits(ctx);
    clearTimeout(timer);
    runSignal.removeEventListener('abort', onRunAbort);
  }
}

/** The delay before the attempt after `failedAttempt`, from the policy (never negative). */
export function backoff(retry: RetryPolicy, failedAttempt: number, error: unknown): number {
  const { backoff = 0 } = retry;
  const ms = typeof backoff === 'function' ? backoff(failedAttempt, error) : backoff;
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}
