/**
 * The browser side of `inspect()`: opens the inspector UI in a window and posts the run's
 * events to it, held in the same bounded send queue as the Node side (send-queue.ts) until
 * the window says it is connected (`@statelyai.connected`, as `@statelyai/inspect` does).
 * `createBrowserInspector` held at most `maxDeferredEvents` and dropped the oldest without a
 * word, the run's definition among them; here a drop is counted and the run gets a
 * `junjo.inspector.lost` notice, and definitions and first snapshots are never dropped.
 * Events go as strings of several JSON events, one per line (protocol.ts), which the UI
 * forwards to its server as they are.
 */
import { joinFrames } from './protocol.js';
import { SendQueue, lostNotice, type QueueBudget } from './send-queue.js';
import { eventsIn } from './implied-events.js';
import type { WireObject } from './wire-event.js';

/** Messages to the window of about this many characters. */
const FRAME_CHARS = 256 * 1024;

export class WindowAdapter {
  #window: Window | null = null;
  #connected = false;
  #queue: SendQueue;
  #out: string[] = [];
  /** Events that could not be posted because no window could be opened. */
  #unsent = 0;
  readonly #onMessage = (message: MessageEvent) => {
    const data = message.data as { type?: unknown } | null;
    if (message.source !== this.#window || !data || data.type !== '@statelyai.connected' || this.#connected) return;
    this.#connected = true;
    const notice = (root: string, count: number) =>
      lostNotice(root, count, `the app held events within its budget (${this.#queue.budget.maxEvents} events, ${this.#queue.budget.maxBytes} bytes) until the inspector window connected`);
    this.#post(this.#queue.drain(notice));
  };

  constructor(
    readonly url: string,
    readonly stringify: (value: unknown) => string | undefined,
    budget: QueueBudget,
    readonly log: (line: string) => void,
  ) {
    this.#queue = new SendQueue(budget);
  }

  /** Opens the window; call it from a user action (browsers block pop-ups otherwise). */
  start(): void {
    this.#window = window.open(this.url, 'junjo-inspector');
    if (!this.#window) {
      this.log(`junjo inspector: the window for ${this.url} could not be opened (pop-ups blocked? call inspect() from a click); events of this run are not shown`);
      return;
    }
    window.addEventListener('message', this.#onMessage);
  }

  send(event: WireObject): void {
    const text = this.stringify(event);
    if (text === undefined) return;
    if (!this.#window) this.#unsent += eventsIn(event);
    else if (this.#connected) this.#out.push(text);
    else this.#queue.push(text, { type: event.type, sessionId: event.sessionId, rootId: event.rootId, events: eventsIn(event) });
  }

  /** Posts the events sent since the last flush, several to a message. */
  flush(): void {
    const texts = this.#out;
    this.#out = [];
    this.#post(texts);
  }

  #post(texts: string[]): void {
    if (!this.#window || texts.length === 0) return;
    for (const frame of joinFrames(texts, FRAME_CHARS, (text) => text.length)) this.#window.postMessage(frame, '*');
  }

  /** Posts what is left and says the app is done; events still held (no connection yet) are counted as not sent. */
  stop(): void {
    this.flush();
    if (this.#unsent > 0) this.log(`junjo inspector: ${this.#unsent} events were not shown (no inspector window)`);
    if (!this.#connected && this.#queue.size > 0) this.log(`junjo inspector: ${this.#queue.size} events were still waiting for the inspector window to connect when the app stopped inspecting`);
    this.#window?.postMessage({ type: '@statelyai.disconnected' }, '*');
    window.removeEventListener('message', this.#onMessage);
  }
}

