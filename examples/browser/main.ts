/**
 * The page script of examples/browser: runs the record-workout-activity workflow in the
 * browser as an XState actor and renders, as they change, each node's status (read off the
 * run's snapshot), the store's state (the store actor's snapshot) and a timeline (from the
 * run's lifecycle hooks, which report starts, ends and commits in the order they happen).
 */
import { graphToJSON, type WorkflowEvent } from '../../src/index.js';
import { recordWorkoutActivity } from '../record-workout-activity/workflow.js';
import { progressOf, type NodeProgress } from '../shared/progress.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const graph = graphToJSON(recordWorkoutActivity.graph());
let current: { stop(): void } | undefined;

function renderNodes(nodes: NodeProgress[]) {
  $('nodes').replaceChildren(
    ...nodes.map((n) => {
      const li = document.createElement('li');
      li.className = n.parent ? 'item' : '';
      li.dataset.node = n.key;
      li.dataset.status = n.status;
      li.innerHTML = `<span class="name"></span><span class="kind"></span><span class="pill ${n.status}">${n.status}</span>`;
      li.querySelector('.name')!.textContent = n.name;
      li.querySelector('.kind')!.textContent = n.kind === 'runConcurrent' ? 'RunConcurrent' : n.kind;
      return li;
    }),
  );
}

function run(message: string) {
  current?.stop();
  $('timeline').replaceChildren();
  $('summary').textContent = '';
  $('summary').className = 'summary';
  const started = performance.now();
  const log = (text: string) => {
    const li = document.createElement('li');
    li.innerHTML = `<span class="t">${(performance.now() - started).toFixed(0)} ms</span>`;
    li.append(text);
    $('timeline').append(li);
  };

  const onEvent = (event: WorkflowEvent) =>
    log(event.type === 'stateChanged' ? `store: ${event.action}${event.node ? ` from ${event.node}` : ''}` : `${event.kind} ${event.name}: ${event.status}`);
  const actor = recordWorkoutActivity.createRun({ message }, { hooks: { onEvent } });
  actor.subscribe({
    next: (snapshot) => {
      renderNodes(progressOf(graph, snapshot));
      $('run-status').textContent = snapshot.status === 'active' ? 'running' : snapshot.status;
      document.body.dataset.runStatus = snapshot.status;
      if (snapshot.status === 'done') {
        $('summary').textContent = snapshot.output.state.summary ?? '';
      }
    },
    error: (error) => {
      $('run-status').textContent = 'failed';
      document.body.dataset.runStatus = 'error';
      $('summary').className = 'summary failed';
      $('summary').textContent = String(error);
      renderNodes(progressOf(graph, actor.getSnapshot()));
    },
  });
  actor.start();

  // The store is a child actor; its snapshot is the committed state.
  const store = actor.getSnapshot().context.store;
  const showState = (state: unknown) => ($('state').textContent = JSON.stringify(state, null, 2));
  showState(store.getSnapshot().context);
  store.subscribe((snapshot: { context: unknown }) => showState(snapshot.context));
  current = actor;
}

renderNodes(progressOf(graph, { status: 'active', context: { executionCounts: {}, failure: null }, children: {}, getMeta: () => ({}) }));
$('run-form').addEventListener('submit', (event) => {
  event.preventDefault();
  run($<HTMLTextAreaElement>('message').value);
});
