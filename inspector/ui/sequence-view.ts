/**
 * The sequence view: who sent what to whom, in order — one lifeline per actor of the run that
 * sent or received an event from another actor, one arrow per such event (XState's own
 * `xstate.*` events left out). Drawn into #sequence (made by actor-tree.ts).
 */
import type { Model, RunRecord } from './model.js';

const SVG = 'http://www.w3.org/2000/svg';
const COLUMN = 120;
const ROW = 26;
const TOP = 34;
/** The most recent messages drawn; older ones are counted in the title. */
const MAX_MESSAGES = 400;

function el(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

export function renderSequence(model: Model, run: RunRecord): void {
  const svg = document.getElementById('sequence') as unknown as SVGSVGElement;
  const all = run.events.filter((e) => e.sourceKey && e.sourceKey !== e.actorKey && model.actors.has(e.sourceKey) && !e.type.startsWith('xstate.'));
  const messages = all.slice(-MAX_MESSAGES);
  document.getElementById('sequence-empty')!.hidden = messages.length > 0;
  svg.replaceChildren();
  if (!messages.length) return;
  // Lifelines in the order the actors first take part.
  const lanes: string[] = [];
  for (const m of messages) for (const key of [m.sourceKey!, m.actorKey]) if (!lanes.includes(key)) lanes.push(key);
  const x = (key: string) => COLUMN / 2 + lanes.indexOf(key) * COLUMN;
  const height = TOP + messages.length * ROW + 12;
  svg.setAttribute('width', String(lanes.length * COLUMN));
  svg.setAttribute('height', String(height));
  const defs = el('defs', {});
  const marker = el('marker', { id: 'seq-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(el('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#4f46e5' }));
  defs.append(marker);
  svg.append(defs);
  const nameOf = (key: string) => model.actors.get(key)?.name ?? key;
  // Actors of one name (the same node in two runs) are told apart by their parent's name.
  const names = lanes.map(nameOf);
  const label = (key: string) => {
    const name = nameOf(key);
    const parent = model.actors.get(key)?.parentKey;
    return names.indexOf(name) !== names.lastIndexOf(name) && parent ? `${nameOf(parent)}/${name}` : name;
  };
  for (const key of lanes) {
    svg.append(el('text', { x: x(key), y: 16, 'text-anchor': 'middle', class: 'seq-actor', 'data-actor': nameOf(key) }, label(key)));
    svg.append(el('line', { x1: x(key), y1: 24, x2: x(key), y2: height, class: 'seq-lifeline' }));
  }
  messages.forEach((m, i) => {
    const y = TOP + i * ROW + ROW / 2;
    const from = x(m.sourceKey!);
    const to = x(m.actorKey);
    const group = el('g', {
      class: 'seq-message',
      'data-from': model.actors.get(m.sourceKey!)?.name ?? '',
      'data-to': model.actors.get(m.actorKey)?.name ?? '',
      'data-type': m.type,
      'data-index': i,
    });
    group.append(el('line', { x1: from, y1: y, x2: to + (to > from ? -4 : 4), y2: y, class: 'seq-arrow', 'marker-end': 'url(#seq-arrow)' }));
    group.append(el('text', { x: (from + to) / 2, y: y - 5, 'text-anchor': 'middle', class: 'seq-label' }, m.type));
    svg.append(group);
  });
  if (all.length > messages.length) svg.append(el('text', { x: 4, y: height - 2, class: 'seq-label' }, `${all.length - messages.length} earlier not drawn`));
}
