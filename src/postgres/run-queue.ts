/**
 * `RunQueue`: durable runs spread over worker processes on many machines, with Postgres alone —
 * the checkpoints (PostgresCheckpointStore) and the jobs (pg-boss 10) in one database.
 *
 * How a run moves: `submit()` records the run (workflow, input) and enqueues its job in one
 * transaction, so a run is never recorded without a job or the reverse; a second submit of the
 * same runId finds the run and does nothing. A worker takes the job, claims the run's lease
 * (PostgresCheckpointStore leases, fenced), and completes the job at once: from then on the
 * lease, renewed while the run is active, is what says who runs it. So pg-boss's job expiry (it
 * has no heartbeat) never cuts a long node short. When a worker dies its leases lapse; every
 * live worker sweeps for runs that are unfinished with a lapsed lease and enqueues their job
 * again (pg-boss's `short` policy keeps one queued job per run), and the worker that takes it
 * resumes the run from its last checkpoint: completed nodes do not run again, nodes in flight
 * run again with `ctx.attempt` one higher.
 *
 * The OpenTelemetry context active at `submit()` is kept with the run and restored around it on
 * the worker (trace-context.ts).
 *
 * A run that fails for good, names an unknown workflow, or has a checkpoint of another graph
 * version is marked failed with its error and its job moved to the dead-letter queue
 * (`<queue>-dead`), kept for inspection, never retried.
 */
import {
  JunjoError,
  LeaseHeldError,
  LeaseLostError,
  RunParked,
  WorkflowCancelledError,
  errorToJSON,
  type ExecuteOptions,
  type ExecutionResult,
  type ResumeOptions,
  type Workflow,
  type WorkflowHooks,
} from '../index.js';
import type * as PG from 'pg';
import type { InspectionEvent } from 'xstate';
import type PgBossType from 'pg-boss';
import { optionalModule } from '../durable/optional-module.js';
import { PostgresCheckpointStore } from './checkpoint-store.js';
import { transaction } from './transaction.js';
import { Mailbox, RunEvents, type RunEvent } from './run-events.js';
import { currentTraceContext, withTraceContext, type TraceCarrier } from './trace-context.js';

/** What the queue needs of a workflow (any Workflow, whatever its input and store). */
export interface QueueWorkflow {
  readonly name: string;
  execute(input: never, options: ExecuteOptions): Promise<ExecutionResult<unknown>>;
  resume(runId: string, options: ResumeOptions): Promise<ExecutionResult<unknown>>;
}
type AnyWorkflow = QueueWorkflow;
type Start = (input: unknown, options: ExecuteOptions) => Promise<ExecutionResult<unknown>>;

export interface RunQueueOptions {
  /** The database of the checkpoints and the jobs. */
  connectionString: string;
  /** The workflows this queue runs, by name. */
  workflows: readonly AnyWorkflow[];
  /** The schema of the checkpoint and run tables (default `junjo`); pg-boss keeps its own (`pgboss`). */
  schema?: string;
  /** The pg-boss queue's name (default `junjo-runs`); its dead letters go to `<queue>-dead`. */
  queue?: string;
  /** How long a worker's lease on a run lasts unless renewed (default 30 000 ms). */
  leaseMs?: number;
}

export interface WorkOptions {
  /** How many runs this process executes at once (default 4). */
  concurrency?: number;
  hooks?: WorkflowHooks;
  inspect?: ExecuteOptions['inspect'];
}

/** What a run's job carries. */
interface JobData {
  runId: string;
  workflow: string;
}

/** `waiting`: parked at a waitFor or an agent's approval, held by no worker, until `send()` gives it an event. */
type RunState = 'queued' | 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled';

/** A run of the queue failed (for good), or was cancelled: `result()` rejects with it. */
export class RunFailedError extends JunjoError {
  override name = 'RunFailedError';
  constructor(
    readonly runId: string,
    readonly workflow: string,
    readonly status: 'failed' | 'cancelled',
    /** The run's error, as JSON (its name, message and details). */
    readonly error: unknown,
  ) {
    super(
      status === 'cancelled'
        ? `Run '${runId}' of workflow '${workflow}' was cancelled.`
        : `Run '${runId}' of workflow '${workflow}' failed: ${(error as { message?: string })?.message ?? String(error)}`,
    );
  }
}

export class RunQueue {
  readonly store: PostgresCheckpointStore;
  /** @internal The events sent to runs. */
  readonly events: RunEvents;
  readonly queue: string;
  readonly deadLetter: string;
  readonly leaseMs: number;
  readonly #workflows = new Map<string, AnyWorkflow>();
  readonly #boss: PgBossType;
  readonly #pool: PG.Pool;
  readonly #runs: string;
  #started: Promise<void> | undefined;

  constructor(options: RunQueueOptions) {
    for (const w of options.workflows) this.#workflows.set(w.name, w);
    this.queue = options.queue ?? 'junjo-runs';
    this.deadLetter = `${this.queue}-dead`;
    this.leaseMs = options.leaseMs ?? 30_000;
    const pg = optionalModule<typeof PG>('pg', 'pg@8', 'junjo-xstate/postgres');
    const PgBoss = optionalModule<typeof PgBossType>('pg-boss', 'pg-boss@10', 'junjo-xstate/postgres (RunQueue)');
    // A connection that cannot be made fails after 10 s rather than waiting for ever (a host gone).
    this.#pool = new pg.Pool({ connectionString: options.connectionString, max: 10, connectionTimeoutMillis: 10_000 });
    this.store = new PostgresCheckpointStore(this.#pool, options.schema ? { schema: options.schema } : {});
    this.#runs = `"${this.store.schema}".junjo_runs`;
    this.events = new RunEvents(this.#pool, this.store.schema);
    this.#boss = new PgBoss({ connectionString: options.connectionString, max: 4, supervise: true, schedule: false });
    // pg-boss reports a lost connection as an 'error' event; it reconnects by itself.
    this.#boss.on('error', () => {});
  }

  /** Creates the tables and queues (idempotent). Every other method waits for it. */
  start(): Promise<void> {
    this.#started ??= (async () => {
      await this.store.ready();
      await transaction(this.#pool, async (client) => {
        // Under the store's lock (src/postgres/checkpoint-store.ts): two processes starting at
        // once on a new schema would otherwise collide on Postgres's catalogs (a deadlock).
        await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`junjo-xstate:${this.store.schema}`]);
        await client.query(`CREATE TABLE IF NOT EXISTS ${this.#runs} (
          run_id text PRIMARY KEY,
          workflow text NOT NULL,
          input jsonb,
          status text NOT NULL,
          result jsonb,
          error jsonb,
          cancel_requested boolean NOT NULL DEFAULT false,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now()
        )`);
        // Added after the table's first version: a database made by an older junjo-xstate gets it too.
        await client.query(`ALTER TABLE ${this.#runs} ADD COLUMN IF NOT EXISTS trace_context jsonb`);
        await this.events.create(client);
      });
      await this.#boss.start();
      await this.#createQueues();
    })().catch((err) => {
      this.#started = undefined;
      throw err;
    });
    return this.#started;
  }

  /**
   * Creates the pg-boss queues that are missing. pg-boss's createQueue takes no lock: two
   * processes creating one queue at once deadlock (each holds a lock on its queue table the
   * other's partition needs), so this holds a session lock of its own around it.
   */
  async #createQueues(): Promise<void> {
    const client = await this.#pool.connect();
    const key = 'junjo-xstate:pg-boss queues';
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
      for (const name of [this.deadLetter, this.queue]) {
        if (await this.#boss.getQueue(name)) continue;
        await this.#boss
          .createQueue(name, {
            name,
            // One queued job per run: the sweeper may enqueue a run again and again.
            policy: 'short',
            retryLimit: 5,
            // Only the time from taking a job to claiming its lease: never a node's run time.
            expireInSeconds: Math.max(30, Math.ceil((this.leaseMs * 2) / 1000)),
            ...(name === this.queue ? { deadLetter: this.deadLetter } : {}),
          })
          .catch((err) => {
            // Created meanwhile by a process that does not take this lock (another pg-boss user).
            if (!/already exists|duplicate/i.test(String((err as Error)?.message))) throw err;
          });
      }
    } finally {
      const unlocked = await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).then(
        () => true,
        () => false,
      );
      // A connection that still holds the lock is closed, not pooled (closing lets it go).
      client.release(!unlocked);
    }
  }

  /**
   * Records a run and enqueues it, in one transaction. Idempotent on `runId`: a run id that is
   * already taken (by any workflow) is not submitted again; its id is returned.
   */
  async submit<I>(workflow: Workflow<I, never> | QueueWorkflow, input?: I, options: { runId?: string } = {}): Promise<string> {
    await this.start();
    if (!this.#workflows.has(workflow.name)) {
      throw new TypeError(`RunQueue: workflow '${workflow.name}' is not one of this queue's workflows (${[...this.#workflows.keys()].join(', ')}): add it to new RunQueue({ workflows })`);
    }
    const runId = options.runId ?? `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    await transaction(this.#pool, async (client) => {
      const { rowCount } = await client.query(
        `INSERT INTO ${this.#runs} (run_id, workflow, input, status, trace_context) VALUES ($1, $2, $3, 'queued', $4) ON CONFLICT (run_id) DO NOTHING`,
        [runId, workflow.name, input === undefined ? null : JSON.stringify(input), currentTraceContext()],
      );
      if (rowCount) await this.#enqueue(runId, workflow.name, client);
    });
    return runId;
  }

  /** Waits for the run to end: resolves with its result, or rejects with a RunFailedError. */
  async result<R = ExecutionResult<unknown>>(runId: string, options: { signal?: AbortSignal } = {}): Promise<R> {
    await this.start();
    for (;;) {
      const row = await this.#row(runId).catch(() => undefined);
      if (row === null) throw new TypeError(`RunQueue: there is no run '${runId}': submit it first`);
      if (row?.status === 'completed') return row.result as R;
      if (row && (row.status === 'failed' || row.status === 'cancelled')) throw new RunFailedError(runId, row.workflow, row.status, row.error);
      // Polled (a quarter second) so it survives a database restart; a LISTEN would not.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 250);
        options.signal?.addEventListener('abort', () => (clearTimeout(timer), reject(options.signal!.reason)), { once: true });
      });
    }
  }

  /**
   * Sends an event to a run (for its `waitFor` nodes and agents' approvals): stores it as the run's next event and
   * enqueues the run's job, in one transaction, so a worker hands it to the run — parked or
   * running, on any machine. Events to one run are applied in the order sent; one the run does
   * not wait for when it next waits is ignored (recorded so in the event's row). Resolves with
   * the event's sequence number; rejects for an unknown run or one that has ended.
   */
  async send(runId: string, event: RunEvent): Promise<number> {
    await this.start();
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string' || !event.type) {
      throw new TypeError(`RunQueue.send('${runId}', event): the event must be an object with a type, e.g. { type: 'approve' }`);
    }
    return transaction(this.#pool, async (client) => {
      const { rows } = await client.query<{ workflow: string; status: RunState }>(`SELECT workflow, status FROM ${this.#runs} WHERE run_id = $1 FOR UPDATE`, [runId]);
      const run = rows[0];
      if (!run) throw new TypeError(`RunQueue.send: there is no run '${runId}' in schema '${this.store.schema}': submit it first (or check the runId and the schema option)`);
      if (run.status === 'completed' || run.status === 'failed' || run.status === 'cancelled') {
        throw new TypeError(`RunQueue.send: run '${runId}' of workflow '${run.workflow}' has ${run.status === 'completed' ? 'completed' : run.status === 'failed' ? 'failed' : 'been cancelled'}, so event '${event.type}' can never be applied: send events to runs that wait`);
      }
      const seq = await this.events.insert(client, runId, event);
      await this.#enqueue(runId, run.workflow, client);
      return seq;
    });
  }

  /** The run's status: queued, running, waiting, completed, failed or cancelled; undefined if unknown. */
  async status(runId: string): Promise<RunState | undefined> {
    await this.start();
    return (await this.#row(runId))?.status;
  }

  /** Cancels the run: a queued or waiting run never goes on; a running one is stopped by its worker within a sweep. */
  async cancel(runId: string): Promise<void> {
    await this.start();
    await this.#pool.query(
      `UPDATE ${this.#runs} SET cancel_requested = true,
         status = CASE WHEN status IN ('queued', 'waiting') THEN 'cancelled' ELSE status END, updated_at = now()
       WHERE run_id = $1 AND status IN ('queued', 'running', 'waiting')`,
      [runId],
    );
  }

  /** Starts executing runs in this process. `worker.stop()` drains: see Worker. */
  async work(options: WorkOptions = {}): Promise<Worker> {
    await this.start();
    const worker = new Worker(this, options);
    await worker.start();
    return worker;
  }

  /** Stops pg-boss and the pool (after the workers were stopped). */
  async close(): Promise<void> {
    await this.#boss.stop({ graceful: false, wait: true }).catch(() => {});
    await this.#pool.end().catch(() => {});
  }

  // --- for Worker ---------------------------------------------------------------------------

  /** @internal */
  get boss(): PgBossType {
    return this.#boss;
  }

  /** @internal */
  workflow(name: string): AnyWorkflow | undefined {
    return this.#workflows.get(name);
  }

  /** @internal */
  async row(runId: string) {
    return this.#row(runId);
  }

  /** @internal Records how the run ended. */
  async setStatus(runId: string, status: RunState, fields: { result?: unknown; error?: unknown } = {}): Promise<void> {
    await this.#pool.query(`UPDATE ${this.#runs} SET status = $2, result = $3, error = $4, updated_at = now() WHERE run_id = $1`, [
      runId,
      status,
      fields.result === undefined ? null : JSON.stringify(fields.result),
      fields.error === undefined ? null : JSON.stringify(errorToJSON(fields.error)),
    ]);
  }

  /** @internal Enqueues the run's job (deduplicated: one queued job per run). */
  async enqueue(runId: string, workflow: string): Promise<void> {
    await this.#enqueue(runId, workflow);
  }

  /**
   * @internal Runs whose worker is gone: unfinished (or waiting with an event to apply), lease
   * lapsed (or never taken), not touched for a lease time, and with no job waiting to be taken.
   * Without that last test, runs queued behind a backlog longer than a lease were sent again by
   * every worker's every sweep (up to 100 transactions each), loading the database most when it
   * was busiest; their waiting job (pg-boss's `pgboss.job`, the `short` policy's one queued job
   * per run, found by its unique index) already brings them to a worker.
   */
  async orphans(): Promise<JobData[]> {
    const { rows } = await this.#pool.query<{ run_id: string; workflow: string }>(
      `SELECT r.run_id, r.workflow FROM ${this.#runs} r LEFT JOIN ${this.store.leases} l ON l.run_id = r.run_id
       WHERE (r.status IN ('queued', 'running')
              OR (r.status = 'waiting' AND EXISTS (SELECT 1 FROM ${this.events.table} e WHERE e.run_id = r.run_id AND e.applied_at IS NULL)))
         AND NOT r.cancel_requested
         AND (l.run_id IS NULL OR l.expires_at <= (extract(epoch from clock_timestamp()) * 1000)::bigint)
         AND r.updated_at < now() - make_interval(secs => $1)
         AND NOT EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name = $2 AND COALESCE(j.singleton_key, '') = r.run_id AND j.state = 'created' AND j.policy = 'short')
       LIMIT 100`,
      [this.leaseMs / 1000, this.queue],
    );
    return rows.map((r) => ({ runId: r.run_id, workflow: r.workflow }));
  }

  /** @internal Which of these runs were asked to cancel. */
  async cancelRequested(runIds: string[]): Promise<Set<string>> {
    if (!runIds.length) return new Set();
    const { rows } = await this.#pool.query<{ run_id: string }>(`SELECT run_id FROM ${this.#runs} WHERE run_id = ANY($1) AND cancel_requested`, [runIds]);
    return new Set(rows.map((r) => r.run_id));
  }

  async #enqueue(runId: string, workflow: string, client?: PG.PoolClient): Promise<void> {
    const data: JobData = { runId, workflow };
    const db = client ? { db: { executeSql: (text: string, values: unknown[]) => client.query(text, values) } } : {};
    await this.#boss.send(this.queue, data, { singletonKey: runId, ...db });
  }

  async #row(runId: string) {
    const { rows } = await this.#pool.query<{ workflow: string; status: RunState; input: unknown; result: unknown; error: unknown; trace_context: TraceCarrier | null }>(
      `SELECT workflow, status, input, result, error, trace_context FROM ${this.#runs} WHERE run_id = $1`,
      [runId],
    );
    return rows[0] ?? null;
  }

}

/**
 * One process's share of the work: `concurrency` pg-boss workers, each executing one run at a
 * time, and a sweeper that re-enqueues runs whose worker died.
 */
export class Worker {
  readonly #queue: RunQueue;
  readonly #options: WorkOptions;
  readonly #running = new Map<string, AbortController>();
  readonly #draining = new Set<string>();
  readonly #slots: Promise<void>[] = [];
  #wake: (() => void)[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopping = false;

  constructor(queue: RunQueue, options: WorkOptions) {
    this.#queue = queue;
    this.#options = options;
  }

  /** The runs this worker is executing now. */
  get active(): string[] {
    return [...this.#running.keys()];
  }

  async start(): Promise<void> {
    for (let i = 0; i < (this.#options.concurrency ?? 4); i++) this.#slots.push(this.#slot());
    // Every half second at most: a dead worker's run is enqueued again within that of its lease lapsing.
    this.#timer = setInterval(() => void this.#tick().catch(() => {}), Math.max(200, Math.min(500, Math.floor(this.#queue.leaseMs / 3))));
  }

  /** One run at a time: take a job, run it to its end (or its release), take the next. */
  async #slot(): Promise<void> {
    const { boss, queue } = { boss: this.#queue.boss, queue: this.#queue.queue };
    while (!this.#stopping) {
      const [job] = await boss.fetch<JobData>(queue, { batchSize: 1 }).catch(() => []);
      if (!job) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 250);
          this.#wake.push(() => (clearTimeout(timer), resolve()));
        });
        continue;
      }
      await this.#handle(job).catch(() => {});
    }
  }

  /**
   * Stops taking jobs, stops each running run at its next step (its checkpoint is written and
   * its lease released), enqueues those runs again so that other workers take them at once, and
   * resolves. `{ now: true }`: the same, without waiting for the runs to stop.
   *
   * Bounded: with the database out of reach the runs cannot write their checkpoints, so it
   * resolves after `leaseMs` at the latest; the runs not stopped by then are taken over by other
   * workers once their leases lapse, as a dead worker's are.
   */
  async stop(options: { now?: boolean } = {}): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    for (const wake of this.#wake.splice(0)) wake();
    for (const [runId, controller] of this.#running) {
      this.#draining.add(runId);
      controller.abort(new Error('the worker is stopping'));
    }
    if (options.now) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#queue.leaseMs)));
    await Promise.race([Promise.all(this.#slots), bound]);
    clearTimeout(timer);
  }

  async #tick(): Promise<void> {
    if (this.#stopping) return;
    const cancel = await this.#queue.cancelRequested(this.active);
    for (const runId of cancel) this.#running.get(runId)?.abort(new Error('cancelled with queue.cancel()'));
    for (const orphan of await this.#queue.orphans()) await this.#queue.enqueue(orphan.runId, orphan.workflow);
  }

  async #handle(job: PgBossType.Job<JobData>): Promise<void> {
    const queue = this.#queue;
    const { runId, workflow: name } = job.data;
    const dead = async (error: unknown) => {
      await queue.setStatus(runId, 'failed', { error });
      await queue.boss.send(queue.deadLetter, { ...job.data, error: errorToJSON(error) });
    };
    const workflow = queue.workflow(name);
    if (!workflow) {
      await queue.boss.complete(queue.queue, job.id);
      await dead(
        new TypeError(`Run '${runId}' names workflow '${name}', which this worker does not have: start the worker with that workflow in new RunQueue({ workflows }). Moved to '${queue.deadLetter}'.`),
      );
      return;
    }
    // Done with the job at once: from here the run's lease says who runs it, so pg-boss's expiry
    // of active jobs never meets a long node. Dying before the claim leaves the run without a
    // lease or a job, which the sweeper of any live worker enqueues again.
    await queue.boss.complete(queue.queue, job.id);
    const row = await queue.row(runId);
    if (!row) {
      await queue.boss.send(queue.deadLetter, {
        ...job.data,
        error: { message: `Run '${runId}' has a job but no record in schema '${queue.store.schema}': the process that submitted it uses another schema than this worker; give both the same schema option.` },
      });
      return;
    }
    if (row.status === 'completed' || row.status === 'failed' || row.status === 'cancelled') return;
    if (this.#stopping) return void (await queue.enqueue(runId, name));
    const controller = new AbortController();
    this.#running.set(runId, controller);
    let parked = false;
    const mailbox = new Mailbox(queue.events, runId, () => {
      parked = true;
      controller.abort(new RunParked());
    });
    mailbox.onError = (err) => controller.abort(err);
    const inspect = both(this.#options.inspect, mailbox.inspect);
    const options = { checkpoint: queue.store, lease: { ms: queue.leaseMs }, signal: controller.signal, hooks: this.#options.hooks, inspect };
    try {
      // The job is done once the run is claimed: the lease, not the job, says who runs it.
      const checkpointed = await queue.store.get(runId);
      // Inside the submitter's trace context: the run's spans are children of its span.
      const run = withTraceContext(row.trace_context, () =>
        checkpointed ? workflow.resume(runId, options) : (workflow.execute as Start).call(workflow, row.input ?? undefined, { ...options, runId }),
      );
      // Awaited below, after the status write: handled now, so a run that ends (or parks) while
      // that write is in flight is not an unhandled rejection, which would end the process.
      run.catch(() => {});
      await queue.setStatus(runId, 'running');
      const result = await run;
      await queue.setStatus(runId, 'completed', { result });
      await queue.events.ended(runId, 'completed');
    } catch (err) {
      if (err instanceof LeaseHeldError || err instanceof LeaseLostError) return; // another worker runs it
      if (err instanceof WorkflowCancelledError) {
        if (parked) {
          // Checkpointed (as `waiting`) and its lease let go: an event sent meanwhile found no worker to take it.
          await queue.setStatus(runId, 'waiting');
          if (await queue.events.hasPending(runId)) await queue.enqueue(runId, name);
        } else if (this.#draining.has(runId)) await queue.enqueue(runId, name);
        else await queue.setStatus(runId, 'cancelled', { error: err });
        return;
      }
      const permanent = (err as { name?: string }).name === 'WorkflowExecutionError' || ((err as { name?: string }).name === 'CheckpointError' && (err as { problem?: string }).problem !== 'write');
      if (permanent) {
        await dead(err);
        await queue.events.ended(runId, 'failed');
      }
      // Anything else (the database out of reach): the sweeper enqueues the run again once its lease lapses.
    } finally {
      this.#running.delete(runId);
      this.#draining.delete(runId);
    }
  }
}

/** One inspection observer that feeds both (the worker's own and the user's). */
function both(a: WorkOptions['inspect'], b: (event: InspectionEvent) => void): (event: InspectionEvent) => void {
  if (!a) return b;
  return (event) => {
    b(event);
    if (typeof a === 'function') a(event);
    else a.next?.(event);
  };
}
