/**
 * The UI's picture of everything inspected so far, built from the server's envelopes: actors
 * and their latest snapshots, runs (root actors), each run's event log, and store timelines
 * (every snapshot whose `commit.seq` grew). Views read it; only `ingest` writes it.
 *
 * `fork()` copies a model cheaply for time travel (replay.ts keeps copies as keyframes): the
 * copies share their actor records, and whichever model changes a shared record copies it
 * first, so a keyframe of a 10,000-actor run costs the records changed since the last one.
 */
import { DISCONNECTED_EVENT_TYPE, REPLACED_EVENT_TYPE, type Envelope, type WireEvent, type WireSnapshot } from '../protocol.js';
import { LOST_EVENT_TYPE } from '../send-queue.js';
import { DELTA_MARKER } from '../store-deltas.js';
import { applyPatches } from './patches.js';

// The library's own types: what its compiled machines carry in `meta` (types only, no code).
import type { StateMeta } from '../../src/compile/machine-types.js';
import type { GraphJSON } from '../../src/graph/to-json.js';
export type { GraphJSON };

/** The junjo-xstate part of a compiled state's or machine's `meta`. */
export type JunjoMeta = StateMeta;

/** A state node of a machine definition, as `@statelyai/inspect` serializes the config. */
export interface StateConfig {
  id?: string;
  type?: string;
  initial?: string;
  states?: Record<string, StateConfig>;
  on?: Record<string, unknown>;
  always?: unknown;
  after?: Record<string, unknown>;
  onDone?: unknown;
  invoke?: unknown;
  meta?: { junjo?: JunjoMeta; [key: string]: unknown };
  context?: unknown;
}

export interface ActorRecord {
  key: string;
  source: string;
  sessionId: string;
  /** The actor's id (a node's key, `store`, or the machine's id for a root). */
  name: string;
  parentKey: string | undefined;
  rootKey: string;
  definition: StateConfig | undefined;
  junjo: JunjoMeta | undefined;
  snapshot: WireSnapshot | undefined;
  /** Dotted paths of every state this actor has been in (for machines). */
  visited: Set<string>;
  children: string[];
  createdAt: number;
  /** Its items (children named `<name>[i]`, as a RunMap's fan-out names them) by state, if it has any. */
  items: ItemTally | undefined;
  /** How this actor is counted in its parent's `items`. */
  itemState: ItemState | undefined;
  /** For a machine: the transition it is in, if it received an event it has not reported the state after. */
  transition: Transition | undefined;
  /** The model that may change this record in place; any other copies it first. */
  owner: object;
}

/**
 * A machine between an event and the snapshot it reports after acting on it: XState sends the
 * snapshot only once the whole transition is over, and a transition that starts a RunMap's
 * fan-out starts all its items (and their store commits happen) before it.
 */
export interface Transition {
  /** The event it is acting on. */
  event: string;
  /** The names of the children it started since (each the id of the state's `invoke` that started it). */
  started: string[];
}

/** The type of the event a node's `ctx.emit` reaches an inspector as, on the run actor (src/compile/node-emit.ts). */
export const EMIT_EVENT_TYPE = 'junjo.emit';
/** Events an actor gets in an inspector without acting on them (emitted values, the inspector's own notes): no snapshot follows them. */
const notActedOn = (type: string) => type === EMIT_EVENT_TYPE || type.startsWith('junjo.inspector.');

/** An item's state, from its own snapshot: still running, or how it ended. */
export type ItemState = 'running' | 'done' | 'failed' | 'cancelled';

/** A fan-out's items by state, kept as their snapshots arrive, so counting costs nothing. */
export interface ItemTally extends Record<ItemState, number> {
  /** Items whose actor has started, whatever their state. */
  started: number;
}

const ITEM_STATE: Record<string, ItemState> = { active: 'running', done: 'done', error: 'failed', stopped: 'cancelled' };
export const itemStateOf = (snapshot: WireSnapshot | undefined): ItemState => ITEM_STATE[snapshot?.status ?? 'active'] ?? 'running';

export interface EventRecord {
  index: number;
  time: number;
  actorKey: string;
  type: string;
  event: Record<string, unknown>;
  /** Who sent it: as XState reported it, or for a junjo store's update, the node that made it. */
  sourceKey: string | undefined;
}

export interface Patch {
  op: 'add' | 'replace' | 'remove';
  path: (string | number)[];
  value?: unknown;
}

export interface CommitRecord {
  /** How many of its run's envelopes had arrived when this commit did (for time travel). */
  at: number;
  seq: number;
  action: string;
  node: string | null;
  patches: Patch[];
  /** The committed state right after this commit. */
  state: unknown;
  time: number;
}

export interface StoreTimeline {
  actorKey: string;
  /** The state before the first commit, when the store's first snapshot was seen. */
  initial: unknown;
  commits: CommitRecord[];
}

export interface RunRecord {
  key: string;
  source: string;
  startedAt: number;
  events: EventRecord[];
  /** Every actor of the run, in creation order. */
  actors: string[];
  /** Events the app had to drop before its inspector connected, as it reported them. */
  lost: number;
  /** The server saw the app's connection close before the run ended. */
  disconnected: boolean;
  /** The run's envelopes as they came, so the run can be replayed up to any commit (a replayed model keeps none). */
  envelopes: Envelope[];
  /** How many envelopes of the run arrived. */
  received: number;
}

interface StoreCommit {
  seq: number;
  action: string;
  node: string | null;
  patches: Patch[];
}

function storeCommitOf(snapshot: WireSnapshot | undefined): StoreCommit | null | undefined {
  if (!snapshot || !('commit' in snapshot)) return undefined;
  const commit = snapshot.commit as StoreCommit | null;
  if (commit === null) return null;
  return typeof commit?.seq === 'number' && Array.isArray(commit.patches) ? commit : undefined;
}

/** Dotted paths of every state in a state value: { a: { b: 'c' } } → a, a.b, a.b.c. */
export function activePaths(value: unknown, prefix = '', into = new Set<string>()): Set<string> {
  if (typeof value === 'string') into.add(prefix + value);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into.add(prefix + k);
      activePaths(v, `${prefix}${k}.`, into);
    }
  }
  return into;
}

export class Model {
  readonly actors = new Map<string, ActorRecord>();
  readonly runs = new Map<string, RunRecord>();
  readonly timelines = new Map<string, StoreTimeline>();
  eventCount = 0;
  /** Bumped on every change, so views can tell whether to redraw. */
  version = 0;
  /** Marks the actor records this model may change in place (see `fork`). */
  #owner: object = {};
  /** The latest child of each name, by `parent key NUL name`: a fan-out has 10,000 children. */
  #named = new Map<string, string>();

  /** A replay's model keeps no envelopes: the live model has them. */
  constructor(readonly keepEnvelopes = true) {}

  /**
   * A copy that evolves on its own: the actor records are shared until either model changes
   * one, runs and timelines (a few per run) are copied, their arrays sliced.
   */
  fork(): Model {
    const copy = new Model(this.keepEnvelopes);
    // Neither model owns the shared records any more.
    this.#owner = {};
    for (const [key, actor] of this.actors) copy.actors.set(key, actor);
    for (const [key, run] of this.runs) copy.runs.set(key, { ...run, events: run.events.slice(), actors: run.actors.slice(), envelopes: run.envelopes.slice() });
    for (const [key, timeline] of this.timelines) copy.timelines.set(key, { ...timeline, commits: timeline.commits.slice() });
    copy.#named = new Map(this.#named);
    copy.eventCount = this.eventCount;
    copy.version = this.version;
    return copy;
  }

  /** The record of `key` that this model may change, copied first if it is shared. */
  #own(actor: ActorRecord): ActorRecord {
    if (actor.owner === this.#owner) return actor;
    const own: ActorRecord = {
      ...actor,
      visited: new Set(actor.visited),
      children: actor.children.slice(),
      items: actor.items && { ...actor.items },
      transition: actor.transition && { ...actor.transition, started: actor.transition.started.slice() },
      owner: this.#owner,
    };
    this.actors.set(actor.key, own);
    return own;
  }

  ingest(envelope: Envelope): void {
    const { source, event } = envelope;
    this.version++;
    // The run is sent again whole (a trace that more spans joined): what came before goes.
    if (event.event?.type === REPLACED_EVENT_TYPE) return this.#forget(`${source} ${event.sessionId}`);
    this.eventCount++;
    const key = `${source} ${event.sessionId}`;
    const time = Number(event.createdAt) || Date.now();
    if (event.type === '@xstate.actor') this.#actor(source, key, event, time);
    else if (event.type === '@xstate.snapshot') this.#snapshot(key, event, time);
    else this.#event(source, key, event, time);
    const actor = this.actors.get(key);
    const run = actor ? this.runs.get(actor.rootKey) : undefined;
    if (!run) return;
    run.received++;
    if (this.keepEnvelopes) run.envelopes.push(envelope);
  }

  #ensureActor(source: string, key: string, event: WireEvent, time: number): ActorRecord {
    let actor = this.actors.get(key);
    if (actor) return this.#own(actor);
    const rootKey = event.rootId ? `${source} ${event.rootId}` : key;
    actor = {
      key,
      source,
      sessionId: event.sessionId,
      name: event.sessionId,
      parentKey: undefined,
      rootKey,
      definition: undefined,
      junjo: undefined,
      snapshot: undefined,
      visited: new Set(),
      children: [],
      createdAt: time,
      items: undefined,
      itemState: undefined,
      transition: undefined,
      owner: this.#owner,
    };
    this.actors.set(key, actor);
    let run = this.runs.get(rootKey);
    if (!run) {
      run = { key: rootKey, source, startedAt: time, events: [], actors: [], lost: 0, disconnected: false, envelopes: [], received: 0 };
      this.runs.set(rootKey, run);
    }
    run.actors.push(key);
    return actor;
  }

  #actor(source: string, key: string, event: WireEvent, time: number): void {
    const actor = this.#ensureActor(source, key, event, time);
    actor.name = event.name ?? actor.name;
    if (event.parentId) {
      actor.parentKey = `${source} ${event.parentId}`;
      const found = this.actors.get(actor.parentKey);
      if (found) {
        const parent = this.#own(found);
        parent.children.push(key);
        parent.transition?.started.push(actor.name);
      }
      this.#named.set(`${actor.parentKey}\u0000${actor.name}`, key);
    }
    if (event.definition) {
      try {
        actor.definition = JSON.parse(event.definition) as StateConfig;
        actor.junjo = actor.definition?.meta?.junjo;
      } catch {
        actor.definition = undefined;
      }
    }
    // The actor event's snapshot is read when it is sent, possibly later than the events
    // around it, so it only stands in until the first real snapshot arrives.
    actor.snapshot ??= event.snapshot;
    this.#tally(actor);
  }

  /** Counts `actor` in its parent's items under its current state, if it is one of them. */
  #tally(actor: ActorRecord): void {
    const found = actor.parentKey ? this.actors.get(actor.parentKey) : undefined;
    if (!found || !actor.name.startsWith(`${found.name}[`)) return;
    const state = itemStateOf(actor.snapshot);
    if (actor.itemState === state) return;
    const parent = this.#own(found);
    const tally = (parent.items ??= { started: 0, running: 0, done: 0, failed: 0, cancelled: 0 });
    if (actor.itemState) tally[actor.itemState]--;
    else tally.started++;
    tally[state]++;
    actor.itemState = state;
  }

  /**
   * A store snapshot sent as a delta (store-deltas.ts) carries patches, not the state: the
   * state is the previous commit's with them applied (patches.ts), sharing what they do not
   * touch, so 10,000 commits of a large state cost little more than one. Without a previous
   * state (its events were lost) it stays unknown until the next whole snapshot.
   */
  #rebuilt(key: string, snapshot: WireSnapshot | undefined): WireSnapshot | undefined {
    if (!snapshot || snapshot[DELTA_MARKER] !== true) return snapshot;
    const timeline = this.timelines.get(key);
    const previous = timeline?.commits.at(-1)?.state ?? timeline?.initial;
    const commit = storeCommitOf(snapshot);
    let context: unknown;
    if (previous !== undefined && commit) {
      try {
        context = applyPatches(previous, commit.patches);
      } catch {
        context = undefined;
      }
    }
    return { ...snapshot, context };
  }

  #snapshot(key: string, event: WireEvent, time: number): void {
    const actor = this.#ensureActor(key.split(' ')[0]!, key, event, time);
    const snapshot = this.#rebuilt(key, event.snapshot);
    actor.snapshot = snapshot;
    actor.transition = undefined;
    activePaths(snapshot?.value, '', actor.visited);
    this.#tally(actor);
    const commit = storeCommitOf(snapshot);
    if (commit === undefined) return;
    let timeline = this.timelines.get(key);
    if (!timeline) {
      timeline = { actorKey: key, initial: commit === null ? snapshot?.context : undefined, commits: [] };
      this.timelines.set(key, timeline);
    }
    const last = timeline.commits.at(-1)?.seq ?? 0;
    if (commit && commit.seq > last) {
      const run = this.runs.get(actor.rootKey);
      // This snapshot is counted in the run's envelopes right after, hence the + 1.
      timeline.commits.push({ ...commit, state: snapshot?.context, time, at: (run?.received ?? 0) + 1 });
    }
  }

  #event(source: string, key: string, event: WireEvent, time: number): void {
    const actor = this.actors.get(key) ?? this.#ensureActor(source, key, event, time);
    const run = this.runs.get(actor.rootKey);
    if (!run || !event.event) return;
    const type = event.event.type;
    if (type === LOST_EVENT_TYPE) run.lost += Number(event.event.count) || 0;
    if (type === DISCONNECTED_EVENT_TYPE) run.disconnected = true;
    // A running machine acts on the event now and reports its state once the transition is
    // over; one that has ended acts on nothing.
    if (actor.definition?.states && (actor.snapshot?.status ?? 'active') === 'active' && !notActedOn(type)) this.#own(actor).transition = { event: type, started: [] };
    // XState sends an actor's last snapshot only after its parent has acted on its end (and a
    // fan-out's items' after the fan-out started all of them): its own resolve, or its
    // parent's done event, says it ended when it did.
    if (type.startsWith('xstate.')) {
      if (type === 'xstate.promise.resolve' || type === 'xstate.promise.reject') this.#ended(actor, type === 'xstate.promise.resolve' ? 'done' : 'error');
      else {
        const ended = /^xstate\.(done|error)\.actor\.(.+)$/.exec(type);
        const child = ended ? this.childNamed(actor, ended[2]!) : undefined;
        if (child) this.#ended(child, ended![1] === 'done' ? 'done' : 'error');
      }
    }
    run.events.push({
      index: run.events.length,
      time,
      actorKey: key,
      type: event.event.type,
      event: event.event,
      sourceKey: event.sourceId ? `${source} ${event.sourceId}` : this.#storeSender(actor, event.event)?.key,
    });
  }

  /**
   * The node that sent a junjo store an update. A node calls its store from inside its own
   * promise, so XState knows no sender, but the update names its node (`node`: `Start`, or
   * `PerItem[3]` for a RunMap's item), and that node is a child of the store's parent (the
   * run's or subflow's machine) or an item of one of its children.
   */
  #storeSender(store: ActorRecord, event: Record<string, unknown>): ActorRecord | undefined {
    const node = event.node;
    if (typeof node !== 'string' || store.name !== 'store' || store.parentKey === undefined || storeCommitOf(store.snapshot) === undefined) return undefined;
    const parent = this.actors.get(store.parentKey);
    if (!parent) return undefined;
    const item = /^(.+)\[\d+\]$/.exec(node);
    const fanOut = item ? this.childNamed(parent, item[1]!) : undefined;
    return fanOut ? this.childNamed(fanOut, node) : this.childNamed(parent, node);
  }

  /** Drops a run and its actors: the server sends it again whole (REPLACED_EVENT_TYPE). */
  #forget(runKey: string): void {
    const run = this.runs.get(runKey);
    if (!run) return;
    const actors = new Set(run.actors);
    for (const key of actors) {
      this.actors.delete(key);
      this.timelines.delete(key);
    }
    for (const [name, key] of this.#named) if (actors.has(key)) this.#named.delete(name);
    this.runs.delete(runKey);
    this.eventCount -= run.envelopes.length;
  }

  /** Marks `actor` ended before its own snapshot says so (see #event); that snapshot replaces this one. */
  #ended(actor: ActorRecord, status: 'done' | 'error'): void {
    if (actor.snapshot && actor.snapshot.status !== 'active') return;
    const own = this.#own(actor);
    own.snapshot = { ...own.snapshot, status } as WireSnapshot;
    this.#tally(own);
  }

  /** The run's root actor. */
  root(run: RunRecord): ActorRecord | undefined {
    return this.actors.get(run.key);
  }

  /** The latest child of `parent` named `name` (a node may run many times). */
  childNamed(parent: ActorRecord, name: string): ActorRecord | undefined {
    const key = this.#named.get(`${parent.key}\u0000${name}`);
    return key === undefined ? undefined : this.actors.get(key);
  }
}

export type RunStatus = 'running' | 'done' | 'failed' | 'cancelled' | 'disconnected';

/**
 * A run's status. A stopped actor sends no snapshot of its end, so cancellation is read from
 * the run's store having stopped; a failing run is already shown failed while in `$failed`.
 */
export function runStatus(model: Model, run: RunRecord): RunStatus {
  const root = model.root(run);
  const snapshot = root?.snapshot;
  if (!root || !snapshot) return run.disconnected ? 'disconnected' : 'running';
  if (snapshot.status === 'done') return 'done';
  if (snapshot.status === 'error' || snapshot.value === '$failed') return 'failed';
  if (snapshot.status === 'stopped') return 'cancelled';
  const store = root.junjo ? model.childNamed(root, 'store') : undefined;
  if (store?.snapshot?.status === 'stopped') return 'cancelled';
  // Its app is gone: the run will never say how it ended.
  return run.disconnected ? 'disconnected' : 'running';
}
