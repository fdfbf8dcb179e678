/**
 * One error class per failure kind. Every message names the node, edge, action or field
 * involved and says what to do about it.
 */

import { describe } from './describe.js';

/**
 * The base of every error this library throws. `toJSON` keeps the message, the fields and the
 * cause, which `JSON.stringify` of a plain Error drops — so inspectors, logs and persisted
 * snapshots show what went wrong.
 */
export abstract class JunjoError extends Error {
  toJSON(): Record<string, unknown> {
    return errorToJSON(this, 1) as Record<string, unknown>;
  }
}

/** An error as plain JSON: its own `toJSON` if it has one, else name and message. */
export function errorToJSON(error: unknown, depth = 0): unknown {
  // A cause chain can be circular, and a thrown value's getters can throw: this feeds logs and
  // checkpoints, so it must always return.
  if (depth > 8) return '[cause chain too deep]';
  try {
    if (error instanceof JunjoError && depth === 0) return error.toJSON();
    if (error instanceof Error) {
      const json: Record<string, unknown> = { name: describe(error.name), message: describe(error) };
      if (error instanceof JunjoError) for (const [key, value] of Object.entries(error)) if (key !== 'name') json[key] = value;
      if (error.cause !== undefined) json.cause = errorToJSON(error.cause, depth + 1);
      return json;
    }
    return error;
  } catch {
    return describe(error);
  }
}

/** A graph is malformed; raised before any node runs. `problems` lists every finding. */
export class GraphValidationError extends JunjoError {
  override name = 'GraphValidationError';
  constructor(
    readonly graphName: string,
    readonly problems: readonly string[],
  ) {
    super(`Graph '${graphName}' is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Where in a run something happened: the node's name, prefixed by the subflows around it. */
export type NodePath = readonly string[];

/**
 * A run failed. Carries the run's id, the last committed store state and the original
 * error as `cause`; `path` says where it happened (subflow names, then the node).
 */
export class WorkflowExecutionError<S = unknown> extends JunjoError {
  override name = 'WorkflowExecutionError';
  readonly runId: string;
  readonly workflow: string;
  readonly state: S;
  readonly path: NodePath;
  constructor(opts: { workflow: string; runId: string; state: S; path: NodePath; cause: unknown }) {
    const where = opts.path.length ? ` at ${opts.path.map((p) => `'${p}'`).join(' → ')}` : '';
    super(`Workflow '${opts.workflow}' (run ${opts.runId}) failed${where}: ${messageOf(opts.cause)}`, {
      cause: opts.cause,
    });
    this.workflow = opts.workflow;
    this.runId = opts.runId;
    this.state = opts.state;
    this.path = opts.path;
  }
}

/** A run was cancelled: its actor was stopped or its `signal` aborted. */
export class WorkflowCancelledError<S = unknown> extends JunjoError {
  override name = 'WorkflowCancelledError';
  readonly runId: string;
  readonly workflow: string;
  readonly state: S;
  constructor(opts: { workflow: string; runId: string; state: S; reason?: unknown }) {
    super(
      `Workflow '${opts.workflow}' (run ${opts.runId}) was cancelled` +
        (opts.reason === undefined ? '' : `: ${messageOf(opts.reason)}`),
      { cause: opts.reason },
    );
    this.workflow = opts.workflow;
    this.runId = opts.runId;
    this.state = opts.state;
  }
}

/** A store update was rejected; the state stayed exactly as it was. */
export class StoreUpdateError extends JunjoError {
  override name = 'StoreUpdateError';
  constructor(
    readonly store: string,
    readonly action: string,
    readonly reasons: readonly string[],
    readonly node?: string,
    cause?: unknown,
  ) {
    super(
      `Store '${store}' rejected action '${action}'${node ? ` from node '${node}'` : ''}: ` +
        reasons.join('; '),
      { cause },
    );
  }
}

/** A node (or subflow) ran more often than its workflow's `maxIterations` allows. */
export class MaxIterationsError extends JunjoError {
  override name = 'MaxIterationsError';
  constructor(
    readonly node: string,
    readonly maxIterations: number,
  ) {
    super(
      `'${node}' would run a ${maxIterations + 1}th time, past maxIterations (${maxIterations}); ` +
        `check the conditions of the loop around it, or raise the workflow's maxIterations`,
    );
  }
}

/** An edge's condition threw while it was evaluated; the original error is the `cause`. */
export class ConditionError extends JunjoError {
  override name = 'ConditionError';
  constructor(
    readonly edge: string,
    readonly condition: string,
    cause: unknown,
  ) {
    super(`Condition '${condition}' of edge ${edge} threw: ${messageOf(cause)}; conditions must not throw`, { cause });
  }
}

/** No outgoing edge of a node had a condition that holds. */
export class NoMatchingEdgeError extends JunjoError {
  override name = 'NoMatchingEdgeError';
  constructor(
    readonly node: string,
    readonly conditions: readonly string[],
  ) {
    super(
      `No outgoing edge of '${node}' could be taken: none of its conditions held ` +
        `(${conditions.join(', ')}). Add an edge without a condition as the last one to give it a fallback`,
    );
  }
}

/** The text of a thrown value or a reason, for a message; never throws (see src/describe.ts). */
export function messageOf(err: unknown): string {
  return describe(err);
}

/** One failed item of a RunMap (or of a wide RunConcurrent). */
export interface FanOutFailure {
  /** The item's position in the list. */
  index: number;
  /** The item's actor id, e.g. `Summarize[3]`. */
  id: string;
  error: unknown;
}

/**
 * A RunMap with `collectFailures: true` ran every item and some failed. `errors` holds the
 * original errors (as in any AggregateError); `failures` pairs each with its item, by index.
 */
export class RunMapError extends AggregateError {
  override name = 'RunMapError';
  readonly failures: readonly FanOutFailure[];
  constructor(
    readonly node: string,
    readonly total: number,
    failures: readonly FanOutFailure[],
  ) {
    const shown = failures.slice(0, 5).map((f) => `[${f.index}] ${messageOf(f.error)}`).join('; ');
    const more = failures.length > 5 ? `; … ${failures.length - 5} more in .failures` : '';
    super(
      failures.map((f) => f.error),
      `${node}: ${failures.length} of ${total} items failed: ${shown}${more}. ` +
        `Each item's error is in .failures; to let the run go on, catch errors inside the item node and record them in the store`,
    );
    this.failures = failures;
  }
}

/**
 * Internal: the first failing item of a fan-out, carrying which item it was. The compiler
 * unwraps it, so a run's WorkflowExecutionError has the original error as its cause.
 */
export class FanOutItemError extends Error {
  override name = 'FanOutItemError';
  constructor(
    readonly node: string,
    readonly item: string,
    readonly index: number,
    readonly error: unknown,
  ) {
    super(`${node}: item ${index} ('${item}') failed: ${messageOf(error)}`, { cause: error });
  }
}

/** An attempt of a node took longer than its `timeoutMs`; its `ctx.signal` was aborted. */
export class NodeTimeoutError extends JunjoError {
  override name = 'NodeTimeoutError';
  constructor(
    readonly node: string,
    readonly timeoutMs: number,
    readonly attempt: number,
  ) {
    super(
      `Node '${node}' timed out after ${timeoutMs} ms (attempt ${attempt}); ` +
        `raise its timeoutMs, or make its service finish sooner (it should stop when ctx.signal aborts)`,
    );
  }
}

/** Why a checkpoint could not be used (or written). */
/** `io`: the store could not be opened, read or written (permissions, a missing folder, a full disk). */
export type CheckpointProblem = 'missing' | 'corrupt' | 'workflow' | 'graph' | 'finished' | 'write' | 'io';

/**
 * A checkpoint was refused: missing, corrupt, written by another workflow or by another
 * version of this workflow's graph, of a run that already ended, or it could not be written.
 * A refused checkpoint is never changed.
 */
export class CheckpointError extends JunjoError {
  override name = 'CheckpointError';
  constructor(
    readonly problem: CheckpointProblem,
    readonly runId: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

// --- Leases of durable runs (src/durable/lease.ts) ------------------------------------------

/** `resume()` or `execute()` of a run whose lease another live process holds: it runs there. */
export class LeaseHeldError extends JunjoError {
  override name = 'LeaseHeldError';
  constructor(
    readonly runId: string,
    /** Who holds the lease, e.g. `host:pid#n`. */
    readonly owner: string,
    /** How long until the lease expires unless its owner renews it, in ms. */
    readonly expiresInMs: number,
  ) {
    super(
      `Run '${runId}' is owned by '${owner}' (its lease expires in ${Math.max(0, Math.ceil(expiresInMs / 1000))} s unless renewed): ` +
        `it is running there, so it was not started here and nothing was written. Wait for that run to end; ` +
        `if that process is gone, resume the run once its lease has expired.`,
    );
  }
}

/**
 * A process held a run's lease past its expiry (it stalled, or could not reach the store) and
 * another process took the run over: this process's run was stopped, its nodes aborted, and it
 * wrote nothing more.
 */
export class LeaseLostError extends JunjoError {
  override name = 'LeaseLostError';
  constructor(
    readonly runId: string,
    /** This process's lease: its owner name and fencing number. */
    readonly owner: string,
    readonly fence: number,
    /** Who took the run over (null: its record and lease were deleted). */
    readonly newOwner: string | null,
  ) {
    super(
      `Run '${runId}' was taken over by ${newOwner === null ? 'another process (and has since been deleted)' : `'${newOwner}'`}: ` +
        `this process ('${owner}', lease ${fence}) held its lease past the expiry (it stalled, or could not reach the checkpoint store, ` +
        `for longer than the lease). So this process stopped the run, aborted its nodes and wrote nothing more; the run continues ` +
        `under its new owner. Nothing needs fixing unless this happens often: then raise leaseMs.`,
    );
  }
}
