/**
 * The fan-out actor: runs many items (node runners or subflow machines) as its own child
 * actors, at most `concurrency` at a time, and is done when all of them are. A RunMap, and a
 * RunConcurrent too wide for a parallel state, compile to one state invoking this actor.
 *
 * Why not a parallel state: XState's parallel states grow worse than quadratically with the
 * number of regions (800 regions take about 27 s), and so do many invokes in one state. Here
 * each item costs one actor and one event, so 10,000 items stay linear; and since each item is
 * a real child actor (id `Key[3]` or the item's key) an inspector still sees every item start,
 * finish or fail.
 *
 * Failure: by default the first failing item stops every item still running (their
 * `ctx.signal` aborts) and the fan-out fails with a FanOutItemError wrapping the original
 * error. With `collectFailures` every item runs and the fan-out fails at the end with a
 * FanOutError listing each failure with its index.
 *
 * Like the node runner, its input is plain data; everything live comes from `resolve`.
 *
 * @example
 * ```ts
 * setup({ actors: { fanOut: fanOut((runActor, self, input) => planFor(runActor, self, input)) } })
 * ```
 */
import type { ActorLogic, ActorRefFrom, AnyActorLogic, AnyActorRef, EventObject, Snapshot } from 'xstate';
import { createActor } from 'xstate';
import { FanOutItemError, RunMapError, type FanOutFailure } from '../src/errors.js';

export interface FanOutInput {
  /** The key of the vertex that fans out. */
  node: string;
  /** 1 on the vertex's first execution in the run, then 2, 3 … */
  iteration: number;
}

/** One item to run: its actor logic and input, and the id of its actor. */
export interface FanOutItem {
  id: string;
  logic: AnyActorLogic;
  input: unknown;
}

/** What the fan-out runs, resolved from its run when it starts. */
export interface FanOutPlan {
  /** The name used in errors (e.g. `RunMap 'Summarize'`). */
  owner: string;
  count: number;
  /** Creates item `index`; called only when that item starts, so idle items cost nothing. */
  item(index: number): FanOutItem;
  /** At most this many items run at once (Infinity: all). */
  concurrency: number;
  collectFailures: boolean;
}

/**
 * Kept small on purpose: inspectors serialize the snapshot on every item's completion, so it
 * holds counters, never per-item data (which would make inspection quadratic).
 */
export type FanOutSnapshot = Snapshot<FanOutOutput> & FanOutCounters;

export interface FanOutCounters {
  input: FanOutInput;
  total: number;
  running: number;
  completed: number;
  failed: number;
}

/** The outputs of items that have one (subflows), by item id; nodes have none. */
export type FanOutOutput = readonly (readonly [id: string, output: unknown])[];

export type FanOutLogic = ActorLogic<FanOutSnapshot, EventObject, FanOutInput>;
export type FanOutActorRef = ActorRefFrom<FanOutLogic>;

/** Everything live about one fan-out actor: its plan and its running children. */
interface Live {
  plan: FanOutPlan;
  next: number;
  running: Map<string, { index: number; ref: AnyActorRef }>;
  outputs: (readonly [string, unknown])[];
  failures: FanOutFailure[];
}

const DONE_PREFIX = 'xstate.done.actor.';
const ERROR_PREFIX = 'xstate.error.actor.';

export function fanOut(
  resolve: (runActor: AnyActorRef, self: AnyActorRef, input: FanOutInput) => FanOutPlan,
): FanOutLogic {
  // Live state is kept out of the snapshot, by actor (see FanOutSnapshot).
  const lives = new WeakMap<AnyActorRef, Live>();

  const initial = (input: FanOutInput): FanOutSnapshot => ({
    status: 'active',
    output: undefined,
    error: undefined,
    input,
    total: 0,
    running: 0,
    completed: 0,
    failed: 0,
  });

  /** Starts items until the limit is reached or none is left; returns how many started. */
  const fill = (live: Live, self: AnyActorRef): number => {
    const { plan } = live;
    let started = 0;
    while (live.next < plan.count && live.running.size < plan.concurrency) {
      const index = live.next++;
      const { id, logic, input } = plan.item(index);
      const ref = createActor(logic, { parent: self, id, input });
      live.running.set(id, { index, ref });
      ref.start();
      started++;
    }
    return started;
  };

  // Field by field, not by spreading the previous snapshot: one is made per item completion,
  // and a spread there costs microseconds (bench/).
  const snapshotOf = (
    { input, total, running, completed, failed }: FanOutCounters,
    status: FanOutSnapshot['status'],
    output?: FanOutOutput,
    error?: unknown,
  ) => ({ status, output, error, input, total, running, completed, failed }) as FanOutSnapshot;

  const failWith = (counters: FanOutCounters, error: unknown) => snapshotOf(counters, 'error', undefined, error);

  const finish = (counters: FanOutCounters, live: Live): FanOutSnapshot => {
    if (live.failures.length) {
      const { plan } = live;
      const failures = [...live.failures].sort((a, b) => a.index - b.index);
      return failWith(counters, new RunMapError(plan.owner, plan.count, failures));
    }
    return snapshotOf(counters, 'done', live.outputs);
  };

  return {
    config: resolve,
    getInitialSnapshot: (_scope, input) => initial(input),
    start(snapshot, scope) {
      if (snapshot.status !== 'active') return;
      const plan = resolve(scope.self._parent!, scope.self, snapshot.input);
      const live: Live = { plan, next: 0, running: new Map(), outputs: [], failures: [] };
      lives.set(scope.self, live);
      snapshot.total = plan.count;
      if (plan.count === 0) {
        // Nothing to wait for: complete through the mailbox, as a child would.
        scope.self.send({ type: 'junjo.fanOut.empty' });
        return;
      }
      fill(live, scope.self);
      snapshot.running = live.running.size;
    },
    transition(snapshot, event, scope) {
      if (snapshot.status !== 'active') return snapshot;
      const live = lives.get(scope.self);
      if (!live) return snapshot;
      if (event.type === 'xstate.stop') {
        // The state invoking us was left, or the run stopped: cancel whatever still runs.
        for (const { ref } of live.running.values()) scope.stopChild(ref);
        live.running.clear();
        lives.delete(scope.self);
        return snapshotOf({ ...snapshot, running: 0 }, 'stopped');
      }
      if (event.type === 'junjo.fanOut.empty') return finish(snapshot, live);

      let id: string;
      let error: unknown;
      let failed = false;
      if (event.type.startsWith(DONE_PREFIX)) {
        id = event.type.slice(DONE_PREFIX.length);
      } else if (event.type.startsWith(ERROR_PREFIX)) {
        id = event.type.slice(ERROR_PREFIX.length);
        error = (event as { error?: unknown }).error;
        failed = true;
      } else {
        return snapshot;
      }
      const child = live.running.get(id);
      if (!child) return snapshot;
      live.running.delete(id);

      if (failed) {
        live.failures.push({ index: child.index, id, error });
        if (!live.plan.collectFailures) {
          // First failure: cancel the rest, fail with the original error (wrapped to say which item).
          for (const { ref } of live.running.values()) scope.stopChild(ref);
          live.running.clear();
          lives.delete(scope.self);
          return failWith(
            { ...snapshot, running: 0, failed: snapshot.failed + 1 },
            new FanOutItemError(live.plan.owner, id, child.index, error),
          );
        }
      } else {
        const output = (event as { output?: unknown }).output;
        if (output !== undefined) live.outputs.push([id, output]);
      }

      fill(live, scope.self);
      const next = snapshotOf(
        {
          input: snapshot.input,
          total: snapshot.total,
          running: live.running.size,
          completed: snapshot.completed + (failed ? 0 : 1),
          failed: snapshot.failed + (failed ? 1 : 0),
        },
        'active',
      );
      if (live.running.size === 0 && live.next >= live.plan.count) {
        lives.delete(scope.self);
        return finish(next, live);
      }
      return next;
    },
    // A fan-out in flight cannot be resumed item by item: a restored one starts over.
    getPersistedSnapshot: (snapshot) => (snapshot.status === 'active' ? initial(snapshot.input) : snapshot),
    restoreSnapshot: (persisted) => persisted as FanOutSnapshot,
  };
}
