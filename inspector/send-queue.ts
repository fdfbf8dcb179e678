/**
 * The events an app holds while its inspector socket is not open yet, within a stated budget.
 * Over budget it drops the oldest events that can be spared, never an actor's definition
 * (`@xstate.actor`) or its first snapshot: without those a run cannot be drawn at all. Every
 * drop is counted per run, and `drain()` ends with one `junjo.inspector.lost` event per run
 * that lost any, so the UI can say how many are missing instead of showing a run that looks
 * whole. Pure and browser-safe: the transport lives in client.ts.
 */

/** The event type the client sends (and the UI shows) when events of a run were dropped. */
export const LOST_EVENT_TYPE = 'junjo.inspector.lost';

export interface QueueBudget {
  /** At most this many events are held (default 250,000). */
  maxEvents: number;
  /** At most this many bytes of serialized events are held (default 256 MiB). */
  maxBytes: number;
}

export const DEFAULT_BUDGET: QueueBudget = { maxEvents: 250_000, maxBytes: 256 * 1024 * 1024 };

/** The fields of a serialized inspection event the queue looks at. */
export interface QueuedEventInfo {
  type: string;
  sessionId: string;
  rootId?: string | null | undefined;
  /** How many of the app's inspection events the text stands for, when it implies others (implied-events.ts). */
  events?: number;
}

interface Entry {
  text: string | null;
  bytes: number;
  events: number;
  keep: boolean;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** Byte length of a string as UTF-8, without allocating a buffer. */
export function utf8Bytes(text: string): number {
  // Most events are ASCII: the native scan is many times faster than counting in a loop.
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    // A surrogate pair is one 4-byte character: count it at its high half.
    else if (code >= 0xd800 && code <= 0xdbff) bytes += 4;
    else if (code >= 0xdc00 && code <= 0xdfff) bytes += 0;
    else bytes += 3;
  }
  return bytes;
}

export class SendQueue {
  #entries: Entry[] = [];
  /** Index of the oldest entry that might still be dropped: everything before it is kept or gone. */
  #scan = 0;
  #events = 0;
  #bytes = 0;
  readonly #seenSnapshot = new Set<string>();
  readonly #lost = new Map<string, number>();

  constructor(readonly budget: QueueBudget = DEFAULT_BUDGET) {}

  get size(): number {
    return this.#events;
  }

  /** Events dropped so far, per run (root session id). */
  get lost(): ReadonlyMap<string, number> {
    return this.#lost;
  }

  push(text: string, info: QueuedEventInfo): void {
    const bytes = utf8Bytes(text);
    let keep = info.type === '@xstate.actor';
    if (info.type === '@xstate.snapshot' && !this.#seenSnapshot.has(info.sessionId)) {
      this.#seenSnapshot.add(info.sessionId);
      keep = true;
    }
    const root = info.rootId && info.rootId !== 'anonymous' ? info.rootId : info.sessionId;
    const events = info.events ?? 1;
    this.#entries.push({ text: `${root}\u0000${text}`, bytes, events, keep });
    this.#events += events;
    this.#bytes += bytes;
    while (this.#events > this.budget.maxEvents || this.#bytes > this.budget.maxBytes) {
      if (!this.#dropOldest()) break;
    }
  }

  /** Drops the oldest entry that may be spared; false when only kept ones are left. */
  #dropOldest(): boolean {
    while (this.#scan < this.#entries.length) {
      const entry = this.#entries[this.#scan++]!;
      if (entry.text === null || entry.keep) continue;
      const cut = entry.text.indexOf('\u0000');
      const root = entry.text.slice(0, cut);
      this.#lost.set(root, (this.#lost.get(root) ?? 0) + entry.events);
      entry.text = null;
      this.#events -= entry.events;
      this.#bytes -= entry.bytes;
      return true;
    }
    return false;
  }

  /**
   * Everything held, oldest first, then one lost-events notice per run that lost any; empties
   * the queue. `notice(root, count)` builds the notice's text.
   */
  drain(notice: (root: string, count: number) => string): string[] {
    const out: string[] = [];
    for (const entry of this.#entries) {
      if (entry.text === null) continue;
      out.push(entry.text.slice(entry.text.indexOf('\u0000') + 1));
    }
    for (const [root, count] of this.#lost) out.push(notice(root, count));
    this.#entries = [];
    this.#scan = 0;
    this.#events = 0;
    this.#bytes = 0;
    this.#lost.clear();
    return out;
  }
}

/** The text of a lost-events notice for run `root`, in the `@statelyai/inspect` event format. */
export function lostNotice(root: string, count: number, reason: string): string {
  return JSON.stringify({
    type: '@xstate.event',
    sessionId: root,
    rootId: root,
    sourceId: null,
    event: { type: LOST_EVENT_TYPE, count, reason },
    createdAt: String(Date.now()),
    id: null,
    _version: 'junjo',
  });
}
