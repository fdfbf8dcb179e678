/**
 * A virtualised list of fixed-height table rows: only the rows in view (and a few either
 * side) are in the DOM, between two spacer rows that give the scroller its full height. A
 * 10,000-item run has some 40,000 events; as rows, they made the page take minutes.
 *
 * It never reads layout while drawing: the scroll position and the view's height are read in
 * the scroll handler (when the browser has laid out anyway) and kept. Reading `scrollHeight`
 * after a render's DOM writes forced a layout of the whole page, every frame.
 */
export class VirtualRows {
  #count = 0;
  #drawn = { from: -1, to: -1, version: -1 };
  #version = 0;
  #scrollTop = 0;
  #viewHeight = 320;
  #atEnd = true;
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
    scroller.addEventListener(
      'scroll',
      () => {
        this.#scrollTop = scroller.scrollTop;
        this.#viewHeight = scroller.clientHeight || this.#viewHeight;
        this.#atEnd = this.#scrollTop + this.#viewHeight >= this.#count * rowHeight - rowHeight;
        this.draw();
      },
      { passive: true },
    );
  }

  /** The list now has `count` rows; `changed` says rows already drawn may differ (e.g. a new filter). */
  set(count: number, changed: boolean): void {
    this.#count = count;
    if (changed) this.#version++;
    this.draw();
  }

  /** Whether the person is at the end of the list (as of their last scroll). */
  get atEnd(): boolean {
    return this.#atEnd;
  }

  #pendingScroll: number | undefined;

  /** Draws the end now; the scroller itself is moved by `applyScroll()` at the next frame's start. */
  scrollToEnd(): void {
    this.#scrollTop = Math.max(0, this.#count * this.rowHeight - this.#viewHeight);
    this.#atEnd = true;
    this.#pendingScroll = this.#scrollTop;
    this.draw();
  }

  /**
   * Moves the scroller where `scrollToEnd` asked. Call it before a frame's DOM writes: setting
   * scrollTop after them forces a layout of the whole page, before them it costs nothing.
   */
  applyScroll(): void {
    if (this.#pendingScroll === undefined) return;
    this.scroller.scrollTop = this.#pendingScroll;
    this.#pendingScroll = undefined;
  }

  /** Draws the rows in view, if they are not the ones drawn already. */
  draw(): void {
    const view = Math.ceil(this.#viewHeight / this.rowHeight);
    const first = Math.floor(this.#scrollTop / this.rowHeight);
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
