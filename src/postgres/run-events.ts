/**
 * Events for runs of a RunQueue that wait (`waitFor`): kept in `<schema>.junjo_run_events`, one
 * row per event with a sequence number per run, and handed to the run by the worker that runs
 * it, one at a time in the order sent.
 *
 * Exactly once, without a transaction around the checkpoint: before an event is handed to the
 * run, its row records its target — the waitFor node and the execution of it that waits (its
 * count in `executionCounts`). A worker that restores the run reads, from the restored (so
 * checkpointed) snapshot, whether that execution got past waiting: then the event was applied
 * and is marked so; if the execution still waits, or was not reached yet, it is handed over
 * again. So an event applied but not yet checkpointed when a worker died is applied once.
 *
 * A run whose every active state is a waitFor that waits (nothing in flight) is parked: the
 * worker stops it at its checkpoint and lets its lease go, so no worker is held while it waits.
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
}

/** A waitFor execution that waits now. */
interface Waiting {
  node: string;
  execution: number;
  events: readonly string[];
}

interface StateNodeLike {
  key: string;
  type: string;
  parent?: { meta?: { junjo?: { kind?: string; key?: string; events?: readonly string[] } } };
}

/** The waitFor executions of a run's snapshot that wait, and whether nothing else is active. */
export function waitingOf(snapshot: unknown): { waiting: Waiting[]; parked: boolean } {
  const s = snapshot as { status?: string; _nodes?: StateNodeLike[]; context?: { executionCounts?: Record<string, number> } };
  if (s.status !== 'active' || !s._nodes) return { waiting: [], parked: false };
  const leaves = s._nodes.filter((n) => n.type === 'atomic' || n.type === 'final');
  const waiting: Waiting[] = [];
  for (const leaf of leaves) {
    const junjo = leaf.parent?.meta?.junjo;
    if (leaf.key !== 'waiting' || junjo?.kind !== 'waitForEvent' || !junjo.key) continue;
    waiting.push({ node: junjo.key, execution: s.context?.executionCounts?.[junjo.key] ?? 0, events: junjo.events ?? [] });
  }
  return { waiting, parked: waiting.length > 0 && waiting.length === leaves.length };
}

/** The event table of one queue's schema. */
export class RunEvents {
  readonly table: string;
  constructor(
    readonly pool: PG.Pool,
    schema: string,
  ) {
    this.table = `"${schema}".junjo_run_events`;
  }

  async create(): Promise<void> {
    await this.pool.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
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
      `SELECT seq, event, target_node, target_execution FROM ${this.table} WHERE run_id = $1 AND applied_at IS NULL AND seq > $2 ORDER BY seq`,
      [runId, after],
    );
    return rows;
  }

  async hasPending(runId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM ${this.table} WHERE run_id = $1 AND applied_at IS NULL LIMIT 1`, [runId]);
    return !!rowCount;
  }

  async target(runId: string, seq: number, to: Waiting): Promise<void> {
    await this.pool.query(`UPDATE ${this.table} SET target_node = $3, target_execution = $4 WHERE run_id = $1 AND seq = $2`, [runId, seq, to.node, to.execution]);
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
 * system. After each step of the run it hands the next pending event to a waitFor that waits
 * for its type, or, when the run is parked and no event is pending, calls `park()`.
 */
export class Mailbox {
  #actor: AnyActorRef | undefined;
  #pending: EventRow[] = [];
  #lastSeq = 0;
  #busy = false;
  #again = false;
  #parked = false;
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
    if (event.type === '@xstate.snapshot' && event.actorRef === this.#actor) this.#schedule();
  };

  async #load(snapshot: unknown): Promise<void> {
    const { waiting } = waitingOf(snapshot);
    const counts = (snapshot as { context?: { executionCounts?: Record<string, number> } }).context?.executionCounts ?? {};
    const applied: number[] = [];
    for (const row of await this.events.pending(this.runId)) {
      this.#lastSeq = Math.max(this.#lastSeq, row.seq);
      if (row.target_node !== null) {
        const reached = counts[row.target_node] ?? 0;
        const waits = waiting.some((w) => w.node === row.target_node && w.execution === row.target_execution);
        if (reached > row.target_execution! || (reached === row.target_execution && !waits)) {
          applied.push(row.seq);
          continue;
        }
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
      const snapshot = actor.getSnapshot();
      const { waiting, parked } = waitingOf(snapshot);
      if (!waiting.length) return;
      if (!this.#pending.length) {
        this.#pending = await this.events.pending(this.runId, this.#lastSeq);
        for (const row of this.#pending) this.#lastSeq = Math.max(this.#lastSeq, row.seq);
      }
      const next = this.#pending[0];
      if (!next) {
        if (parked && actor.getSnapshot() === snapshot) {
          this.#parked = true;
          this.park();
        }
        return;
      }
      const to = waiting.find((w) => w.events.includes(next.event.type));
      if (!to) {
        if (!parked) return; // another branch is still running: it may reach a waitFor that takes it
        this.#pending.shift();
        const expected = [...new Set(waiting.flatMap((w) => w.events))].join(', ');
        await this.events.settle(this.runId, [next.seq], `ignored: the run waited for ${expected} (at ${waiting.map((w) => w.node).join(', ')}), not '${next.event.type}'`);
        continue;
      }
      // Recorded before it is handed over: a worker that restores the run knows where it went.
      await this.events.target(this.runId, next.seq, to);
      if (actor.getSnapshot() !== snapshot) continue;
      this.#pending.shift();
      actor.send(next.event);
    }
  }
}
