/**
 * Durable runs in the UI: when the server was started with `--checkpoints`, the sidebar lists
 * the runs of those checkpoint stores as a tree (a fork under the run it was forked from), and
 * opening one shows its workflow graph with each node's status at the selected checkpoint
 * (checkpoint-graph.ts) and its history — each checkpoint's completed nodes, node statuses and
 * committed state — with "Fork from this commit", which shows the `workflow.fork(…)` call to
 * run in the app. The inspector does not fork by itself: a fork runs the workflow's code,
 * which lives in the app, not in the inspector.
 */
import type { CheckpointHistory, CheckpointListing } from '../checkpoint-source.js';
import type { CheckpointSummary } from '../../src/durable/checkpoint-store.js';
import type { RunCommit } from '../../src/durable/fork.js';
import { renderJson } from './json-view.js';
import { renderDiagram } from './diagram.js';
import { clock } from './clock.js';
import { checkpointDiagram, graphFromCheckpoints } from './checkpoint-graph.js';

interface Options {
  token: string | null;
  /** Called when the checkpoint view opens or closes, so the live view hides or comes back. */
  changed: () => void;
}

/** How often the run list is read again while the page is visible: forks appear as they are written. */
const REFRESH_MS = 2000;

const view = { open: undefined as { source: number; runId: string } | undefined, at: undefined as number | undefined, showFork: false };
let history: CheckpointHistory | undefined;
let listings: CheckpointListing[] = [];
let options: Options;
/** Subflows the person collapsed in the checkpoint graph. */
const collapsed = new Set<string>();

function h<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Whether a checkpointed run is open (then the live run view stays hidden). */
export function checkpointViewOpen(): boolean {
  return view.open !== undefined;
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: options.token ? { authorization: `Bearer ${options.token}` } : {}, cache: 'no-store' });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${path}: ${res.status}`);
  return body;
}

/** Starts the checkpoint panel if the server has checkpoint stores. */
export async function startCheckpoints(given: Options): Promise<void> {
  options = given;
  const session = await api<{ checkpoints?: number }>('/api/session').catch(() => ({ checkpoints: 0 }));
  if (!session.checkpoints) return;
  const sidebar = document.querySelector('.sidebar')!;
  const title = h('h2', 'checkpoint-title', 'Checkpointed runs');
  const list = h('ul', 'checkpoint-runs');
  list.id = 'checkpoint-runs';
  sidebar.append(title, list);
  const panel = h('section', 'checkpoint-view');
  panel.id = 'checkpoint-view';
  panel.hidden = true;
  document.querySelector('.shell')!.append(panel);
  // Picking a live run closes the checkpoint view.
  document.getElementById('runs')!.addEventListener('click', () => close(), true);
  const refresh = async () => {
    if (document.visibilityState === 'visible') {
      listings = await api<CheckpointListing[]>('/api/checkpoints').catch((err: Error) => [{ source: -1, name: 'checkpoints', runs: [], error: err.message }]);
      renderList();
      if (view.open) await load();
    }
    setTimeout(refresh, REFRESH_MS);
  };
  await refresh();
}

function close(): void {
  if (!view.open) return;
  view.open = undefined;
  history = undefined;
  document.getElementById('checkpoint-view')!.hidden = true;
  renderList();
  options.changed();
}

async function open(source: number, runId: string): Promise<void> {
  view.open = { source, runId };
  view.at = undefined;
  view.showFork = false;
  options.changed();
  await load();
  renderList();
}

async function load(): Promise<void> {
  const { source, runId } = view.open!;
  try {
    history = await api<CheckpointHistory>(`/api/checkpoints/history?source=${source}&run=${encodeURIComponent(runId)}`);
  } catch (err) {
    history = { runId, workflow: '?', commits: [], fingerprint: '', error: (err as Error).message } as CheckpointHistory & { error: string };
  }
  renderView();
}

const STATUS_CLASS: Record<string, string> = { completed: 'done', running: 'running', waiting: 'waiting', failed: 'failed', cancelled: 'cancelled' };

function renderList(): void {
  const list = document.getElementById('checkpoint-runs')!;
  list.replaceChildren();
  for (const listing of listings) {
    if (listings.length > 1 || listing.error) list.append(h('li', 'checkpoint-source', listing.error ? `${listing.name}: ${listing.error}` : listing.name));
    // Forks go under their origin; a fork whose origin is gone stays at the top.
    const ids = new Set(listing.runs.map((r) => r.runId));
    const children = new Map<string, CheckpointSummary[]>();
    for (const run of listing.runs) {
      const parent = run.origin && ids.has(run.origin.runId) ? run.origin.runId : '';
      children.set(parent, [...(children.get(parent) ?? []), run]);
    }
    const branch = (parent: string, into: HTMLElement) => {
      for (const run of children.get(parent) ?? []) {
        const item = h('li', 'checkpoint-run');
        item.dataset.runId = run.runId;
        item.dataset.status = run.status;
        const row = h('div', `run${view.open?.runId === run.runId && view.open.source === listing.source ? ' selected' : ''}`);
        const top = h('div', 'run-top');
        top.append(h('span', 'run-name', run.workflow), h('span', `chip status-${STATUS_CLASS[run.status] ?? 'pending'}`, run.status));
        const meta = run.origin ? `${run.runId.slice(0, 8)} · fork at #${run.origin.seq}` : run.runId.slice(0, 8);
        row.append(top, h('div', 'run-meta', meta));
        row.title = run.runId;
        row.addEventListener('click', () => void open(listing.source, run.runId));
        item.append(row);
        if (children.has(run.runId)) {
          const nested = h('ul', 'checkpoint-forks');
          branch(run.runId, nested);
          item.append(nested);
        }
        into.append(item);
      }
    };
    branch('', list);
  }
  if (!listings.some((l) => l.runs.length)) list.append(h('li', 'empty', 'No checkpointed runs yet.'));
}

/** The code that forks the open run from commit `seq`, with its state to edit. */
function forkCommand(runId: string, commit: RunCommit): string {
  const state = JSON.stringify(commit.state, null, 2).replace(/\n/g, '\n  ');
  return (
    `// in the app, with the workflow and this store:\n` +
    `const result = await workflow.fork(${JSON.stringify(runId)}, {\n  checkpoint: store,\n  at: ${commit.seq},\n` +
    `  // optional: the state to start from (edit it)\n  state: ${state},\n});`
  );
}

function renderView(): void {
  const panel = document.getElementById('checkpoint-view')!;
  panel.hidden = !view.open;
  if (!view.open || !history) return;
  panel.replaceChildren();
  const error = (history as { error?: string }).error;
  const head = h('section', 'run-head');
  head.append(h('h1', '', `${history.workflow} · ${history.runId}`));
  if (history.origin) {
    const link = h('a', 'fork-origin', `forked from ${history.origin.runId.slice(0, 8)} at commit #${history.origin.seq}`);
    link.href = '#';
    const { runId } = history.origin;
    link.addEventListener('click', (e) => {
      e.preventDefault();
      void open(view.open!.source, runId);
    });
    head.append(link);
  }
  panel.append(head);
  if (error) {
    panel.append(h('p', 'empty', error));
    return;
  }
  const { commits } = history;
  const selected = commits.find((c) => c.seq === view.at) ?? commits.at(-1)!;
  panel.append(graphCard(history, selected));
  const card = h('section', 'card checkpoint-card');
  const header = h('header');
  header.append(h('h3', '', 'Checkpoints'), h('span', 'count', `${commits.length} kept`));
  const body = h('div', 'timeline-body');
  const list = h('ol', 'commits checkpoint-commits');
  for (const commit of commits) {
    const li = h('li', commit === selected ? 'selected' : '');
    li.dataset.seq = String(commit.seq);
    const running = Object.keys(commit.nodes).filter((k) => commit.nodes[k] === 'running');
    const done = [...commit.completed.map((k) => `✓ ${k}`), ...running.map((k) => `▶ ${k}`)].join(' · ') || 'start';
    li.append(h('span', 'commit-seq', `#${commit.seq}`), h('span', 'commit-what', done), h('span', 'commit-time', clock(commit.time)));
    li.addEventListener('click', () => {
      view.at = commit.seq;
      view.showFork = false;
      renderView();
    });
    list.append(li);
  }
  const pane = h('div', 'state-pane');
  const nodes = h('div', 'checkpoint-nodes');
  for (const [key, status] of Object.entries(selected.nodes)) nodes.append(h('span', `chip status-${status}`, key));
  if (!Object.keys(selected.nodes).length) nodes.append(h('span', 'empty', 'no node has started'));
  const actions = h('div', 'checkpoint-actions');
  // Only a completed run's last checkpoint is its end; every other one has something left to run.
  const forkable = selected.status !== 'completed';
  const button = h('button', 'fork-button', 'Fork from this commit');
  button.type = 'button';
  button.disabled = !forkable;
  button.title = forkable ? 'shows the call that starts a new run from here' : "the run's end: nothing is left to run from it";
  button.addEventListener('click', () => {
    view.showFork = !view.showFork;
    renderView();
  });
  actions.append(h('strong', '', `Commit #${selected.seq} · ${selected.status}`), button);
  pane.append(actions, nodes);
  if (view.showFork) pane.append(h('pre', 'fork-command', forkCommand(history.runId, selected)));
  pane.append(renderJson(selected.state));
  body.append(list, pane);
  card.append(header, body);
  panel.append(card);
}

/**
 * The run's graph at the selected commit: the one its store keeps with the checkpoints, or the
 * one the inspector was sent by a run of the same fingerprint, else what the checkpoints hold
 * (the nodes that ran, no edges), saying which.
 */
function graphCard(history: CheckpointHistory, selected: CheckpointHistory['commits'][number]): HTMLElement {
  const card = h('section', 'card graph-card checkpoint-graph-card');
  const header = h('header');
  header.append(h('h3', '', 'Workflow graph'), h('span', 'count', `at commit #${selected.seq}`));
  const graph = history.graph ?? graphFromCheckpoints(history.commits.map((c) => c.run));
  const note = h(
    'p',
    'checkpoint-graph-note',
    history.graph
      ? `Drawn from ${history.graphFrom ?? 'a run of this workflow'}.`
      : `The store keeps no graph for these checkpoints (they were written before junjo-xstate kept graphs), and the inspector has not been sent a run of ${history.workflow} with this graph (fingerprint ${history.fingerprint}): ` +
          'the nodes that ran are drawn without their edges. Run the workflow once with inspect() or its OpenTelemetry spans sent here to see the graph.',
  );
  note.dataset.graph = history.graph ? 'found' : 'missing';
  const scroll = h('div', 'graph-scroll');
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.id = 'checkpoint-graph';
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'checkpointed run graph');
  scroll.append(svg);
  card.append(header, note, scroll);
  if (graph.nodes.length) {
    renderDiagram(svg, checkpointDiagram(graph, selected.run, collapsed), (id) => {
      if (collapsed.has(id)) collapsed.delete(id);
      else collapsed.add(id);
      renderView();
    });
  }
  return card;
}
