/**
 * Events for runs of a RunQueue that wait (a `waitFor`, an agent node at a tool call that needs
 * approval): kept in `<schema>.junjo_run_events`, one
 * row per event with a sequence number per run, and handed to the run by the worker that runs
 * it, one at a time in the order sent.
 *
 * Exactly once, without a transaction around the checkpoint: before an event is handed to the
 * run, its row records its target — the waitFor or agent node (its path through the subflows it
 * is in), the execution of it that waits (its count in `executionCounts`) and, for an agent,
 * which of that execution's approvals (the decisions it took before). A worker that restores
 * the run reads, from the restored (so checkpointed) snapshot, whether that execution got past
 * waiting: then the event was applied and is marked so; if the execution still waits, or was
 * not reached yet, it is handed over again. So an event applied but not yet checkpointed when a
 * worker died is applied once.
 *
 * A run whose only active states are waits — waitFors that wait and agent nodes in their
 * `approval` state — in the run, in RunConcurrent branches (a branch that is done waits for
 * the others), in subflows at any depth, has nothing in flight and is parked: the worker stops
 * it at its checkpoint (recorded `waiting`, see RunParked) and lets its lease go, so no worker
 * is held while it waits.
 *
 * A wait inside a fan-out item (a subflow that is a RunMap item, or an item of a RunConcurrent
 * wider than 16, on actors/fan-out.ts) never reaches this scan: the fan-out actor forwards no
 * events to its items, and its persisted snapshot holds counters, not items, so such a subflow
 * is refused as an item (src/compile/kinds/subflow.ts) and the run fails naming it.
 *
 * An event goes to the first wait for its type; one with a `node` field (an agent decision's
 * way of naming its agent node) goes only to an agent node of that name — XState hands it to
 * every active state anyway, but the row must name the one that takes it.
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type * as PG from 'pg';

/** An event as `send()` takes it: an object with a `type`, plain JSON. */
export interface RunEvent {
  type: string;
  [field: string]: unknown;
}

interface EventRow {
  seq: number;
  event: RunEvent;
  target_node: string | null;
  target_execution: number | null;
  target_step: number | null;
}

/**
 * A wait now: a waitFor execution, or an agent node's execution at one of its approvals.
 * `node` is its path from the run: the node's key, after the subflow executions it is in
 * (`Review#2.Approve`: the second execution of subflow `Review`, its waitFor `Approve`) — keys
 * never hold `.` or `#`; `execution` is the node's own count in the run (or subflow run) it
 * belongs to; `step`, for an agent, the decisions this execution took before (one execution
 * may wait for several approvals), null for a waitFor.
 */
interface Waiting {
  node: string;
  execution: number;
  step: number | null;
  events: readonly string[];
  /** An agent node's name: an event with a `node` field that names another is not its. */
  agent?: string;
}

interface JunjoMeta {
  kind?: string;
  key?: string;
  name?: string;
  events?: readonly string[];
}

interface StateNodeLike {
  key: string;
  type: string;
  meta?: { junjo?: JunjoMeta };
  parent?: { meta?: { junjo?: JunjoMeta } };
}

/** What is read of a run's (or a subflow run's) machine snapshot. */
interface SnapshotLike {
  status?: string;
  _nodes?: StateNodeLike[];
  context?: { executionCounts?: Record<string, number>; agents?: Record<string, { decisions?: number } | undefined> };
  children?: Record<string, { getSnapshot?(): unknown } | undefined>;
}

/**
 * The waits of a run's snapshot — in the run, in its RunConcurrent
 * branches and in its subflows at any depth — and whether the run is parked: nothing else is
 * active (a branch that is done waits for its siblings, so it does not count).
 */
export function waitingOf(snapshot: unknown): { waiting: Waiting[]; parked: boolean } {
  const waiting: Waiting[] = [];
  const idle = scan(snapshot as SnapshotLike, '', waiting);
  return { waiting, parked: idle && waiting.length > 0 };
}

/** Adds the waits of `s` (a machine under `prefix`) to `waiting`; true when nothing else is active there. */
function scan(s: SnapshotLike, prefix: string, waiting: Waiting[]): boolean {
  if (s.status !== 'active' || !s._nodes) return false;
  const counts = s.context?.executionCounts ?? {};
  let idle = true;
  for (const leaf of s._nodes) {
    // Leaves only. A final leaf in an active run is a RunConcurrent branch that is done: it
    // waits for its siblings, so it is neither work nor a wait.
    if (leaf.type !== 'atomic') continue;
    const wait = leaf.parent?.meta?.junjo;
    if (leaf.key === 'waiting' && wait?.kind === 'waitForEvent' && wait.key) {
      waiting.push({ node: prefix + wait.key, execution: counts[wait.key] ?? 0, step: null, events: wait.events ?? [] });
      continue;
    }
    // An agent node's approval: nothing in flight (its steps are done), a person decides.
    if (leaf.key === 'approval' && wait?.kind === 'agent' && wait.key) {
      const step = s.context?.agents?.[wait.key]?.decisions ?? 0;
      waiting.push({ node: prefix + wait.key, execution: counts[wait.key] ?? 0, step, events: wait.events ?? [], agent: wait.name ?? wait.key });
      continue;
    }
    const own = leaf.meta?.junjo;
    const subflow = own?.kind === 'subflow' ? own.key : undefined;
    const child = subflow ? (s.children?.[subflow]?.getSnapshot?.() as SnapshotLike | undefined) : undefined;
    // A subflow is idle when its own run is; anything else active (a node, a fan-out) is work.
    if (!child || !scan(child, `${prefix}${subflow}#${counts[subflow!] ?? 0}.`, waiting)) idle = false;
  }
  return idle;
}

/**
 * Whether the wait an event was handed to (`node`, `execution`, `step`, as in Waiting) got
 * past waiting in `snapshot`, so the event was applied: it, or a subflow execution it is in,
 * was left (its count is higher, or the subflow ended), or it is reached and, a waitFor, not
 * waiting, or, an agent, took more decisions than `step` (it runs the call, or waits at its
 * next approval).
 */
export function gotPast(snapshot: unknown, node: string, execution: number, step: number | null, waiting: readonly Waiting[]): boolean {
  const parts = node.split('.');
  let s = snapshot as SnapshotLike;
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    const [key, at] = last ? [part, execution] : [part.slice(0, part.lastIndexOf('#')), Number(part.slice(part.lastIndexOf('#') + 1))];
    const reached = s.context?.executionCounts?.[key] ?? 0;
    if (reached !== at) return reached > at;
    if (last) {
      if (step === null) return !waiting.some((w) => same(w, { node, execution, step }));
      // An agent is not waiting before its approval too (its model request): only a decision
      // taken says so. No record: the node was left.
      const record = s.context?.agents?.[key];
      return !record || (record.decisions ?? 0) > step;
    }
    const child = s.children?.[key]?.getSnapshot?.() as SnapshotLike | undefined;
    if (!child || child.status !== 'active') return true;
    s = child;
  }
  return false;
}

const same = (a: Pick<Waiting, 'node' | 'execution' | 'step'>, b: Pick<Waiting, 'node' | 'execution' | 'step'>) =>
  a.node === b.node && a.execution === b.execution && a.step === b.step;

/** Whether `wait` takes `event`: it waits for its type, and an agent only a decision not naming another node. */
const takes = (wait: Waiting, event: RunEvent) =>
  wait.events.includes(event.type) && (wait.agent === undefined || typeof event.node !== 'string' || event.node === wait.agent);

/** The event table of one queue's schema. */
export class RunEvents {
  readonly table: string;
  constructor(
    readonly pool: PG.Pool,
    schema: string,
  ) {
    this.table = `"${schema}".junjo_run_events`;
  }

  /** Creates the table, in the caller's transaction (RunQueue.start's, under its lock). */
  async create(client: PG.PoolClient): Promise<void> {
    await client.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
      run_id text NOT NULL,
      seq integer NOT NULL,
      event jsonb NOT NULL,
      sent_at timestamptz NOT NULL DEFAULT now(),
      target_node text,
      target_execution integer,
      applied_at timestamptz,
      outcome text,
      PRIMARY KEY (run_id, seq)
    )`);
    // Tables made before agents' approvals parked lack it.
    await client.query(`ALTER TABLE ${this.table} ADD COLUMN IF NOT EXISTS target_step integer`);
  }

  /** Stores the event as the run's next one, in the caller's transaction (the run's row is locked by it). */
  async insert(client: PG.PoolClient, runId: string, event: RunEvent): Promise<number> {
    const { rows } = await client.query<{ seq: number }>(
      `INSERT INTO ${this.table} (run_id, seq, event)
       SELECT $1, coalesce(max(seq), 0) + 1, $2 FROM ${this.table} WHERE run_id = $1 RETURNING seq`,
      [runId, JSON.stringify(event)],
    );
    return rows[0]!.seq;
  }

  /** The run's events not yet applied, in the order sent. */
  async pending(runId: string, after = 0): Promise<EventRow[]> {
    const { rows } = await this.pool.query<EventRow>(
      `SELECT seq, event, target_node, target_execution, target_step FROM ${this.table} WHERE run_id = $1 AND applied_at IS NULL AND seq > $2 ORDER BY seq`,
      [runId, after],
    );
    return rows;
  }

  /**
   * Whether an event waits that no worker handed over yet (sent while the run parked). One
   * handed over is settled by the next worker to restore the run, or at its end: a parked run
   * is not resumed just for that.
   */
  async hasPending(runId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM ${this.table} WHERE run_id = $1 AND applied_at IS NULL AND target_node IS NULL LIMIT 1`, [runId]);
    return !!rowCount;
  }

  async target(runId: string, seq: number, to: Waiting): Promise<void> {
    await this.pool.query(`UPDATE ${this.table} SET target_node = $3, target_execution = $4, target_step = $5 WHERE run_id = $1 AND seq = $2`, [
      runId,
      seq,
      to.node,
      to.execution,
      to.step,
    ]);
  }

  async settle(runId: string, seqs: number[], outcome: string): Promise<void> {
    if (!seqs.length) return;
    await this.pool.query(`UPDATE ${this.table} SET applied_at = now(), outcome = $3 WHERE run_id = $1 AND seq = ANY($2) AND applied_at IS NULL`, [runId, seqs, outcome]);
  }

  /** The run ended: its events handed over are applied (the end is checkpointed); the others never will be. */
  async ended(runId: string, how: string): Promise<void> {
    await this.pool.query(
      `UPDATE ${this.table} SET applied_at = now(), outcome = CASE WHEN target_node IS NULL THEN $2 ELSE 'applied' END WHERE run_id = $1 AND applied_at IS NULL`,
      [runId, `not applied: the run ${how} first`],
    );
  }
}

/**
 * One run's delivery of its events on a worker: an inspection observer of the run's actor
 * system. After each step of any actor of the run (a subflow's own steps too) it hands the next
 * pending event to a wait that takes it (see `takes`), or, when the run is parked and no event
 * is pending, calls `park()`.
 */
export class Mailbox {
  #actor: AnyActorRef | undefined;
  #pending: EventRow[] = [];
  #lastSeq = 0;
  #busy = false;
  #again = false;
  #parked = false;
  /** Counts the steps of the run's actors: unchanged across an await, nothing moved meanwhile. */
  #steps = 0;
  #loaded: Promise<void> | undefined;
  /** A failure (the database out of reach): the run is stopped with it. */
  onError: (error: unknown) => void = () => {};

  constructor(
    readonly events: RunEvents,
    readonly runId: string,
    readonly park: () => void,
  ) {}

  readonly inspect = (event: InspectionEvent): void => {
    if (event.type === '@xstate.actor' && event.actorRef.sessionId === event.rootId && !this.#actor) {
      const actor = (this.#actor = event.actorRef as AnyActorRef);
      // Once the actor is made (this event comes from its constructor). Until this mailbox hands
      // an event over, the run cannot get past a wait, so the snapshot then shows what the
      // checkpoint shows: which events a dead worker handed over were applied.
      this.#loaded = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#load(actor.getSnapshot()));
      this.#loaded.catch((err) => this.onError(err));
    }
    // Any actor of the run: a subflow reaching its wait changes its own snapshot, not the run's.
    if (event.type === '@xstate.snapshot') {
      this.#steps++;
      this.#schedule();
    }
  };

  async #load(snapshot: unknown): Promise<void> {
    const { waiting } = waitingOf(snapshot);
    const applied: number[] = [];
    for (const row of await this.events.pending(this.runId)) {
      this.#lastSeq = Math.max(this.#lastSeq, row.seq);
      if (row.target_node !== null && gotPast(snapshot, row.target_node, row.target_execution!, row.target_step, waiting)) {
        applied.push(row.seq);
        continue;
      }
      this.#pending.push(row);
    }
    await this.events.settle(this.runId, applied, 'applied');
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#loaded || this.#parked) return;
    if (this.#busy) return void (this.#again = true);
    this.#busy = true;
    // Out of XState's own processing of the step: the event is sent as the run's next one.
    setImmediate(() => {
      this.#step().then(
        () => {
          this.#busy = false;
          if (this.#again) {
            this.#again = false;
            this.#schedule();
          }
        },
        (err) => {
          this.#busy = false;
          this.onError(err);
        },
      );
    });
  }

  async #step(): Promise<void> {
    await this.#loaded;
    const actor = this.#actor!;
    for (;;) {
      const steps = this.#steps;
      const { waiting, parked } = waitingOf(actor.getSnapshot());
      if (!waiting.length) return;
      if (!this.#pending.length) {
        this.#pending = await this.events.pending(this.runId, this.#lastSeq);
        for (const row of this.#pending) this.#lastSeq = Math.max(this.#lastSeq, row.seq);
      }
      const next = this.#pending[0];
      if (!next) {
        if (parked && this.#steps === steps) {
          this.#parked = true;
          this.park();
        }
        return;
      }
      const to = waiting.find((w) => takes(w, next.event));
      if (!to) {
        if (!parked) return; // another branch is still running: it may reach a waitFor that takes it
        this.#pending.shift();
        const expected = [...new Set(waiting.flatMap((w) => w.events))].join(', ');
        const at = waiting.map((w) => w.node).join(', ');
        const why = expected.split(', ').includes(next.event.type)
          ? `no agent node '${String(next.event.node)}' waited for it (at ${at})`
          : `the run waited for ${expected} (at ${at}), not '${next.event.type}'`;
        await this.events.settle(this.runId, [next.seq], `ignored: ${why}`);
        continue;
      }
      // Recorded before it is handed over: a worker that restores the run knows where it went.
      await this.events.target(this.runId, next.seq, to);
      // Other branches may have moved meanwhile; what matters is that this wait still waits.
      if (this.#steps !== steps && !waitingOf(actor.getSnapshot()).waiting.some((w) => same(w, to))) continue;
      this.#pending.shift();
      // To the run: a subflow's state forwards the events its waits accept to the subflow's run.
      actor.send(next.event);
    }
  }
}
