/**
 * The event log of the shown run: every event, through a virtualised list (virtual-list.ts),
 * filtered by text and by hiding `xstate.*` events. The matching events are found once per
 * run and filter, then only new events are looked at. A payload is shown on one line; clicking
 * its row shows the whole payload below the list.
 */
import type { Model, RunRecord } from './model.js';
import { VirtualRows } from './virtual-list.js';

const ROW_HEIGHT = 24;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export interface EventFilter {
  text: string;
  hideInternal: boolean;
}

export class EventList {
  readonly #rows: VirtualRows;
  #run: RunRecord | undefined;
  #model: Model | undefined;
  /** Indexes (into the run's events) of the events that match, and how many events were looked at. */
  #matches: number[] = [];
  #looked = 0;
  #key = '';
  #selected: number | undefined;

  constructor(
    readonly card: HTMLElement,
    readonly scroller: HTMLElement,
    readonly body: HTMLElement,
    readonly note: HTMLElement,
    readonly detail: HTMLElement,
  ) {
    this.#rows = new VirtualRows(scroller, body, ROW_HEIGHT, 6, (i) => this.#row(i));
    body.addEventListener('click', (e) => {
      const tr = (e.target as HTMLElement).closest('tr[data-index]') as HTMLElement | null;
      if (!tr) return;
      this.#selected = Number(tr.dataset.index);
      this.#showDetail();
      this.#rows.set(this.#matches.length, true);
    });
  }

  /** Call at the start of a frame, before any DOM writes (virtual-list.ts, applyScroll). */
  applyScroll(): void {
    this.#rows.applyScroll();
  }

  #name(key: string | undefined): string | undefined {
    return key ? (this.#model!.actors.get(key)?.name ?? key.split(' ')[1]) : undefined;
  }

  /** Shows `run` of `model` (the live one, or a replay of the past); draws only what changed. */
  render(model: Model, run: RunRecord, filter: EventFilter): void {
    const key = `${run.key}\u0000${filter.text}\u0000${filter.hideInternal}`;
    const fresh = key !== this.#key || run !== this.#run || run.events.length < this.#looked;
    const follow = fresh || this.#rows.atEnd;
    if (key !== this.#key) this.#selected = undefined;
    this.#model = model;
    if (fresh) {
      this.#key = key;
      this.#run = run;
      this.#matches = [];
      this.#looked = 0;
    }
    const needle = filter.text.toLowerCase();
    const events = run.events;
    const before = this.#matches.length;
    for (let i = this.#looked; i < events.length; i++) {
      const e = events[i]!;
      if (filter.hideInternal && e.type.startsWith('xstate.')) continue;
      if (needle && !`${e.type} ${this.#name(e.actorKey)} ${this.#name(e.sourceKey) ?? ''}`.toLowerCase().includes(needle)) continue;
      this.#matches.push(i);
    }
    this.#looked = events.length;
    this.card.dataset.eventCount = String(events.length);
    this.note.textContent = this.#matches.length === events.length ? `${events.length} events` : `${this.#matches.length} of ${events.length} events`;
    if (!fresh && this.#matches.length === before) return;
    this.#rows.set(this.#matches.length, fresh);
    if (fresh) this.#showDetail();
    // Follow new events only when the person is already at the bottom, as a terminal does.
    if (follow) this.#rows.scrollToEnd();
  }

  #row(position: number): HTMLTableRowElement {
    const run = this.#run!;
    const e = run.events[this.#matches[position]!]!;
    const tr = h('tr', `${e.type.startsWith('xstate.') ? 'internal' : ''}${e.index === this.#selected ? ' selected' : ''}`);
    tr.dataset.index = String(e.index);
    const { type: _type, ...payload } = e.event;
    const from = this.#name(e.sourceKey) ?? (typeof payload.node === 'string' ? `node ${payload.node}` : '');
    // One line in the list (cut by CSS, not here); the whole payload is one click away.
    const details = Object.keys(payload).length ? JSON.stringify(payload) : '';
    tr.append(
      h('td', 'num', String(e.index + 1)),
      h('td', 'num', `+${e.time - run.startedAt}`),
      h('td', 'actor', this.#name(e.actorKey) ?? ''),
      h('td', 'type', e.type),
      h('td', 'source', from),
      h('td', 'details', details),
    );
    if (details) tr.title = 'click to show the whole payload';
    return tr;
  }

  #showDetail(): void {
    const e = this.#selected === undefined ? undefined : this.#run?.events[this.#selected];
    this.detail.hidden = !e;
    if (!e) return;
    const { type, ...payload } = e.event;
    const title = h('div', 'event-detail-title', `#${e.index + 1} ${type} · ${this.#name(e.actorKey) ?? ''}`);
    const close = h('button', 'event-detail-close', 'close');
    close.type = 'button';
    close.addEventListener('click', () => {
      this.#selected = undefined;
      this.#showDetail();
      this.#rows.set(this.#matches.length, true);
    });
    title.append(close);
    this.detail.replaceChildren(title, h('pre', 'event-payload', JSON.stringify(payload, null, 2)));
  }
}
