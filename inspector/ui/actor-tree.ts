/**
 * The actor tree of a plain XState app's run: every actor under the root (spawned and invoked
 * children, theirs in turn) with its status; picking one draws its own statechart. Junjo
 * workflow runs have their graph instead (and may hold thousands of item actors), so the tree
 * is shown for runs whose root is not a junjo-xstate workflow. main.ts calls renderActorTree.
 */
import { renderDiagram, statechartDiagram } from './diagram.js';
import type { ActorRecord, Model, RunRecord } from './model.js';
import { renderSequence } from './sequence-view.js';

// `stopped`, not `cancelled`: XState stops a child whenever its parent leaves the state that
// started it or ends, as a run's store is at every run's end.
const STATUS: Record<string, string> = { active: 'running', done: 'done', error: 'failed', stopped: 'stopped' };
/** The actor picked in each run's tree, by run key. */
const picked = new Map<string, string>();

function h<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The card, made on first use at the end of the run view's grid. */
function card(): HTMLElement {
  let section = document.getElementById('actors-card');
  if (!section) {
    section = h('section', 'card actors-card');
    section.id = 'actors-card';
    const header = h('header');
    header.append(h('h3', '', 'Actors'), h('span', 'hint', 'the run\'s actor tree; pick one to see its statechart'));
    const body = h('div', 'actors-body');
    const tree = h('ul', 'actor-tree');
    tree.id = 'actor-tree';
    const chart = h('div', 'actor-chart');
    chart.innerHTML = '<h4 id="actor-chart-title"></h4><svg id="actor-chart" role="img" aria-label="actor statechart"></svg><p id="actor-chart-empty" class="empty" hidden>This actor has no statechart (it is a promise, callback or other logic).</p>';
    body.append(tree, chart);
    const sequence = h('section', 'card sequence-card');
    sequence.id = 'sequence-card';
    const seqHeader = h('header');
    seqHeader.append(h('h3', '', 'Sequence'), h('span', 'hint', 'events between actors, in order'));
    const scroll = h('div', 'sequence-scroll');
    scroll.innerHTML = '<svg id="sequence" role="img" aria-label="sequence of events between actors"></svg><p id="sequence-empty" class="empty" hidden>No actor has sent another an event yet.</p>';
    sequence.append(seqHeader, scroll);
    section.append(header, body);
    document.querySelector('#main .grid')!.append(section, sequence);
  }
  return section;
}

/** Shows (or hides, for junjo workflow runs) the actor tree and sequence view of `run`. */
export function renderActorTree(model: Model, run: RunRecord, root: ActorRecord, rerender: () => void): void {
  const plain = !root.junjo;
  if (!plain && !document.getElementById('actors-card')) return;
  const section = card();
  const sequence = document.getElementById('sequence-card')!;
  section.hidden = sequence.hidden = !plain;
  if (!plain) return;
  const tree = document.getElementById('actor-tree')!;
  const chosen = model.actors.get(picked.get(run.key) ?? '') ?? root;
  const branch = (actor: ActorRecord, into: HTMLElement) => {
    const item = h('li', 'actor-node');
    const row = h('button', `actor-row${actor === chosen ? ' selected' : ''}`);
    row.type = 'button';
    row.dataset.actor = actor.name;
    row.dataset.status = STATUS[actor.snapshot?.status ?? 'active'] ?? 'running';
    row.append(h('span', 'actor-name', actor.name), h('span', `chip status-${row.dataset.status}`, row.dataset.status));
    row.addEventListener('click', () => {
      picked.set(run.key, actor.key);
      rerender();
    });
    item.append(row);
    const kids = actor.children.map((k) => model.actors.get(k)).filter((a): a is ActorRecord => a !== undefined);
    if (kids.length) {
      const nested = h('ul', 'actor-tree');
      for (const kid of kids) branch(kid, nested);
      item.append(nested);
    }
    into.append(item);
  };
  tree.replaceChildren();
  branch(root, tree);

  document.getElementById('actor-chart-title')!.textContent = `${chosen.name} · statechart`;
  const svg = document.getElementById('actor-chart') as unknown as SVGSVGElement;
  const states = chosen.definition?.states;
  document.getElementById('actor-chart-empty')!.hidden = Boolean(states);
  if (states) renderDiagram(svg, statechartDiagram(chosen.definition!, chosen.snapshot?.value, chosen.visited, chosen.snapshot?.status === 'done'), () => {});
  else svg.replaceChildren();
  renderSequence(model, run);
}
