/**
 * `inspect()`: one line to send a run (or any XState v5 actor) to the local inspector.
 *
 * ```ts
 * const inspector = inspect();                        // ws://127.0.0.1:4480 in Node, the UI in a browser
 * await workflow.execute(input, { inspect: inspector });
 * await inspector.stop();                             // flushes what is left, then disconnects
 * ```
 *
 * Events use the `@statelyai/inspect` format, built by that package's own `createInspector`
 * (Node) and `createBrowserInspector` (browser). In Node the transport is a small WebSocket
 * adapter instead of `createWebSocketInspector`'s: that one retries every 5 s forever when no
 * server is listening and cannot be flushed, so a script using it would never exit. Any XState
 * app may still use `createWebSocketInspector({ url: 'ws://127.0.0.1:4480' })` directly.
 *
 * Errors are turned into `{ name, message, … }` before serialization: JSON drops an Error's
 * message and stack (they are not enumerable), and the failure is what a person looks for.
 */
import { createBrowserInspector, createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import safeStringify from 'safe-stable-stringify';
import type { InspectionEvent, Observer } from 'xstate';
import { DEFAULT_HOST, DEFAULT_PORT } from './protocol.js';

export interface InspectOptions {
  /**
   * Node: the server's WebSocket address (default `ws://127.0.0.1:4480/`, or the
   * `JUNJO_INSPECTOR_URL` environment variable). Browser: the UI's address (default
   * `http://127.0.0.1:4480/`), which opens in a new window unless `iframe` is given.
   */
  url?: string;
  /** Browser only: show the UI in this iframe instead of a new window. */
  iframe?: HTMLIFrameElement;
  /** How deep contexts, events and machine definitions are serialized (default 32). */
  depth?: number;
  /** Events kept while the inspector is not connected yet (default 10 000). */
  maxQueuedEvents?: number;
  /** Where the one-line connection notices go (default console.warn). */
  log?: (line: string) => void;
}

/** An inspection observer for `execute(input, { inspect })` or `createActor(machine, { inspect })`. */
export interface Inspector extends Observer<InspectionEvent> {
  next(event: InspectionEvent): void;
  /** Sends what is still queued and disconnects; resolves when done. */
  stop(): Promise<void>;
}

/** Only the parts of a WebSocket the adapter uses: satisfied by `ws` and by the DOM's. */
interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
}

const OPEN = 1;
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

/** An XState inspection event with its snapshot and event made plain JSON with readable errors. */
function withReadableErrors(event: InspectionEvent, stringify: (value: unknown) => string | undefined): InspectionEvent {
  const plain = (value: unknown) => {
    const text = stringify(value);
    return text === undefined ? value : JSON.parse(text);
  };
  if (event.type === '@xstate.snapshot') return { ...event, snapshot: plain(event.snapshot), event: plain(event.event) };
  if (event.type === '@xstate.event') return { ...event, event: plain(event.event) };
  return event;
}

/**
 * A `@statelyai/inspect` adapter over one WebSocket: queues until connected, connects once,
 * and says so in one line when no server is listening.
 */
class SocketAdapter {
  #socket: SocketLike | undefined;
  #connecting: Promise<SocketLike | undefined> | undefined;
  #queue: string[] = [];

  constructor(
    readonly url: string,
    readonly stringify: (value: unknown) => string | undefined,
    readonly maxQueued: number,
    readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.#connecting ??= this.#connect();
  }

  async #connect(): Promise<SocketLike | undefined> {
    const { WebSocket } = await import('ws');
    const socket = new WebSocket(this.url) as unknown as SocketLike;
    const opened = await new Promise<boolean>((resolve) => {
      socket.addEventListener('open', () => resolve(true));
      socket.addEventListener('error', () => resolve(false));
    });
    if (!opened) {
      this.log(`junjo inspector: nothing listens at ${this.url}; start it with \`npx junjo-inspector\` (events of this run are not shown)`);
      this.#queue = [];
      return undefined;
    }
    for (const text of this.#queue) socket.send(text);
    this.#queue = [];
    this.#socket = socket;
    return socket;
  }

  send(event: StatelyInspectionEvent): void {
    const text = this.stringify(event);
    if (text === undefined) return;
    if (this.#socket?.readyState === OPEN) {
      this.#socket.send(text);
    } else if (this.#connecting) {
      this.#queue.push(text);
      if (this.#queue.length > this.maxQueued) this.#queue.shift();
    }
  }

  async close(): Promise<void> {
    const socket = await this.#connecting;
    if (!socket || socket.readyState !== OPEN) return;
    // Frames already passed to `send` go out before the close frame.
    await new Promise<void>((resolve) => {
      socket.addEventListener('close', () => resolve());
      socket.close();
    });
  }
}

function defaultUrl(): string {
  if (isNode) {
    const fromEnv = process.env.JUNJO_INSPECTOR_URL;
    if (fromEnv) return fromEnv;
    return `ws://${DEFAULT_HOST}:${DEFAULT_PORT}/`;
  }
  return `http://${DEFAULT_HOST}:${DEFAULT_PORT}/`;
}

/** Sets up inspection with this package's defaults; see the file's header for an example. */
export function inspect(options: InspectOptions = {}): Inspector {
  const depth = options.depth ?? 32;
  const maxQueuedEvents = options.maxQueuedEvents ?? 10_000;
  const log = options.log ?? ((line: string) => console.warn(line));
  const url = options.url ?? defaultUrl();
  const safe = safeStringify.configure({ maximumDepth: depth });
  const stringify = (value: unknown) => safe(value, readableErrors);
  const common = { serializationDepthLimit: depth, maxDeferredEvents: maxQueuedEvents };

  if (isNode) {
    const adapter = new SocketAdapter(url, stringify, maxQueuedEvents, log);
    const inspector = createInspector(adapter, common);
    adapter.start();
    return {
      next: (event) => inspector.inspect.next?.(withReadableErrors(event, stringify)),
      stop: async () => {
        // `createInspector` converts each event in a zero-delay timer; let those run first.
        await new Promise((resolve) => setTimeout(resolve, 0));
        await adapter.close();
      },
    };
  }

  const inspector = createBrowserInspector(
    options.iframe ? { ...common, url, iframe: options.iframe } : { ...common, url },
  );
  return {
    next: (event) => inspector.inspect.next?.(withReadableErrors(event, stringify)),
    stop: async () => inspector.stop(),
  };
}
