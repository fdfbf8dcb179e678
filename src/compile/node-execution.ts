/**
 * One execution of a node in a run, as the node runner (actors/node-runner.ts) sees it: the
 * node's service, a store view for each attempt, and where attempts are reported.
 */
import type { AnyActorRef } from 'xstate';
import type { AttemptReport, Cancellation, NodeExecution, NodeRunnerInput } from '../../actors/node-runner.js';
import type { Node, NodeContext } from '../graph/node.js';
import { settleUpdates, viewFor } from '../store/handle.js';
import { NodeEmitter } from './node-emit.js';
import { startBarrier } from '../durable/start-barrier.js';
import type { NodeLifecycle } from './run-lifecycle.js';
import type { RunContext, RunScope } from './run-scope.js';

/** Sent by a node runner to its run when it starts a retry: `{ execution, attempt }`. */
export const ATTEMPT_EVENT = 'junjo.attempt';

/** How a node execution is named in a run's `attempts` and a store's `applied`. */
export function executionKey(node: string, iteration: number): string {
  return `${node}#${iteration}`;
}

/**
 * One execution of a node in a run, as the node runner sees it. A class rather than an object
 * of closures: one is made per node execution.
 */
export class RunNodeExecution implements NodeExecution {
  readonly runId: string;
  readonly retry: Node<unknown>['retry'];
  readonly timeoutMs: number | undefined;
  readonly firstAttempt: number;
  readonly #execution: string;
  #emitter: NodeEmitter | undefined;

  constructor(
    private readonly scope: RunScope,
    private readonly parent: AnyActorRef,
    private readonly input: NodeRunnerInput,
    private readonly node: Node<unknown>,
  ) {
    this.runId = scope.runId;
    this.retry = node.retry;
    this.timeoutMs = node.timeoutMs;
    this.#execution = executionKey(input.node, input.iteration);
    const context = parent.getSnapshot()?.context as RunContext | undefined;
    this.firstAttempt = context?.attempts[this.#execution] ?? 1;
  }

  store(cancel: Cancellation): unknown {
    return viewFor(this.scope.store, this.input.node, cancel, this.#execution);
  }

  service(store: unknown, ctx: NodeContext): unknown {
    // (issue 13, branch robust) The node completes once its updates have settled, and fails
    // with a refused update it did not await; see settleUpdates in src/store/handle.ts.
    return settleUpdates(store, this.node.service(store, ctx));
  }

  durable(): Promise<void> | undefined {
    return startBarrier(this.parent);
  }

  attemptStarted(attempt: number, cancel: Cancellation): AttemptReport | undefined {
    // Recorded in the run's context, so the inspector shows each retry and a checkpoint
    // knows the attempt a resumed run is at.
    if (attempt > 1) this.parent.send({ type: ATTEMPT_EVENT, execution: this.#execution, attempt });
    return this.scope.lifecycle?.nodeStarted(this.input.node, this.node.name, this.input.iteration, cancel.signal, attempt);
  }

  /** `ctx.emit` (issue 16): see node-emit.ts. */
  emit(data: unknown, attempt: number, seq: number, report: AttemptReport | undefined): void {
    this.#emitter ??= new NodeEmitter(this.scope, { key: this.input.node, name: this.node.name, iteration: this.input.iteration });
    const lifecycle = report as NodeLifecycle | undefined;
    this.#emitter.emit(attempt, seq, data, lifecycle?.emitted);
  }

  retrying(attempt: number, error: unknown, delayMs: number): void {
    this.scope.lifecycle?.nodeRetrying(this.input.node, this.node.name, this.input.iteration, attempt, error, delayMs);
  }
}
