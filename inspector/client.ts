/**
 * `inspect()`: one line to send a run (or any XState v5 actor) to the local inspector.
 *
 * ```ts
 * const inspector = inspect();                        // ws://127.0.0.1:4480 in Node, the UI in a browser
 * await workflow.execute(input, { inspect: inspector });
 * await inspector.stop();                             // flushes what is left, then disconnects
 * ```
 *
 * Events use the `@statelyai/inspect` format (wire-event.ts builds them), several to a message
 * (protocol.ts), without the ones their neighbour implies (implied-events.ts). In Node the transport is a small WebSocket adapter instead of
 * `createWebSocketInspector`'s: that one retries every 5 s forever when no server is listening
 * and cannot be flushed, so a script using it would never exit. In a browser it is a window
 * (window-adapter.ts) instead of `createBrowserInspector`'s, which drops the oldest events
 * silently past 200. Both hold events in the same bounded queue (send-queue.ts) until
 * connected. Any XState app may still use `createWebSocketInspector({ url:
 * 'ws://127.0.0.1:4480' })` or `createBrowserInspector` directly.
 *
 * Errors are turned into `{ name, message, … }` before serialization: JSON drops an Error's
 * message and stack (they are not enumerable), and the failure is what a person looks for.
 */
import safeStringify from 'safe-stable-stringify';
import type { InspectionEvent, Observer } from 'xstate';
import type { WebSocket } from 'ws';
import { DEFAULT_HOST, DEFAULT_PORT, joinFrames } from './protocol.js';
import { withoutSupersededSnapshots } from './coalesce.js';
import { WindowAdapter } from './window-adapter.js';
import { StoreDeltas } from './store-deltas.js';
import { ImpliedEventsWriter, eventsIn } from './implied-events.js';
import type { WireObject } from './wire-event.js';
import { DEFAULT_BUDGET, SendQueue, lostNotice, utf8Bytes, type QueueBudget, type QueuedEventInfo } from './send-queue.js';

export interface InspectOptions {
  /**
   * Node: the server's WebSocket address (default `ws://127.0.0.1:4480/`, or the
   * `JUNJO_INSPECTOR_URL` environment variable). Browser: the UI's address with its token
   * (`http://127.0.0.1:4480/?token=…`, as the server prints it), opened in a new window.
   */
  url?: string;
  /**
   * Node: the server's token (default `JUNJO_INSPECTOR_TOKEN`). Only a server opened to the
   * network (`--allow-remote`) asks senders for it; on loopback an app sends without one.
   */
  token?: string;
  /**
   * How deep contexts, events and machine definitions are serialized. Unset, values go out
   * whole through the native JSON.stringify, and only one it cannot serialize (a circular one)
   * is cut at 32 levels; set, every value is cut at this depth (slower: about 1.5× the cost).
   */
  depth?: number;
  /**
   * The budget for events held while the socket is not open yet (default 250,000 events and
   * 256 MiB: a 10,000-item RunMap makes 90,000 events, all before its first turn of the event
   * loop lets a socket open). Over it the oldest events are dropped, never an actor's definition or first
   * snapshot, and the run gets a notice saying how many were lost.
   */
  maxQueuedEvents?: number;
  maxQueuedBytes?: number;
  /**
   * Events larger than this are sent with their context (then the whole snapshot) replaced by
   * a note saying how big it was, so the server does not drop them (default 2 MiB, the
   * server's own default limit).
   */
  maxMessageBytes?: number;
  /** Where the one-line connection notices go (default console.warn). */
  log?: (line: string) => void;
  /**
   * A junjo store's commits go out as immer patches; its first commit, its end, and one now and
   * then go out with the whole state, for tools that read snapshots alone: the gap starts at
   * this many commits (default 200) and grows with the run to ten times it (store-deltas.ts).
   */
  fullSnapshotEvery?: number;
}

/** An inspection observer for `execute(input, { inspect })` or `createActor(machine, { inspect })`. */
export interface Inspector extends Observer<InspectionEvent> {
  next(event: InspectionEvent): void;
  /** Sends what is still queued and disconnects; resolves when done. */
  stop(): Promise<void>;
}

const isNode =
  typeof process !== 'undefined' && typeof process.versions?.node === 'string' && typeof document === 'undefined';

/** The replacer that keeps what JSON would drop from errors. */
function readableErrors(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const { name, message, stack } = value;
  const out: Record<string, unknown> = { name, message, stack, ...Object.fromEntries(Object.entries(value)) };
  if (value.cause !== undefined) out.cause = value.cause;
  return out;
}

/**
 * Whether a wire event is one where XState or junjo put a thrown value as it was thrown: an
 * error event (`xstate.error.actor…`), a snapshot taken in reaction to one or with an error
 * status, or a state machine's snapshot (a run keeps its failure in its context). Errors
 * elsewhere (in a store's state or an app's own event) are found by the `{}` they leave.
 */
function mayHoldErrors(value: unknown): boolean {
  const wire = value as { type?: unknown; event?: { type?: unknown }; snapshot?: { status?: unknown; value?: unknown } };
  if (wire === null || typeof wire !== 'object' || typeof wire.type !== 'string' || !wire.type.startsWith('@xstate.')) return false;
  if (typeof wire.event?.type === 'string' && wire.event.type.startsWith('xstate.error')) return true;
  const snapshot = wire.snapshot;
  return !!snapshot && typeof snapshot === 'object' && (snapshot.status === 'error' || 'value' in snapshot);
}

/** An event too big for the server, made to fit: context first, then the whole snapshot, go. */
function fitted(event: WireObject, text: string, limit: number, stringify: (value: unknown) => string | undefined): string | undefined {
  // No UTF-16 unit takes more than 3 bytes in UTF-8: short texts need no counting.
  if (text.length * 3 <= limit) return text;
  const bytes = utf8Bytes(text);
  if (bytes <= limit) return text;
  const note = `omitted: ${bytes} bytes, over the inspector's ${limit}-byte message limit (inspect({ maxMessageBytes }) and the server's maxMessageBytes raise it)`;
  let shrunk = event as unknown as { snapshot?: Record<string, unknown>; definition?: string; [key: string]: unknown };
  const fits = () => {
    const text = stringify(shrunk);
    return text !== undefined && utf8Bytes(text) <= limit ? text : undefined;
  };
  // A machine's definition repeats its initial context; the drawing needs only its states.
  if (typeof shrunk.definition === 'string' && utf8Bytes(shrunk.definition) > limit / 2) {
    try {
      const { context: _context, ...states } = JSON.parse(shrunk.definition) as Record<string, unknown>;
      shrunk = { ...shrunk, definition: JSON.stringify(states) };
    } catch {
      // Not JSON: left as it is, and dropped below if it is what does not fit.
    }
  }
  const snapshot = shrunk.snapshot;
  if (snapshot && typeof snapshot === 'object') {
    shrunk = { ...shrunk, snapshot: { ...snapshot, context: { '@junjo.omitted': note } } };
    const smaller = fits();
    if (smaller) return smaller;
    shrunk = { ...shrunk, snapshot: { status: snapshot.status, value: snapshot.value, '@junjo.omitted': note } };
  }
  return fits();
}

/**
 * A `@statelyai/inspect` adapter over one WebSocket: holds events within a budget until
 * connected (send-queue.ts), connects once, and says in one line when it cannot, or when the
 * connection is lost and how many events that cost.
 */
class SocketAdapter {
  #socket: WebSocket | undefined;
  #connecting: Promise<WebSocket | undefined> | undefined;
  #queue: SendQueue;
  /** Events that could not be sent once the connection was given up or lost. */
  #unsent = 0;
  #gone = false;
  /** Whether events sent after the connection went are counted (not when it never opened). */
  #counting = true;
  /** Events of the current batch not sent yet: several go in one message (protocol.ts). */
  #out: string[] = [];
  /** An upper bound of #out's joined size in UTF-8 bytes (three per UTF-16 unit). */
  #outBytes = 0;
  /** The inspection events #out stands for (a text may imply others, implied-events.ts). */
  #outEvents = 0;
  /** Set once the connection opened or was given up: until then events are held, not sent. */
  settled = false;

  constructor(
    readonly url: string,
    readonly stringify: (value: unknown) => string | undefined,
    budget: QueueBudget,
    readonly maxMessageBytes: number,
    readonly log: (line: string) => void,
  ) {
    this.#queue = new SendQueue(budget);
  }

  start(): void {
    this.#connecting ??= this.#connect();
  }

  async #connect(): Promise<WebSocket | undefined> {
    const { WebSocket } = await import('ws');
    // An all-zero mask, which ws sends without XORing the payload (and reads without
    // unmasking): masking guards proxies against scripts in browsers, and this client is a
    // Node process talking to a server it named itself. At 22 MB a large run, masking on both
    // sides was a tenth of delivery.
    const socket = new WebSocket(this.url, { generateMask: (mask) => void mask.fill(0) });
    const outcome = await new Promise<string | undefined>((resolve) => {
      socket.once('open', () => resolve(undefined));
      socket.once('unexpected-response', (_req, res) => {
        resolve(
          res.statusCode === 403
            ? `the inspector at ${this.url} refused this app (HTTP 403): a server opened with --allow-remote needs its token (inspect({ token }) or JUNJO_INSPECTOR_TOKEN)`
            : `the inspector at ${this.url} answered HTTP ${res.statusCode}`,
        );
        res.resume();
        socket.terminate();
      });
      socket.once('error', () => resolve(`nothing listens at ${this.url}; start it with \`npx junjo-inspector\``));
    });
    this.settled = true;
    if (outcome !== undefined) {
      // One line says it all: nothing of this run reaches the inspector.
      this.#queue.drain(() => '');
      this.#gone = true;
      this.#counting = false;
      this.log(`junjo inspector: ${outcome} (events of this run are not shown)`);
      return undefined;
    }
    socket.on('error', () => {});
    socket.once('close', () => {
      if (this.#gone) return;
      this.#gone = true;
      this.log(`junjo inspector: the connection to ${this.url} closed; events after this are not shown`);
    });
    const notice = (root: string, count: number) =>
      lostNotice(root, count, `the app held events within its budget (${this.#queue.budget.maxEvents} events, ${this.#queue.budget.maxBytes} bytes) until the inspector connected`);
    this.#sendFrames(socket, this.#queue.drain(notice));
    this.#socket = socket;
    return socket;
  }

  send(event: WireObject): void {
    const raw = this.stringify(event);
    if (raw === undefined) return;
    const text = fitted(event, raw, this.maxMessageBytes, this.stringify);
    if (text === undefined) {
      this.log(`junjo inspector: an event of ${utf8Bytes(raw)} bytes was not sent, over the ${this.maxMessageBytes}-byte message limit`);
      return;
    }
    if (this.#gone) {
      if (this.#counting) this.#unsent += eventsIn(event);
    } else if (this.#socket?.readyState === 1) {
      // Sent as the batch goes, a message at a time, so the server reads while this converts.
      const bytes = text.length * 3 + 1;
      if (this.#outBytes + bytes > this.#frameBytes) this.flush();
      this.#out.push(text);
      this.#outBytes += bytes;
      this.#outEvents += eventsIn(event);
    } else {
      const info = event as unknown as QueuedEventInfo;
      this.#queue.push(text, { type: info.type, sessionId: info.sessionId, rootId: info.rootId, events: eventsIn(event) });
    }
  }

  /** Messages of about this size keep the server busy while the rest is converted. */
  get #frameBytes(): number {
    return Math.min(this.maxMessageBytes, 768 * 1024);
  }

  /** Sends the events not sent yet, several to a message. */
  flush(): void {
    if (this.#out.length === 0) return;
    const texts = this.#out;
    const events = this.#outEvents;
    this.#out = [];
    this.#outBytes = 0;
    this.#outEvents = 0;
    if (this.#socket?.readyState === 1) this.#sendFrames(this.#socket, texts);
    else if (this.#counting) this.#unsent += events;
  }

  #sendFrames(socket: WebSocket, texts: string[]): void {
    // Three bytes per UTF-16 unit bounds a text's UTF-8 size without reading it through.
    for (const frame of joinFrames(texts, this.#frameBytes, (text) => text.length * 3)) socket.send(frame);
  }

  /** Resolves once the connection opened or was given up. */
  async settle(): Promise<void> {
    await this.#connecting;
  }

  async close(): Promise<void> {
    this.flush();
    const socket = await this.#connecting;
    if (this.#unsent > 0) this.log(`junjo inspector: ${this.#unsent} events were not sent to ${this.url}`);
    this.#unsent = 0;
    if (!socket || socket.readyState !== 1) return;
    this.#gone = true;
    // Frames already passed to `send` go out before the close frame.
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.close();
    });
  }
}

/**
 * Sends one tick's events as one message or a few: superseded snapshots (coalesce.ts) and
 * events their neighbour implies (implied-events.ts) left out.
 */
function sendBatch(batch: InspectionEvent[], adapter: { send(wire: WireObject): void; flush(): void }, writer: ImpliedEventsWriter): void {
  writer.write(withoutSupersededSnapshots(batch), (wire) => adapter.send(wire));
  adapter.flush();
}

function defaultUrl(): string {
  if (isNode) {
    const fromEnv = process.env.JUNJO_INSPECTOR_URL;
    if (fromEnv) return fromEnv;
    return `ws://${DEFAULT_HOST}:${DEFAULT_PORT}/`;
  }
  return `http://${DEFAULT_HOST}:${DEFAULT_PORT}/`;
}

/** `url` with `token` as its `?token=`, unless it carries one already. */
function withToken(url: string, token: string | undefined): string {
  if (!token) return url;
  const parsed = new URL(url);
  if (!parsed.searchParams.has('token')) parsed.searchParams.set('token', token);
  return parsed.href;
}

/** Sets up inspection with this package's defaults; see the file's header for an example. */
export function inspect(options: InspectOptions = {}): Inspector {
  const depth = options.depth ?? 32;
  const budget: QueueBudget = {
    maxEvents: options.maxQueuedEvents ?? DEFAULT_BUDGET.maxEvents,
    maxBytes: options.maxQueuedBytes ?? DEFAULT_BUDGET.maxBytes,
  };
  const log = options.log ?? ((line: string) => console.warn(line));
  const url = options.url ?? defaultUrl();
  // Key order as the app made it: sorting every object's keys (the default) costs the most here.
  const safe = safeStringify.configure({ maximumDepth: depth, deterministic: false });
  const careful = (value: unknown) => safe(value, readableErrors);
  // The native serializer is the fastest by far, and fastest without a replacer (a replacer
  // took a third of a large run's conversion), so only events that may hold an Error get one;
  // a circular value (TypeError) or one too deep for the stack (RangeError) goes through the
  // careful one instead.
  const readable = (value: unknown) => {
    try {
      return JSON.stringify(value, readableErrors);
    } catch {
      return careful(value);
    }
  };
  const stringify =
    options.depth !== undefined
      ? careful
      : (value: unknown) => {
          if (mayHoldErrors(value)) return readable(value);
          let text: string | undefined;
          try {
            text = JSON.stringify(value);
          } catch {
            return careful(value);
          }
          // An Error without enumerable fields comes out as {}: written again, readably.
          return text !== undefined && text.includes('{}') ? readable(value) : text;
        };
  const deltas = new StoreDeltas(options.fullSnapshotEvery ?? 200);
  const writer = new ImpliedEventsWriter(stringify);

  if (isNode) {
    const token = options.token ?? process.env.JUNJO_INSPECTOR_TOKEN;
    const adapter = new SocketAdapter(withToken(url, token), stringify, budget, options.maxMessageBytes ?? 2 * 1024 * 1024, log);
    adapter.start();
    // Converted a turn of the event loop later, in one batch, off the run's own path. Until
    // the socket opens, the batch waits unconverted (a run's events are immutable snapshots,
    // so holding them costs no copy) and goes out whole once it does; only past the budget's
    // event count is it converted into the send queue, which drops within its rules.
    let batch: InspectionEvent[] = [];
    let waiting = false;
    const flush = () => {
      if (!adapter.settled && batch.length <= budget.maxEvents) {
        if (!waiting) {
          waiting = true;
          void adapter.settle().then(() => {
            waiting = false;
            flush();
          });
        }
        return;
      }
      sendBatch(batch, adapter, writer);
      batch = [];
    };
    return {
      next: (event) => {
        if (batch.push(deltas.slim(event)) === 1) setImmediate(flush);
      },
      stop: async () => {
        await adapter.settle();
        flush();
        await adapter.close();
      },
    };
  }

  // The UI cannot be framed (it sends frame-ancestors 'none'), so it always opens in a window.
  const adapter = new WindowAdapter(url, stringify, budget, log);
  adapter.start();
  let batch: InspectionEvent[] = [];
  const flush = () => {
    sendBatch(batch, adapter, writer);
    batch = [];
  };
  return {
    next: (event) => {
      if (batch.push(deltas.slim(event)) === 1) setTimeout(flush, 0);
    },
    stop: async () => {
      flush();
      adapter.stop();
    },
  };
}
