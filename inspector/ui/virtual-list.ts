/**
 * A virtualised list of fixed-height table rows: only the rows in view (and a few either
 * side) are in the DOM, between two spacer rows that give the scroller its full height. A
 * 10,000-item run has some 40,000 events; as rows, they made the page take minutes.
 */
export class VirtualRows {
  #count = 0;
  #drawn = { from: -1, to: -1, version: -1 };
  #version = 0;
  readonly #top: HTMLTableRowElement;
  readonly #bottom: HTMLTableRowElement;

  constructor(
    readonly scroller: HTMLElement,
    readonly body: HTMLElement,
    readonly rowHeight: number,
    readonly columns: number,
    /** Builds the row for position `i` of the list. */
    readonly row: (i: number) => HTMLTableRowElement,
  ) {
    const spacer = () => {
      const tr = document.createElement('tr');
      tr.className = 'spacer';
      const td = document.createElement('td');
      td.colSpan = columns;
      tr.append(td);
      return tr;
    };
    this.#top = spacer();
    this.#bottom = spacer();
    scroller.addEventListener('scroll', () => this.draw(), { passive: true });
  }

  /** The list now has `count` rows; `changed` says rows already drawn may differ (e.g. a new filter). */
  set(count: number, changed: boolean): void {
    this.#count = count;
    if (changed) this.#version++;
    this.draw();
  }

  get atEnd(): boolean {
    return this.scroller.scrollTop + this.scroller.clientHeight >= this.scroller.scrollHeight - this.rowHeight;
  }

  scrollToEnd(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.draw();
  }

  /** Draws the rows in view, if they are not the ones drawn already. */
  draw(): void {
    const view = Math.ceil((this.scroller.clientHeight || 320) / this.rowHeight);
    const first = Math.floor(this.scroller.scrollTop / this.rowHeight);
    const from = Math.max(0, Math.min(first - 10, this.#count - view - 20));
    const to = Math.min(this.#count, from + view + 20);
    const drawn = this.#drawn;
    if (drawn.from === from && drawn.to === to && drawn.version === this.#version) return;
    const rows: HTMLTableRowElement[] = [];
    for (let i = from; i < to; i++) rows.push(this.row(i));
    (this.#top.firstChild as HTMLElement).style.height = `${from * this.rowHeight}px`;
    (this.#bottom.firstChild as HTMLElement).style.height = `${(this.#count - to) * this.rowHeight}px`;
    this.body.replaceChildren(this.#top, ...rows, this.#bottom);
    this.#drawn = { from, to, version: this.#version };
  }
}
