/**
 * A run as an async iterable: `workflow.stream(input)` yields the run's events (the same
 * lifecycle, `stateChanged` and `nodeEmitted` events hooks get — the last being the values
 * nodes send with `ctx.emit`, issue 16 — in the same order), then one last item
 * `{ type: 'result', result }`; if the run fails or is cancelled, the loop throws its error
 * instead (WorkflowExecutionError, WorkflowCancelledError, GraphValidationError).
 *
 * ```ts
 * for await (const item of workflow.stream(input)) {
 *   if (item.type === 'result') console.log(item.result.state);
 *   else console.log(item.type, item.id);
 * }
 * ```
 *
 * The run starts on the first `next()`, like an async generator. Leaving the loop early
 * (`break`, `return`, a throw, or calling `return()` on the iterator) cancels the run: every
 * node in flight sees its `ctx.signal` abort. Events are buffered until read, none dropped:
 * a run's events are produced synchronously by its actors, so the buffer holds what the
 * reader has not read yet and nothing after the run ends.
 */
import type { WorkflowEvent, WorkflowHooks } from './hooks.js';

/** The last item of a stream: the run's result. */
export interface StreamResult<R> {
  type: 'result';
  result: R;
}

export type WorkflowStreamItem<R> = WorkflowEvent | StreamResult<R>;

/** Starts a run reporting to `hooks` that stops when `signal` aborts. */
export type StartRun<R> = (hooks: WorkflowHooks, signal: AbortSignal) => Promise<R>;

type Outcome<R> = { ok: true; result: R } | { ok: false; error: unknown };

interface Reader<R> {
  resolve(step: IteratorResult<WorkflowStreamItem<R>, undefined>): void;
  reject(error: unknown): void;
}

const DONE = { done: true, value: undefined } as const;

export class WorkflowStream<R> implements AsyncIterableIterator<WorkflowStreamItem<R>, undefined> {
  readonly #start: StartRun<R>;
  readonly #signal: AbortSignal | undefined;
  readonly #controller = new AbortController();
  #buffer: WorkflowStreamItem<R>[] = [];
  #head = 0;
  readonly #readers: Reader<R>[] = [];
  #run: Promise<void> | undefined;
  #outcome: Outcome<R> | undefined;
  /** Set once the consumer has seen the end (result, error) or closed the stream. */
  #finished = false;

  /** `signal`: the caller's own; aborting it cancels the run and the loop throws. */
  constructor(start: StartRun<R>, signal?: AbortSignal) {
    this.#start = start;
    this.#signal = signal;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<WorkflowStreamItem<R>, undefined>> {
    if (!this.#finished) this.#run ??= this.#begin();
    return new Promise((resolve, reject) => {
      this.#readers.push({ resolve, reject });
      this.#serve();
    });
  }

  /** Stops reading; cancels the run if it is still going and waits until it has stopped. */
  async return(): Promise<IteratorResult<WorkflowStreamItem<R>, undefined>> {
    this.#finished = true;
    this.#buffer = [];
    this.#head = 0;
    if (!this.#outcome) this.#controller.abort(new Error('the stream was closed before the run ended'));
    this.#serve();
    await this.#run;
    return DONE;
  }

  #begin(): Promise<void> {
    const forward = () => this.#controller.abort(this.#signal!.reason);
    if (this.#signal?.aborted) forward();
    this.#signal?.addEventListener('abort', forward, { once: true });
    const hooks: WorkflowHooks = { onEvent: (event) => this.#push(event) };
    let run: Promise<R>;
    try {
      run = this.#start(hooks, this.#controller.signal);
    } catch (error) {
      run = Promise.reject(error);
    }
    return run
      .then(
        (result): Outcome<R> => ({ ok: true, result }),
        (error: unknown): Outcome<R> => ({ ok: false, error }),
      )
      .then((outcome) => {
        this.#signal?.removeEventListener('abort', forward);
        this.#outcome = outcome;
        if (outcome.ok) this.#push({ type: 'result', result: outcome.result });
        this.#serve();
      });
  }

  #push(item: WorkflowStreamItem<R>): void {
    if (this.#finished) return;
    this.#buffer.push(item);
    this.#serve();
  }

  /** Hands buffered items, then the end, to waiting readers. */
  #serve(): void {
    while (this.#readers.length > 0) {
      if (this.#head < this.#buffer.length) {
        const value = this.#buffer[this.#head++]!;
        if (this.#head === this.#buffer.length) {
          this.#buffer = [];
          this.#head = 0;
        }
        if (value.type === 'result') this.#finished = true;
        this.#readers.shift()!.resolve({ done: false, value });
      } else if (this.#finished) {
        this.#readers.shift()!.resolve(DONE);
      } else if (this.#outcome && !this.#outcome.ok) {
        this.#finished = true;
        this.#readers.shift()!.reject(this.#outcome.error);
      } else {
        return;
      }
    }
  }
}
