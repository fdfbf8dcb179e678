/**
 * The "Node activity" card (issue 16): what each node of the run sent out with `ctx.emit`
 * while it ran — streamed tokens joined into text, other values counted with the last shown —
 * and, under an agent node, its model requests and tool calls one by one (`<node>/model#1`,
 * `<node>/tool#2`, the run's child actors) with their status and the text each streamed.
 *
 * Emitted values reach the inspector as `junjo.emit` events on the run actor
 * (src/compile/node-emit.ts); steps are the run's actors named by the agent kind
 * (src/compile/kinds/agent.ts). Built from the model alone, so a replayed past shows that moment.
 */
import { EMIT_EVENT_TYPE, type ActorRecord, type Model, type RunRecord } from './model.js';

export type StepStatus = 'running' | 'done' | 'failed' | 'cancelled';

export interface StepActivity {
  /** `model#1`, `tool#2` */
  step: string;
  status: StepStatus;
  /** The tool it called, once known (from the agent's `agent.step` value). */
  tool?: string;
  text: string;
}

export interface NodeActivity {
  /** The node's key in the run's graph. */
  node: string;
  name: string;
  values: number;
  text: string;
  /** The last value that was not a token, if any. */
  last?: unknown;
  steps: StepActivity[];
}

const STEP_ACTOR = /^(.+)\/((?:model|tool)#\d+)$/;

interface Emitted {
  node?: unknown;
  name?: unknown;
  step?: unknown;
  data?: { type?: unknown; text?: unknown; tool?: unknown; kind?: unknown } | unknown;
}

function statusOf(actor: ActorRecord | undefined): StepStatus {
  return ({ active: 'running', done: 'done', error: 'failed', stopped: 'cancelled' } as const)[actor?.snapshot?.status as 'active'] ?? 'running';
}

/** Every node of `run` that emitted a value or ran agent steps, in the order they began. */
export function activityOf(model: Model, run: RunRecord): NodeActivity[] {
  const nodes = new Map<string, NodeActivity>();
  const nodeOf = (key: string, name = key) => {
    let node = nodes.get(key);
    if (!node) nodes.set(key, (node = { node: key, name, values: 0, text: '', steps: [] }));
    return node;
  };
  const stepOf = (node: NodeActivity, step: string) => {
    let found = node.steps.find((s) => s.step === step);
    if (!found) node.steps.push((found = { step, status: 'running', text: '' }));
    return found;
  };
  for (const key of run.actors) {
    const actor = model.actors.get(key);
    const match = actor && STEP_ACTOR.exec(actor.name);
    if (match) stepOf(nodeOf(match[1]!), match[2]!).status = statusOf(actor);
  }
  for (const record of run.events) {
    if (record.type !== EMIT_EVENT_TYPE) continue;
    const event = record.event as Emitted;
    if (typeof event.node !== 'string') continue;
    const node = nodeOf(event.node, typeof event.name === 'string' ? event.name : event.node);
    if (typeof event.name === 'string') node.name = event.name;
    node.values++;
    const data = (event.data ?? {}) as { type?: unknown; text?: unknown; tool?: unknown; kind?: unknown };
    const step = typeof event.step === 'string' ? stepOf(node, event.step) : undefined;
    if (data.type === 'llm.token' && typeof data.text === 'string') {
      node.text += data.text;
      if (step) step.text += data.text;
    } else {
      node.last = event.data;
      if (step && data.type === 'agent.step' && typeof data.tool === 'string') step.tool = data.tool;
    }
  }
  return [...nodes.values()];
}

const STYLE = `
.activity-card { grid-column: 1 / -1; }
.activity { padding: 10px 14px; display: flex; flex-direction: column; gap: 12px; }
.activity-node > header { display: flex; gap: 10px; align-items: baseline; }
.activity-node .tokens { white-space: pre-wrap; font-family: var(--mono); font-size: 12px; background: var(--pending-bg); border-radius: 6px; padding: 6px 8px; margin-top: 4px; }
.activity-node .last { color: var(--muted); font-family: var(--mono); font-size: 12px; margin-top: 4px; }
.activity-steps { list-style: none; margin: 6px 0 0 14px; padding: 0 0 0 10px; border-left: 2px solid var(--line); display: flex; flex-direction: column; gap: 4px; }
.activity-steps li { display: flex; gap: 8px; align-items: baseline; }
.activity-steps .step-text { white-space: pre-wrap; font-family: var(--mono); font-size: 12px; color: var(--text); }
`;

/** The card, made once, after the Items card. */
function card(): HTMLElement {
  let section = document.getElementById('activity-card');
  if (section) return section;
  const style = document.createElement('style');
  style.textContent = STYLE;
  document.head.append(style);
  section = document.createElement('section');
  section.id = 'activity-card';
  section.className = 'card activity-card';
  const header = document.createElement('header');
  header.innerHTML = '<h3>Node activity</h3><span class="hint">values sent with ctx.emit, an agent’s model requests and tool calls</span>';
  const body = document.createElement('div');
  body.id = 'activity';
  body.className = 'activity';
  section.append(header, body);
  const items = document.getElementById('items-card');
  if (items) items.after(section);
  else document.getElementById('main')?.append(section);
  return section;
}

function el(tag: string, className: string, text?: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

/** Draws `activity` into the card; hides the card when no node emitted or ran steps. */
export function renderActivity(activity: readonly NodeActivity[]): void {
  const section = card();
  section.hidden = activity.length === 0;
  const body = section.querySelector<HTMLElement>('#activity')!;
  body.replaceChildren(
    ...activity.map((node) => {
      const row = el('div', 'activity-node');
      row.dataset.node = node.node;
      const header = el('header', '');
      header.append(el('strong', '', node.name), el('span', 'count', `${node.values.toLocaleString('en')} value${node.values === 1 ? '' : 's'} emitted`));
      row.append(header);
      if (node.text) row.append(el('div', 'tokens', node.text));
      if (node.last !== undefined) row.append(el('div', 'last', `last: ${preview(node.last)}`));
      if (node.steps.length) {
        const list = el('ol', 'activity-steps');
        for (const step of node.steps) {
          const li = el('li', `step status-${step.status}`);
          li.dataset.step = step.step;
          li.dataset.status = step.status;
          li.append(el('code', '', step.step), el('span', `chip status-${step.status}`, step.status));
          if (step.tool) li.append(el('span', 'tool', step.tool));
          if (step.text) li.append(el('span', 'step-text', step.text));
          list.append(li);
        }
        row.append(list);
      }
      return row;
    }),
  );
}
