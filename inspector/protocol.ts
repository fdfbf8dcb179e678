/**
 * What travels between apps, the inspector server and its UI tabs. Shared by the server, the
 * client helper and the UI, so it imports nothing from Node.js or the DOM.
 *
 * Apps send `@statelyai/inspect` events as they are (one JSON object per WebSocket message).
 * The server wraps each in an envelope naming the connection it came from before sending it
 * to UI tabs: XState numbers actors per process (`x:0`, `x:1` …), so two apps, or one app run
 * twice, reuse the same session ids, and only the connection tells their actors apart.
 */

/** The port the server listens on and the client connects to unless told otherwise. */
export const DEFAULT_PORT = 4480;
export const DEFAULT_HOST = '127.0.0.1';

/** The path UI tabs connect to; every other WebSocket path is an app. */
export const UI_SOCKET_PATH = '/ui';

/** The event type the server adds to a run whose app disconnected before the run ended. */
export const DISCONNECTED_EVENT_TYPE = 'junjo.inspector.disconnected';

/** The event type that starts a run sent again whole (a trace that more spans joined, otlp.ts): forget the old one. */
export const REPLACED_EVENT_TYPE = 'junjo.inspector.replaced';

/** The inspection event types of the `@statelyai/inspect` protocol. */
export const INSPECTION_TYPES = ['@xstate.actor', '@xstate.event', '@xstate.snapshot'] as const;
export type InspectionType = (typeof INSPECTION_TYPES)[number];

/** The fields of a `@statelyai/inspect` event that the server and UI rely on. */
export interface WireEvent {
  type: InspectionType;
  sessionId: string;
  rootId?: string | null;
  parentId?: string | null;
  sourceId?: string | null;
  name?: string;
  /** `@xstate.actor`: the machine config, as a JSON string. */
  definition?: string;
  snapshot?: WireSnapshot;
  event?: { type: string; [key: string]: unknown };
  createdAt?: string;
}

export interface WireSnapshot {
  status?: 'active' | 'done' | 'error' | 'stopped';
  value?: unknown;
  context?: unknown;
  output?: unknown;
  error?: unknown;
  [key: string]: unknown;
}

/** What the server sends a UI tab: one app event and the connection it came from. */
export interface Envelope {
  /** `app:3` for a WebSocket app, `browser:5` for a browser app relayed by UI tab 5. */
  source: string;
  event: WireEvent;
}

/**
 * One WebSocket message may carry several events, one JSON text per line (apps to the server,
 * and envelopes from the server to tabs): JSON.stringify never writes a raw line break, so a
 * line break can only separate events. A 10,000-item run makes about 80,000 events, and one
 * message each costs more in framing and socket writes than the events themselves. A message
 * of one JSON event, as `@statelyai/inspect` sends, is a message of one line.
 */
export const EVENT_SEPARATOR = '\n';

/** The JSON texts in one message: its lines, or the whole text when it is one pretty-printed event. */
export function eventTexts(message: string): string[] {
  if (!message.includes(EVENT_SEPARATOR)) return [message];
  const lines = message.split(EVENT_SEPARATOR).filter((line) => line.trim() !== '');
  // A multi-line message whose first line is not a whole JSON text is one event printed over lines.
  const first = lines[0]?.trimStart() ?? '';
  return first.startsWith('{') && first.trimEnd().endsWith('}') ? lines : [message];
}

/**
 * Joins texts into messages of at most `maxBytes` each (by `bytesOf`); a text that is alone
 * over the limit goes out as a message of its own, for the receiver to refuse with a reason.
 */
export function joinFrames(texts: readonly string[], maxBytes: number, bytesOf: (text: string) => number): string[] {
  const frames: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const text of texts) {
    const bytes = bytesOf(text) + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      frames.push(current.join(EVENT_SEPARATOR));
      current = [];
      size = 0;
    }
    current.push(text);
    size += bytes;
  }
  if (current.length > 0) frames.push(current.join(EVENT_SEPARATOR));
  return frames;
}

/** `{"type":"@xstate.actor|event|snapshot","sessionId":"…","rootId":"…",…`, ids as JSON strings without escapes (XState's `x:12`). */
const ROUTE = /^\{"type":"@xstate\.(actor|event|snapshot)","sessionId":"([^"\\]*)","rootId":"([^"\\]*)",/;

/**
 * Where an event of a child actor goes, read from the start of its JSON text alone: junjo's
 * client writes `type`, `sessionId` and `rootId` first (wire-event.ts). The server files a
 * 10,000-item run's 40,000 events under their run this way instead of parsing each (which was
 * most of its work). Anything else — another client's key order, the root actor's own events
 * (the server reads their name and status) — is undefined and parsed whole. A text read this way is not checked past its start: a broken one is dropped by the UI
 * (each line is parsed on its own there), not by the server.
 */
export function routeOf(text: string): Pick<WireEvent, 'type' | 'sessionId' | 'rootId'> | undefined {
  if (text.charCodeAt(text.length - 1) !== 125 /* } */) return undefined;
  const match = ROUTE.exec(text);
  if (!match) return undefined;
  const sessionId = match[2]!;
  const rootId = match[3]!;
  if (sessionId === '' || sessionId === rootId || rootId === '' || rootId === 'anonymous') return undefined;
  return { type: `@xstate.${match[1] as 'actor' | 'event' | 'snapshot'}`, sessionId, rootId };
}

/** Checks the shape the UI relies on; anything else is dropped as malformed. */
export function isWireEvent(value: unknown): value is WireEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { type, sessionId } = value as { type?: unknown; sessionId?: unknown };
  return (
    typeof type === 'string' &&
    (INSPECTION_TYPES as readonly string[]).includes(type) &&
    typeof sessionId === 'string' &&
    sessionId !== ''
  );
}
