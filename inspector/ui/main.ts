/**
 * The inspector UI: connects to the server, takes in every event, and draws the selected run:
 * its graph (or statechart), state, errors, store timeline and event log. It also receives
 * the events of a browser app that opened it (`createBrowserInspector`) and forwards them to
 * the server, so every tab and the history see them.
 */
import { UI_SOCKET_PATH, eventTexts, isWireEvent, type Envelope } from '../protocol.js';
import { ImpliedEventsReader } from '../implied-events.js';
import { renderDiagram, statechartDiagram, workflowDiagram, type DiagramLevel } from './diagram.js';
import { renderJson } from './json-view.js';
import { checkpointViewOpen, startCheckpoints } from './forks.js';
import { renderActorTree } from './actor-tree.js';
import { Model, activePaths, itemStateOf, runStatus, type ActorRecord, type RunRecord, type StateConfig, type StoreTimeline } from './model.js';
import { EventList } from './event-list.js';
import { activityOf, renderActivity } from './node-activity.js';
import { Replay } from './replay.js';
import { when } from './clock.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

let model = new Model();

/** What the person chose; everything else is derived from the model on each render. */
const ui = {
  run: undefined as string | undefined,
  /** Set once the person picks a run; until then the newest run is followed. */
  pinned: false,
  store: undefined as string | undefined,
  /** Commit index per store (0 = before any commit); absent = follow the latest. */
  position: new Map<string, number>(),
  collapsed: new Set<string>(),
  filter: '',
  hideInternal: false,
};

// ---------- connection ----------

let socket: WebSocket | undefined;
const outbox: string[] = [];
let retry = 0;

/**
 * The server's token: from the URL it printed (then taken out of the address bar, so it is not
 * shared by a copied link or a screenshot), or from this tab's sessionStorage on a reload.
 */
function takeToken(): string | null {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem('junjo-token', fromUrl);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
    return fromUrl;
  }
  return sessionStorage.getItem('junjo-token');
}
const token = takeToken();

type Connection = 'connecting' | 'live' | 'offline' | 'denied';
function setConnection(state: Connection): void {
  const badge = $('conn');
  badge.dataset.state = state;
  badge.textContent = {
    live: 'live',
    connecting: 'connecting…',
    offline: 'server offline, retrying…',
    denied: 'no access: open the URL the inspector printed (with its ?token=)',
  }[state];
}

/** After a refused or lost socket: is it the token (stop and say so) or is the server away (retry)? */
async function denied(): Promise<boolean> {
  try {
    const res = await fetch('/api/session', { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
    return res.status === 403;
  } catch {
    return false;
  }
}

function connect(): void {
  setConnection('connecting');
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${UI_SOCKET_PATH}${query}`);
  socket = ws;
  ws.addEventListener('open', () => {
    retry = 0;
    // The server replays its whole history to every new connection.
    model = new Model();
    implied.clear();
    inbox.length = 0;
    inboxLine = 0;
    setConnection('live');
    for (const text of outbox.splice(0)) ws.send(text);
    announceToOpener();
    scheduleRender();
  });
  ws.addEventListener('message', (message) => {
    // The server sends several envelopes to a message, one per line (protocol.ts).
    inbox.push(eventTexts(String(message.data)));
    lastMessageAt = performance.now();
    if (!takingIn) {
      takingIn = true;
      intake.port2.postMessage(null);
    }
  });
  ws.addEventListener('close', () => {
    void denied().then((refused) => {
      if (refused) {
        setConnection('denied');
        return;
      }
      setConnection('offline');
      setTimeout(connect, Math.min(5000, 500 * 2 ** retry++));
    });
  });
}

/**
 * Messages received and not yet taken in, and how far into the first one intake is. A message
 * of the server's history holds thousands of envelopes; they are parsed and taken in in slices
 * of a few milliseconds, each its own task (a MessageChannel's, not clamped like setTimeout),
 * so the page draws and answers in between however much arrives at once.
 */
const inbox: string[][] = [];
/** Puts back the events junjo's clients leave out (implied-events.ts) before the model reads them. */
const implied = new ImpliedEventsReader();
const ingest = (envelope: Envelope) => model.ingest(envelope);
let inboxLine = 0;
let takingIn = false;
let lastMessageAt = -Infinity;
/**
 * Once intake has taken in all that came, how long no message must come before the page is
 * drawn without waiting its turn: a burst has ended (or stalls, leaving the page idle anyway),
 * and its last render must not wait out the spacing of the renders during it.
 */
const QUIET_MS = 50;
const INTAKE_SLICE_MS = 8;
const intake = new MessageChannel();
intake.port1.onmessage = () => {
  const until = performance.now() + INTAKE_SLICE_MS;
  while (inbox.length) {
    const lines = inbox[0]!;
    while (inboxLine < lines.length) {
      let envelope: Envelope | undefined;
      try {
        envelope = JSON.parse(lines[inboxLine++]!) as Envelope;
      } catch {
        envelope = undefined;
      }
      if (envelope && isWireEvent(envelope.event)) implied.expand(envelope, ingest);
      if ((inboxLine & 31) === 0 && performance.now() > until) {
        intake.port2.postMessage(null);
        scheduleRender('events');
        return;
      }
    }
    inbox.shift();
    inboxLine = 0;
  }
  takingIn = false;
  scheduleRender('events');
  setTimeout(() => {
    if (!takingIn && pending === 'timer' && performance.now() - lastMessageAt >= QUIET_MS) scheduleRender('now');
  }, QUIET_MS);
};

// A browser app's inspector opened this page and posts events to it once it says it is
// connected. A reload must not say so again: the app would replay everything. The page
// cannot be framed (frame-ancestors 'none'), so only an opener can post; it reaches the
// server only if it opened the page with the token, and its runs are named after the tab.
const appWindow: Window | null = window.opener ?? null;
function announceToOpener(): void {
  if (!appWindow || sessionStorage.getItem('junjo-announced')) return;
  sessionStorage.setItem('junjo-announced', '1');
  appWindow.postMessage({ type: '@statelyai.connected' }, '*');
}

window.addEventListener('message', (message) => {
  if (!appWindow || message.source !== appWindow) return;
  // junjo's inspect() posts strings of events, one per line (protocol.ts), forwarded as they
  // are once checked; @statelyai/inspect's createBrowserInspector posts one event object.
  let text: string | undefined;
  if (typeof message.data === 'string') {
    const events = eventTexts(message.data).filter((line) => {
      try {
        return isWireEvent(JSON.parse(line));
      } catch {
        return false;
      }
    });
    text = events.length ? events.join('\n') : undefined;
  } else if (isWireEvent(message.data)) {
    text = JSON.stringify(message.data);
  }
  if (text === undefined) return;
  if (socket?.readyState === WebSocket.OPEN) socket.send(text);
  else outbox.push(text);
});

// ---------- rendering ----------

/**
 * A render asked for by arriving events waits its turn (see `scheduleRender`); one asked for by
 * the person (a step, a click, a filter), or once events stopped coming, is drawn on the next frame.
 */
type Cause = 'events' | 'now';
let pending: 'timer' | 'frame' | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;
/** When the last render started, and what it cost the page until its frame was painted. */
let lastRender = { at: -Infinity, took: 0 };
/** How many times its cost a render waits before the next one that events ask for. */
const EVENT_RENDER_SPACING = 9;
/**
 * Posted from the animation frame, it runs once the browser has laid out and painted that
 * frame: the render's whole cost, most of which (on a 10,000-item run) is layout and paint.
 */
const painted = new MessageChannel();
painted.port1.onmessage = () => {
  lastRender.took = performance.now() - lastRender.at;
};

/**
 * Draws on an animation frame, once however many events arrived before it: a large run
 * streams thousands of events a second, and each message asks for a render. For events, a
 * render whose frame cost d ms (its script, layout and paint) is followed by the next no
 * sooner than 9·d ms after it started, so while a large run streams in, drawing takes at most
 * a tenth of the page's time and taking the events in the rest (a 10,000-item run's page
 * spent most of its time laying out renders otherwise); a small run's renders take a
 * millisecond or two, so it is drawn every frame. The person's renders do not wait, nor
 * does the one after the last events of a burst (QUIET_MS).
 */
function scheduleRender(cause: Cause = 'now'): void {
  if (cause === 'now' && pending === 'timer') {
    clearTimeout(timer);
    pending = undefined;
  }
  if (pending) return;
  const draw = () => {
    pending = 'frame';
    requestAnimationFrame(() => {
      pending = undefined;
      lastRender = { at: performance.now(), took: 0 };
      render();
      painted.port2.postMessage(null);
    });
  };
  const wait = cause === 'events' ? lastRender.at + EVENT_RENDER_SPACING * lastRender.took - performance.now() : 0;
  if (wait > 0) {
    pending = 'timer';
    timer = setTimeout(draw, wait);
  } else draw();
}

/**
 * What each part of the page was last drawn from: a part whose inputs are the same is not drawn
 * again, so a render touches (and the browser lays out) only what changed. A step through a
 * 10,000-item run redraws the timeline and the moment shown, not the run list or the header.
 */
const drawnFrom = new Map<string, readonly unknown[]>();
function changed(part: string, ...inputs: unknown[]): boolean {
  const last = drawnFrom.get(part);
  if (last && last.length === inputs.length && last.every((input, i) => Object.is(input, inputs[i]))) return false;
  drawnFrom.set(part, inputs);
  return true;
}

/** Bumped by the person's choices that the parts' inputs do not show (a collapsed group, an opened item). */
let choices = 0;
function chose(): void {
  choices++;
  scheduleRender();
}

function runName(run: RunRecord): string {
  return model.root(run)?.name ?? run.key.split(' ')[1] ?? run.key;
}

/** What tells runs of one workflow apart: the library's run id, else the root's session id. */
function runIdOf(run: RunRecord): string {
  const context = model.root(run)?.snapshot?.context as { runId?: unknown } | undefined;
  return typeof context?.runId === 'string' ? context.runId : (run.key.split(' ')[1] ?? run.key);
}

/** The run's input on one short line: with the start time and run id, what tells runs of one workflow apart. */
function inputSummary(run: RunRecord): string | undefined {
  const context = model.root(run)?.snapshot?.context as { input?: unknown } | undefined;
  if (context?.input === undefined || context.input === null) return undefined;
  const text = JSON.stringify(context.input) ?? '';
  if (text === '{}' || text === '[]') return undefined;
  return `input ${text.length > 60 ? `${text.slice(0, 59)}…` : text}`;
}

/** The run list's filters, read from the sidebar's controls. */
const runFilter = { text: '', status: '', sinceMs: 0 };

function matchesFilter(run: RunRecord): boolean {
  if (runFilter.status && runStatus(model, run) !== runFilter.status) return false;
  if (runFilter.sinceMs && run.startedAt < Date.now() - runFilter.sinceMs) return false;
  const needle = runFilter.text.trim().toLowerCase();
  if (!needle) return true;
  return [runName(run), runIdOf(run), run.source].some((field) => field.toLowerCase().includes(needle));
}

function allRuns(): RunRecord[] {
  return [...model.runs.values()].filter((r) => model.root(r)).sort((a, b) => b.startedAt - a.startedAt);
}

function sortedRuns(): RunRecord[] {
  return allRuns().filter(matchesFilter);
}

function renderRuns(runs: RunRecord[]): void {
  const list = $('runs');
  list.replaceChildren(
    ...runs.map((run) => {
      const status = runStatus(model, run);
      const item = h('li', `run status-${status}${run.key === ui.run ? ' selected' : ''}`);
      item.dataset.runKey = run.key;
      item.dataset.status = status;
      const top = h('div', 'run-top');
      top.append(h('span', 'run-name', runName(run)), h('span', `chip status-${status}`, status));
      const kind = model.root(run)?.junjo ? 'workflow' : 'machine';
      const meta = h('div', 'run-meta', `${when(run.startedAt)} · ${kind} · ${run.events.length} events · ${run.source}`);
      const id = h('div', 'run-meta run-id', runIdOf(run));
      item.append(top, meta, id);
      const input = inputSummary(run);
      if (input) item.append(h('div', 'run-meta run-input', input));
      item.addEventListener('click', () => {
        if (ui.run !== run.key) {
          // Each run starts with its own view: an event filter typed for another run hides this one's.
          ui.filter = '';
          $<HTMLInputElement>('event-filter').value = '';
        }
        ui.run = run.key;
        ui.pinned = true;
        ui.store = undefined;
        chose();
      });
      return item;
    }),
  );
  const empty = $('runs-empty');
  empty.hidden = runs.length > 0;
  empty.textContent = model.runs.size > 0 ? 'No run matches these filters.' : 'No runs yet.';
}

function renderHeader(run: RunRecord, root: ActorRecord): void {
  const status = runStatus(model, run);
  const context = root.snapshot?.context as { runId?: string } | undefined;
  const head = $('run-head');
  const title = h('div', 'run-title');
  title.append(h('h2', '', root.name), h('span', `chip big status-${status}`, status));
  title.dataset.status = status;
  const facts = h('div', 'run-facts');
  const last = run.events.at(-1)?.time ?? run.startedAt;
  const bits = [
    root.junjo ? `${root.junjo.kind}` : 'XState machine',
    context?.runId ? `run ${context.runId}` : undefined,
    `from ${run.source}`,
    `started ${when(run.startedAt)}`,
    `${last - run.startedAt} ms`,
    `${run.events.length} events`,
  ].filter((b): b is string => b !== undefined);
  for (const bit of bits) facts.append(h('span', '', bit));
  if (run.lost > 0) {
    const lost = h('span', 'lost', `${run.lost} events lost: the app dropped them before the inspector connected (its definition and first snapshots were kept)`);
    lost.id = 'run-lost';
    lost.dataset.lost = String(run.lost);
    facts.append(lost);
  }
  head.replaceChildren(title, facts);
}

function diagramOf(root: ActorRecord): DiagramLevel | undefined {
  const graph = root.junjo?.graph;
  if (graph) return workflowDiagram(model, root, graph, '', ui.collapsed);
  if (root.definition?.states) return statechartDiagram(root.definition, root.snapshot?.value, root.visited, root.snapshot?.status === 'done');
  return undefined;
}

function renderGraph(root: ActorRecord): void {
  const diagram = diagramOf(root);
  // Laid out again only when a node's status (or the drawing) changed.
  if (!changed('graph', JSON.stringify(diagram))) return;
  $('graph-title').textContent = root.junjo?.graph ? 'Workflow graph' : 'Statechart';
  const svg = $('graph') as unknown as SVGSVGElement;
  $('graph-empty').hidden = diagram !== undefined;
  if (!diagram) {
    svg.replaceChildren();
    return;
  }
  renderDiagram(svg, diagram, (id) => {
    if (ui.collapsed.has(id)) ui.collapsed.delete(id);
    else ui.collapsed.add(id);
    chose();
  });
}

interface ErrorView {
  where: string;
  message: string;
  name?: string;
}

function messageOf(error: unknown): { name?: string; message: string } {
  if (error && typeof error === 'object') {
    const { name, message } = error as { name?: unknown; message?: unknown };
    if (typeof message === 'string') return typeof name === 'string' ? { name, message } : { message };
    const text = JSON.stringify(error);
    return { message: text === '{}' ? '(the error has no message: inspect with junjo-xstate\'s inspect() to keep it)' : text };
  }
  return { message: String(error) };
}

function errorsOf(run: RunRecord): ErrorView[] {
  const found: ErrorView[] = [];
  const seen = new Set<string>();
  const add = (view: ErrorView) => {
    const id = `${view.where}\u0000${view.message}`;
    if (seen.has(id)) return;
    seen.add(id);
    found.push(view);
  };
  for (const key of run.actors) {
    const actor = model.actors.get(key);
    if (!actor?.snapshot) continue;
    const failure = (actor.snapshot.context as { failure?: { path?: string[]; error?: unknown } | null } | undefined)?.failure;
    if (actor.junjo && failure) {
      add({ where: [...ancestry(actor), ...(failure.path ?? [])].join(' › ') || actor.name, ...messageOf(failure.error) });
    }
  }
  // A node's own actor failing, and the run's error that wraps it ("… failed at 'Boom': …"),
  // are the failure the workflow already reported: shown once, with the workflow's path.
  const reported = new Set(found.map((e) => e.where.split(' › ').at(-1)));
  const messages = found.map((e) => e.message);
  for (const key of run.actors) {
    const actor = model.actors.get(key);
    if (actor?.snapshot?.status !== 'error' || actor.junjo || reported.has(actor.name)) continue;
    const view = { where: [...ancestry(actor), actor.name].join(' › '), ...messageOf(actor.snapshot.error) };
    if (messages.some((m) => view.message.includes(m))) continue;
    add(view);
  }
  return found;
}

/** The subflow keys between the run's root and this actor. */
function ancestry(actor: ActorRecord): string[] {
  const names: string[] = [];
  for (let a = actor.parentKey ? model.actors.get(actor.parentKey) : undefined; a; a = a.parentKey ? model.actors.get(a.parentKey) : undefined) {
    if (a.parentKey) names.unshift(a.name);
  }
  if (actor.junjo?.kind === 'subflow') names.push(actor.name);
  return names;
}

function renderErrors(run: RunRecord): void {
  const errors = errorsOf(run);
  if (!changed('errors', JSON.stringify(errors))) return;
  const box = $('errors');
  $('errors-card').classList.toggle('has-errors', errors.length > 0);
  $('error-count').textContent = errors.length ? String(errors.length) : '';
  if (!errors.length) {
    box.replaceChildren(h('p', 'empty', 'No errors in this run.'));
    return;
  }
  box.replaceChildren(
    ...errors.map((e) => {
      const item = h('div', 'error');
      item.append(h('div', 'error-where', e.where), h('div', 'error-message', e.name ? `${e.name}: ${e.message}` : e.message));
      return item;
    }),
  );
}

/**
 * The dotted paths of the states that invoke a child named in `names` (a child's name is the
 * id of the `invoke` that started it), with their ancestors: the states a machine is entering
 * when it has started those children and not yet reported where it went.
 */
function invokingPaths(config: StateConfig, names: readonly string[]): Set<string> {
  const wanted = new Set(names);
  const found = new Set<string>();
  const walk = (states: Record<string, StateConfig>, prefix: string, ancestors: string[]) => {
    for (const [key, child] of Object.entries(states)) {
      const path = prefix + key;
      const invokes = [child.invoke].flat() as ({ id?: unknown } | undefined)[];
      if (invokes.some((i) => typeof i?.id === 'string' && wanted.has(i.id))) for (const p of [...ancestors, path]) found.add(p);
      if (child.states) walk(child.states, `${path}.`, [...ancestors, path]);
    }
  };
  if (wanted.size) walk(config.states ?? {}, '', []);
  return found;
}

/**
 * The machine's states, each marked: active; or, while a transition is in progress, the state
 * it last reported (`reported`) and the ones it is entering (`entering`).
 */
function stateTree(config: StateConfig, active: Set<string>, entering: Set<string> | undefined): HTMLElement {
  const list = (states: Record<string, StateConfig>, prefix: string): HTMLElement => {
    const ul = h('ul', 'tree');
    // Serialized configs arrive with sorted keys; the run's own states read better before `$done` and `$failed`.
    const entries = Object.entries(states).sort(([a], [b]) => Number(a.startsWith('$')) - Number(b.startsWith('$')));
    for (const [key, child] of entries) {
      const path = prefix + key;
      const li = h('li', entering?.has(path) ? 'entering' : !active.has(path) ? '' : entering ? 'reported' : 'active');
      const label = h('span', 'state-name', key);
      li.append(label);
      const junjo = child.meta?.junjo;
      const kind = child.type === 'parallel' ? 'parallel' : child.type === 'final' ? 'final' : junjo && junjo.kind !== 'internal' ? junjo.kind : undefined;
      if (kind) li.append(h('span', 'state-kind', kind));
      if (child.states) li.append(list(child.states, `${path}.`));
      ul.append(li);
    }
    return ul;
  };
  return list(config.states ?? {}, '');
}

/**
 * The root's state and context. Between an event and the snapshot XState sends once the
 * transition is over (a RunMap's whole fan-out starts in between), the last reported state is
 * no longer the machine's: the card says a transition is in progress, on which event, and which
 * states it is entering, as the children it started since tell.
 */
function renderState(root: ActorRecord): void {
  const transition = root.transition;
  if (!changed('state', root.definition, root.snapshot, transition?.event, transition?.started.length)) return;
  const card = $('state-card');
  const value = root.snapshot?.value;
  const reported = value === undefined ? '' : JSON.stringify(value);
  const config = root.definition?.states ? root.definition : undefined;
  const entering = transition && config ? invokingPaths(config, transition.started) : undefined;
  const parts: HTMLElement[] = [];
  if (transition) {
    card.dataset.transition = transition.event;
    // The innermost states entered, as the value line names them.
    const leaves = [...(entering ?? [])].filter((path) => ![...entering!].some((other) => other.startsWith(`${path}.`)));
    $('state-value').textContent = `${reported || '(none yet)'} → ${leaves.length ? leaves.join(', ') : '…'}`;
    const note = h('p', 'transition-note');
    note.append('Transition on ', h('code', '', transition.event), ' in progress: the machine reports its new state when it is over.');
    const { started } = transition;
    // A machine may spawn thousands of children in one transition: a few named, the rest counted.
    const more = started.length > 5 ? ` and ${(started.length - 5).toLocaleString('en')} more` : '';
    if (started.length) note.append(` Started since: ${started.slice(0, 5).join(', ')}${more}.`);
    parts.push(note);
  } else {
    delete card.dataset.transition;
    $('state-value').textContent = reported;
  }
  if (config) parts.push(stateTree(config, activePaths(value), entering));
  const context = root.snapshot?.context;
  if (context !== undefined) {
    // A workflow's context holds a reference to its store actor; its state is in the timeline.
    const shown = root.junjo && context && typeof context === 'object' ? Object.fromEntries(Object.entries(context).filter(([k]) => k !== 'store' && k !== 'input')) : context;
    parts.push(h('h4', '', 'Context'), renderJson(shown));
  }
  $('state-tree').replaceChildren(...parts);
}

/** The run's store timelines, in its actors' order: found among the model's few timelines, not by looking at each of a run's 10,000s of actors. */
function storesOf(run: RunRecord): StoreTimeline[] {
  const mine = [...model.timelines.values()].filter((t) => model.actors.get(t.actorKey)?.rootKey === run.key);
  return mine.length < 2 ? mine : mine.sort((a, b) => run.actors.indexOf(a.actorKey) - run.actors.indexOf(b.actorKey));
}

function storeLabel(timeline: StoreTimeline): string {
  const actor = model.actors.get(timeline.actorKey);
  const owner = actor?.parentKey ? model.actors.get(actor.parentKey) : undefined;
  return owner ? `${owner.name} store` : actor?.name ?? 'store';
}

/**
 * Set by a step, so the selected commit is brought into view (once), at the start of the
 * render after the one that drew it: read before any DOM write, its position costs no layout.
 */
let stepped: 'no' | 'stepped' | 'drawn' = 'no';

function stepTo(position: number): void {
  if (!ui.store) return;
  const timeline = model.timelines.get(ui.store);
  if (!timeline) return;
  const max = timeline.commits.length;
  const clamped = Math.max(0, Math.min(max, position));
  stepped = 'stepped';
  // At the end means "follow the latest commit" as more arrive.
  if (clamped === max) ui.position.delete(ui.store);
  else ui.position.set(ui.store, clamped);
  scheduleRender();
}

function currentPosition(timeline: StoreTimeline): number {
  return ui.position.get(timeline.actorKey) ?? timeline.commits.length;
}

/** Commits per block of the commit list's window (it shows two blocks). */
const COMMIT_BLOCK = 20;

/** The value at `path` inside `value`, or undefined. */
function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let at = value;
  for (const step of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[step];
  }
  return at;
}

/** A value as one line: whole when short, cut with its size said when long. */
function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 400 ? `${text.slice(0, 400)}… (${text.length} characters)` : text;
}

function renderTimeline(run: RunRecord): void {
  const stores = storesOf(run);
  const card = $('timeline-card');
  card.classList.toggle('no-store', stores.length === 0);
  const select = $<HTMLSelectElement>('store-select');
  if (!stores.length) {
    $('commit-count').textContent = '';
    select.hidden = true;
    $('timeline-empty').hidden = false;
    return;
  }
  $('timeline-empty').hidden = true;
  if (!ui.store || !stores.some((s) => s.actorKey === ui.store)) ui.store = stores[0]!.actorKey;
  const timeline = model.timelines.get(ui.store)!;
  const total = timeline.commits.length;
  const position = currentPosition(timeline);
  if (!changed('timeline', timeline, total, position, stores.length)) return;
  select.hidden = stores.length < 2;
  select.replaceChildren(
    ...stores.map((s) => {
      const option = h('option', '', storeLabel(s));
      option.value = s.actorKey;
      option.selected = s.actorKey === ui.store;
      return option;
    }),
  );
  const count = $('commit-count');
  count.textContent = `${total} commit${total === 1 ? '' : 's'}`;
  card.dataset.commitCount = String(total);
  card.dataset.position = String(position);

  const slider = $<HTMLInputElement>('slider');
  slider.max = String(total);
  slider.value = String(position);
  slider.disabled = total === 0;
  const commit = position > 0 ? timeline.commits[position - 1] : undefined;
  $('commit-label').textContent = commit
    ? `commit ${commit.seq} of ${total} · ${commit.action}${commit.node ? ` from ${commit.node}` : ''}`
    : `initial state · ${total} commit${total === 1 ? '' : 's'} after it`;

  // Only the commits around the selected one are in the DOM: a 10,000-commit run would
  // otherwise rebuild 10,000 rows on every frame. The window moves by whole blocks, so a step
  // within one only moves the selection.
  const list = $('commits');
  const from = Math.max(0, Math.floor(position / COMMIT_BLOCK) * COMMIT_BLOCK - COMMIT_BLOCK / 2);
  const to = Math.min(total, from + 2 * COMMIT_BLOCK);
  if (changed('commit-rows', timeline, from, to)) list.replaceChildren(...commitRows(timeline, from, to, position));
  else {
    list.querySelector('.commit.selected')?.classList.remove('selected');
    list.querySelector(`[data-position="${position}"]`)?.classList.add('selected');
  }
  // Scrolled to the selected commit only when the person stepped: following a live run must
  // not pull the list (or the page) away from what they are reading.
  if (stepped === 'stepped') {
    stepped = 'drawn';
    scheduleRender();
  }
  renderCommit(timeline, position);
}

/** The rows of the commits at positions `from` to `to`, the one at `position` selected. */
function commitRows(timeline: StoreTimeline, from: number, to: number, position: number): HTMLElement[] {
  const total = timeline.commits.length;
  const items: HTMLElement[] = [];
  if (from === 0) {
    const initial = h('li', position === 0 ? 'commit selected' : 'commit');
    initial.append(h('span', 'seq', '0'), h('span', 'action', 'initial state'));
    initial.addEventListener('click', () => stepTo(0));
    initial.dataset.position = '0';
    items.push(initial);
  } else {
    const more = h('li', 'commit more', `… the initial state and ${from - 1} earlier commits`);
    more.addEventListener('click', () => stepTo(from - 1));
    items.push(more);
  }
  for (let i = Math.max(0, from - 1); i < to; i++) {
    const c = timeline.commits[i]!;
    const li = h('li', i + 1 === position ? 'commit selected' : 'commit');
    li.dataset.seq = String(c.seq);
    li.dataset.position = String(i + 1);
    const fields = [...new Set(c.patches.map((p) => String(p.path[0] ?? '')))].join(', ');
    li.append(h('span', 'seq', String(c.seq)), h('span', 'action', c.action), h('span', 'node', c.node ?? ''), h('span', 'fields', fields));
    li.addEventListener('click', () => stepTo(i + 1));
    items.push(li);
  }
  if (to < total) {
    const more = h('li', 'commit more', `… ${total - to} later commits`);
    more.addEventListener('click', () => stepTo(to + 1));
    items.push(more);
  }
  return items;
}

/** The state after the commit at `position`, and that commit's changes with the values they replaced. */
function renderCommit(timeline: StoreTimeline, position: number): void {
  const commit = position > 0 ? timeline.commits[position - 1] : undefined;
  const state = commit ? commit.state : timeline.initial;
  const before = position > 1 ? timeline.commits[position - 2]!.state : timeline.initial;
  const pane = $('store-state');
  pane.replaceChildren(
    state === undefined
      ? h('p', 'empty', 'The state at this commit is not known: the events before it were lost.')
      : renderJson(state, commit?.patches ?? [], commit ? before : undefined),
  );
  pane.dataset.position = String(position);
  const patch = $('patch');
  patch.replaceChildren();
  if (commit) {
    for (const p of commit.patches) {
      const row = h('div', `patch-op op-${p.op}`);
      row.append(h('span', 'op', p.op), h('span', 'path', p.path.join('.') || '(root)'));
      // The value it had, so the diff reads "from → to", not just "to".
      const old = p.op === 'add' ? undefined : valueAt(before, p.path);
      if (old !== undefined) row.append(h('span', 'old-value', preview(old)));
      if (p.op !== 'remove') {
        if (old !== undefined) row.append(h('span', 'arrow', '→'));
        row.append(h('span', 'value', preview(p.value)));
      }
      patch.append(row);
    }
  }
}

const eventList = new EventList($('events-card'), $('events-scroll'), $('events-body'), $('events-note'), $('event-detail'));

/**
 * Scrolls `list` itself (never the page) just enough to show `item`. scrollIntoView would
 * scroll every ancestor too, pulling the page away from what the person is reading.
 */
function keepInView(list: HTMLElement, item: HTMLElement | null): void {
  if (!item) return;
  // A list with CSS containment is its items' offsetParent; otherwise they share one with it.
  const top = item.offsetParent === list ? item.offsetTop : item.offsetTop - list.offsetTop;
  if (top < list.scrollTop) list.scrollTop = top;
  else if (top + item.offsetHeight > list.scrollTop + list.clientHeight) list.scrollTop = top + item.offsetHeight - list.clientHeight;
}

// ---------- items of a RunMap (or a wide RunConcurrent) ----------

interface FanOutCounts {
  total: number;
  done: number;
  running: number;
  failed: number;
  cancelled: number;
  waiting: number;
}

const itemStatus = (actor: ActorRecord) => itemStateOf(actor.snapshot);

/**
 * The items of an actor whose children are its items (`Name[0]`, `Name[1]` …, as a fan-out
 * names them, actors/fan-out.ts), each counted in the state its own snapshot says (the model
 * keeps the tally), so a step back shows them exactly as they were then. How many there are
 * is the fan-out's `total`, fixed when it starts: read from the live run when the moment shown
 * is before the fan-out first reported (XState sends its snapshot after its items' commits);
 * the items not started yet are waiting. Once the fan-out has stopped (cancelled, or failed
 * and stopped the rest), items still running never will: they are counted cancelled.
 */
function fanOutCounts(actor: ActorRecord, live: Model): FanOutCounts | undefined {
  const tally = actor.items;
  if (!tally) return undefined;
  const totalIn = (snapshot: unknown) => (snapshot as { total?: unknown } | undefined)?.total;
  const reported = totalIn(actor.snapshot) ?? totalIn(live.actors.get(actor.key)?.snapshot);
  const total = Math.max(tally.started, typeof reported === 'number' ? reported : 0);
  const over = actor.snapshot?.status === 'stopped' || actor.snapshot?.status === 'error';
  const running = over ? 0 : tally.running;
  const cancelled = tally.cancelled + (over ? tally.running : 0);
  return { total, done: tally.done, running, failed: tally.failed, cancelled, waiting: total - tally.started };
}

/** The item the person opened, per fan-out actor key. */
const openedItem = new Map<string, number>();

function renderItems(run: RunRecord, live: Model): void {
  const fanOuts = run.actors.map((key) => model.actors.get(key)!).filter((a) => a.items !== undefined);
  const tallies = fanOuts.map((actor) => fanOutCounts(actor, live)!);
  const opened = fanOuts.map((actor) => (openedItem.has(actor.key) ? model.childNamed(actor, `${actor.name}[${openedItem.get(actor.key)}]`)?.snapshot ?? null : undefined));
  if (!changed('items', JSON.stringify(tallies), choices, ...opened)) return;
  const card = $('items-card');
  card.hidden = fanOuts.length === 0;
  const list = $('fan-outs');
  if (!fanOuts.length) {
    list.replaceChildren();
    return;
  }
  list.replaceChildren(
    ...fanOuts.map((actor, i) => {
      const c = tallies[i]!;
      const row = h('div', 'fan-out');
      row.dataset.fanOut = actor.name;
      for (const [k, v] of Object.entries(c)) row.dataset[k] = String(v);
      const bar = h('div', 'bar');
      for (const part of ['done', 'running', 'failed', 'cancelled'] as const) {
        const seg = h('span', `seg-${part}`);
        seg.style.width = `${c.total ? (100 * c[part]) / c.total : 0}%`;
        bar.append(seg);
      }
      const counts = h('div', 'counts');
      for (const part of ['done', 'running', 'failed', 'cancelled', 'waiting'] as const) counts.append(h('span', `count-${part}`, `${c[part].toLocaleString('en')} ${part}`));
      const open = h('div', 'open');
      const input = h('input');
      input.type = 'number';
      input.min = '0';
      input.max = String(Math.max(0, c.total - 1));
      input.placeholder = 'item #';
      input.setAttribute('aria-label', `open an item of ${actor.name}`);
      const button = h('button', '', 'open item');
      button.type = 'button';
      button.addEventListener('click', () => {
        openedItem.set(actor.key, Number(input.value) || 0);
        chose();
      });
      open.append(input, button);
      row.append(h('strong', '', `${actor.name} · ${c.total.toLocaleString('en')} items`), bar, counts, open);
      return row;
    }),
  );
  const view = $('item-view');
  view.replaceChildren();
  for (const actor of fanOuts) {
    const index = openedItem.get(actor.key);
    if (index === undefined) continue;
    const item = model.childNamed(actor, `${actor.name}[${index}]`);
    const title = h('div', 'item-title', item ? `${item.name}: ${itemStatus(item)}` : `${actor.name}[${index}] has not started`);
    title.id = 'item-title';
    view.append(title);
    if (item?.snapshot) {
      const { output, error } = item.snapshot;
      view.append(renderJson(error !== undefined ? { error } : { output: output ?? null }));
    }
  }
}


function render(): void {
  // Scrolls first, while the layout of the last frame still holds: after a DOM write, reading
  // or setting a scroll position lays out the whole page.
  eventList.applyScroll();
  if (stepped === 'drawn') {
    const list = $('commits');
    keepInView(list, list.querySelector<HTMLElement>('.selected'));
    stepped = 'no';
  }
  const runs = sortedRuns();
  if (!ui.pinned || !ui.run || !model.runs.has(ui.run)) ui.run = runs[0]?.key;
  if (changed('runs', model, model.version, ui.run, choices, runFilter.text, runFilter.status, runFilter.sinceMs)) {
    const total = allRuns().length;
    const shown = runs.length === total ? `${total}` : `${runs.length} of ${total}`;
    $('stats').textContent = `${shown} run${total === 1 ? '' : 's'} · ${model.eventCount} events`;
    renderRuns(runs);
  }
  const run = ui.run ? model.runs.get(ui.run) : undefined;
  const root = run ? model.root(run) : undefined;
  // A checkpointed run (forks.ts) is open in place of the live view.
  const away = checkpointViewOpen();
  $('main').hidden = away || !run || !root;
  $('welcome').hidden = away || Boolean(run && root);
  if (away || !run || !root) return;
  if (changed('header', model, model.version, run)) renderHeader(run, root);
  // Stepped back to a commit: the graph, state, items, errors and events show that moment,
  // read from the run replayed up to it; the timeline itself always shows every commit.
  const moment = pastAt(run);
  $('main').toggleAttribute('data-replaying', moment === 'pending');
  if (moment === 'pending') {
    renderTimeline(run);
    return;
  }
  const past = moment;
  const live = model;
  if (past) model = past.model;
  try {
    const pastRun = past ? model.runs.get(run.key) : run;
    const pastRoot = pastRun ? model.root(pastRun) : undefined;
    if (pastRun && pastRoot && changed('moment', model, model.version, run, choices)) {
      renderGraph(pastRoot);
      renderErrors(pastRun);
      renderState(pastRoot);
      renderItems(pastRun, live);
      const activity = activityOf(model, pastRun);
      if (changed('activity', JSON.stringify(activity))) renderActivity(activity);
    }
  } finally {
    model = live;
  }
  $('main').dataset.asOf = past ? String(past.at) : 'latest';
  renderTimeline(run);
  const shownRun = past?.model.runs.get(run.key) ?? run;
  eventList.render(past?.model ?? model, shownRun, { text: ui.filter, hideInternal: ui.hideInternal });
  renderActorTree(model, run, root, chose);
}

/** The run replayed up to the commit the person stepped to (replay.ts). */
const replay = new Replay();
let replayedTo: { run: RunRecord; at: number } | undefined;

/** Where the selected timeline is stepped to, in envelopes of the run; undefined when following the latest. */
function steppedTo(run: RunRecord): number | undefined {
  const timeline = ui.store ? model.timelines.get(ui.store) : undefined;
  if (!timeline || model.actors.get(timeline.actorKey)?.rootKey !== run.key || !ui.position.has(timeline.actorKey)) return undefined;
  const position = currentPosition(timeline);
  // Position 0 is the state before the first commit: the run up to just before it.
  return position === 0 ? Math.max(0, (timeline.commits[0]?.at ?? 1) - 1) : timeline.commits[position - 1]!.at;
}

/**
 * The replayed past, once it is whole; while it is still being fed, undefined, with the page
 * marked `data-replaying` and another slice asked for (the views keep what they showed).
 */
function pastAt(run: RunRecord): { at: number; model: Model } | undefined | 'pending' {
  const at = steppedTo(run);
  if (at === undefined) return undefined;
  if (replayedTo?.run === run && replayedTo.at === at) return { at, model: replay.model };
  if (!replay.advance(run, at)) {
    setTimeout(scheduleRender, 0);
    return 'pending';
  }
  replayedTo = { run, at };
  return { at, model: replay.model };
}

// ---------- input ----------

$('prev').addEventListener('click', () => ui.store && stepTo(currentPosition(model.timelines.get(ui.store)!) - 1));
$('next').addEventListener('click', () => ui.store && stepTo(currentPosition(model.timelines.get(ui.store)!) + 1));
$<HTMLInputElement>('slider').addEventListener('input', (e) => stepTo(Number((e.target as HTMLInputElement).value)));
$<HTMLSelectElement>('store-select').addEventListener('change', (e) => {
  ui.store = (e.target as HTMLSelectElement).value;
  chose();
});
$<HTMLInputElement>('run-search').addEventListener('input', (e) => {
  runFilter.text = (e.target as HTMLInputElement).value;
  scheduleRender();
});
$<HTMLSelectElement>('run-status').addEventListener('change', (e) => {
  runFilter.status = (e.target as HTMLSelectElement).value;
  scheduleRender();
});
$<HTMLSelectElement>('run-since').addEventListener('change', (e) => {
  runFilter.sinceMs = Number((e.target as HTMLSelectElement).value) || 0;
  scheduleRender();
});
$<HTMLInputElement>('event-filter').addEventListener('input', (e) => {
  ui.filter = (e.target as HTMLInputElement).value;
  scheduleRender();
});
$<HTMLInputElement>('hide-internal').addEventListener('change', (e) => {
  ui.hideInternal = (e.target as HTMLInputElement).checked;
  scheduleRender();
});
document.addEventListener('keydown', (e) => {
  const target = e.target as HTMLElement;
  // The slider steps itself; text fields keep their arrow keys.
  if (target.matches('input, select, textarea')) return;
  const timeline = ui.store ? model.timelines.get(ui.store) : undefined;
  if (!timeline) return;
  const at = currentPosition(timeline);
  const moves: Record<string, number> = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: timeline.commits.length };
  const next = moves[e.key];
  if (next === undefined) return;
  e.preventDefault();
  stepTo(next);
});

connect();
render();
void startCheckpoints({ token, changed: render });
