/**
 * The inspector server: serves the UI over HTTP and relays `@statelyai/inspect` events from
 * apps to every open UI tab over WebSocket, keeping a byte-bounded history so a tab opened
 * late still sees earlier runs.
 *
 *   apps  ──ws://host:port/──▶  server  ──ws://host:port/ui──▶  UI tabs
 *
 * Browser apps reach it through a UI tab: `createBrowserInspector` posts events to the tab it
 * opened, and the tab forwards them here so every tab (and the history) has them.
 *
 * Who may connect is decided in access.ts: reading runs needs the per-server token printed
 * in the UI's URL; sending from this machine does not, unless the server is opened to the
 * network. Malformed or oversized messages are dropped, logged at a bounded rate
 * (log-limiter.ts), and the sender stays connected.
 *
 * Workers elsewhere can send traces instead: `POST /v1/traces` takes OTLP/HTTP JSON (same
 * rules as sending events), and the runs in it are shown like live ones (otlp.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { DEFAULT_HOST, DEFAULT_PORT, UI_SOCKET_PATH, EVENT_SEPARATOR, eventTexts, isWireEvent, routeOf, joinFrames, DISCONNECTED_EVENT_TYPE, type WireEvent, type WireSnapshot } from './protocol.js';
import { SECURITY_HEADERS, isLoopbackHost, newToken, refusal, type AccessRules, type Channel } from './access.js';
import { LogLimiter } from './log-limiter.js';
import { RunStore, defaultHistoryPath } from './run-store.js';
import { TraceAssembler, spansOf } from './otlp.js';
import { checkpointHistory, listCheckpointRuns, openCheckpointSource, type CheckpointSource } from './checkpoint-source.js';

export interface InspectorServerOptions {
  /** Interface to listen on (default 127.0.0.1: only this machine can connect). */
  host?: string;
  /** Port to listen on (default 4480); 0 picks a free one. */
  port?: number;
  /**
   * The SQLite file runs are kept in (default `~/.cache/junjo-inspector/history.sqlite`, or
   * under `$XDG_CACHE_HOME`); `:memory:` keeps them only while the server runs.
   */
  historyPath?: string;
  /** How many bytes of events to keep (default 256 MiB); whole old runs go first. */
  historyBytes?: number;
  /** Runs not written to for longer than this are deleted (default 7 days). */
  historyMaxAgeMs?: number;
  /**
   * Messages larger than this are dropped with a log line, and the sender stays connected
   * (default 2 MiB). A message larger than `maxReadBytes` is not even read: it closes its
   * connection with code 1009 (message too big).
   */
  maxMessageBytes?: number;
  /** The largest message read at all (default 64 MiB, or 4 × `maxMessageBytes` if larger). */
  maxReadBytes?: number;
  /** The token that reading runs needs (default: a fresh random one per server). */
  token?: string;
  /**
   * Required to listen on anything but loopback: everyone who can reach the port then needs
   * the token to read runs and to send events.
   */
  allowRemote?: boolean;
  /** With `allowRemote`: host names the server answers to besides IPs and this machine's name. */
  allowedHosts?: string[];
  /** How dropped-message log lines are rate-limited (default 3 per sender and kind, then one summary every 10 s). */
  logBurst?: number;
  logIntervalMs?: number;
  /** Where log lines go (default: stderr with a prefix). */
  log?: (line: string) => void;
  /** Directory of the built UI; found (or built) next to this file by default. */
  uiDir?: string;
  /**
   * Checkpoint stores of durable runs to show, read only: `sqlite:<file>` or `postgres://…`
   * (see checkpoint-source.ts). Their runs are listed with their history and forks.
   */
  checkpoints?: readonly string[];
}

export interface InspectorServer {
  /** The UI's address with its token, e.g. http://127.0.0.1:4480/?token=… */
  url: string;
  /** Where apps send events, e.g. ws://127.0.0.1:4480/ (with `?token=` when remote). */
  appUrl: string;
  /** The SQLite file runs are kept in. */
  historyPath: string;
  /** The token reading runs needs. */
  token: string;
  port: number;
  close(): Promise<void>;
}

const MIB = 1024 * 1024;
/** About how large a message to a tab grows: envelopes are joined up to this many characters. */
const TAB_FRAME_BYTES = MIB;
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Finds the built UI: beside the compiled CLI in dist, or in dist when running from source.
 * It looks for the bundle, not the page: inspector/ui/ holds the page's source too.
 */
function findUiDir(): string | undefined {
  const candidates = [new URL('./ui/', import.meta.url), new URL('../dist/inspector/ui/', import.meta.url)];
  for (const url of candidates) {
    const dir = fileURLToPath(url);
    if (existsSync(join(dir, 'app.js'))) return dir;
  }
  return undefined;
}

/** Builds the UI when running from a source checkout that has not been built yet. */
async function buildUiFromSource(log: (line: string) => void): Promise<string | undefined> {
  const script = fileURLToPath(new URL('./build.mjs', import.meta.url));
  if (!existsSync(script)) return undefined;
  log('the UI is not built yet: building it now');
  const { buildInspectorUi } = (await import(script)) as typeof import('./build.mjs');
  await buildInspectorUi();
  return findUiDir();
}

/** A run's status as the run list filters on it, from its root actor's snapshot. */
function statusOf(snapshot: WireSnapshot | undefined): string | undefined {
  if (!snapshot) return undefined;
  if (snapshot.status === 'done') return 'done';
  if (snapshot.status === 'error' || snapshot.value === '$failed') return 'failed';
  if (snapshot.status === 'stopped') return 'cancelled';
  return undefined;
}

/** `host:port` as it appears in URLs (IPv6 addresses in brackets). */
function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startInspectorServer(options: InspectorServerOptions = {}): Promise<InspectorServer> {
  const host = options.host ?? DEFAULT_HOST;
  const remote = !isLoopbackHost(host);
  if (remote && !options.allowRemote) {
    throw new Error(
      `--host ${host} would let other machines connect to the inspector; pass --allow-remote (allowRemote: true) ` +
        'to do so (they will need the token), or listen on 127.0.0.1',
    );
  }
  const maxMessageBytes = options.maxMessageBytes ?? 2 * MIB;
  const log = options.log ?? ((line: string) => console.error(`[junjo-inspector] ${line}`));
  const historyPath = options.historyPath ?? defaultHistoryPath();
  const store = new RunStore({
    path: historyPath,
    maxBytes: options.historyBytes ?? 256 * MIB,
    maxAgeMs: options.historyMaxAgeMs ?? 7 * 24 * 3600 * 1000,
  });
  // Kept with the runs, so tabs left open keep reading them after a restart.
  const rules: AccessRules = { token: options.token ?? store.meta('token', newToken), remote, allowedHosts: options.allowedHosts ?? [] };
  const maxReadBytes = options.maxReadBytes ?? Math.max(64 * MIB, maxMessageBytes * 4);
  const limiter = new LogLimiter(log, { burst: options.logBurst ?? 3, intervalMs: options.logIntervalMs ?? 10_000 });
  if (remote) {
    log(`warning: listening on ${host}, reachable from other machines; anyone with the token can read and send runs, and traffic is not encrypted`);
  }
  const uiDir = options.uiDir ?? findUiDir() ?? (await buildUiFromSource(log));
  if (!uiDir) {
    store.close();
    limiter.close();
    throw new Error('junjo-inspector: the UI is not built; run `npm run build` first');
  }

  const sources: CheckpointSource[] = [];
  try {
    for (const spec of options.checkpoints ?? []) sources.push(await openCheckpointSource(spec));
  } catch (err) {
    store.close();
    limiter.close();
    await Promise.all(sources.map((s) => s.close()));
    throw err;
  }

  const tabs = new Set<WebSocket>();

  const refuseHttp = (res: ServerResponse, status: number, reason: string) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end(reason);
  };

  const traces = new TraceAssembler();
  /** `POST /v1/traces`: OTLP/HTTP JSON from `junjo-xstate/otel` spans, shown as runs (otlp.ts). */
  const receiveTraces = (req: IncomingMessage, res: ServerResponse) => {
    const source = `otlp:${req.socket.remoteAddress ?? 'unknown'}`;
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
      answer(415, { error: 'send OTLP/HTTP as JSON (content-type application/json); protobuf is not read here' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxMessageBytes) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > maxMessageBytes) {
        limiter.note(source, 'oversized', `dropped a ${size}-byte trace export from ${source}: over the ${maxMessageBytes}-byte limit`);
        answer(413, { error: `over the ${maxMessageBytes}-byte limit: export smaller batches` });
        return;
      }
      let runs;
      try {
        runs = traces.add(spansOf(JSON.parse(Buffer.concat(chunks).toString('utf8'))), source);
      } catch (err) {
        limiter.note(source, 'malformed trace', `dropped a malformed trace export from ${source}: ${(err as Error).message}`);
        answer(400, { error: (err as Error).message });
        return;
      }
      for (const run of runs) {
        // More spans of a run shown before: it is written again whole, and tabs forget the old one.
        if (run.replaces) store.remove(run.source, run.root);
        accept(run.source, run.events.map((event) => ({ event, text: JSON.stringify(event) })));
      }
      answer(200, {});
    });
  };

  const serveFile = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/v1/traces' && req.method === 'POST') {
      const why = refusal(req, 'send', rules);
      if (why) {
        limiter.note(req.socket.remoteAddress ?? 'http', 'refused request', `refused POST /v1/traces: ${why}`);
        refuseHttp(res, 403, `refused: ${why}`);
      } else receiveTraces(req, res);
      return;
    }
    const why = refusal(req, path.startsWith('/api/') ? 'read' : 'page', rules);
    if (why) {
      limiter.note(req.socket.remoteAddress ?? 'http', 'refused request', `refused ${req.method} ${path}: ${why}`);
      refuseHttp(res, 403, `refused: ${why}`);
      return;
    }
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (path === '/api/session') {
      json(200, { ok: true, remote, checkpoints: sources.length });
      return;
    }
    if (path === '/api/checkpoints') {
      void listCheckpointRuns(sources).then((listing) => json(200, listing));
      return;
    }
    if (path === '/api/checkpoints/history') {
      const params = new URL(req.url ?? '/', 'http://x').searchParams;
      const source = sources[Number(params.get('source'))];
      const runId = params.get('run') ?? '';
      if (!source) {
        json(404, { error: `no checkpoint store number '${params.get('source')}': the server has ${sources.length}` });
        return;
      }
      checkpointHistory(source, runId, (name, limit) => store.firstRows(name, limit)).then(
        (history) => (history ? json(200, history) : json(404, { error: `${source.name} has no run '${runId}'` })),
        (err: Error) => json(500, { error: `${source.name}: the history of run '${runId}' could not be read: ${err.message}` }),
      );
      return;
    }
    let decoded: string;
    try {
      decoded = path === '/' ? 'index.html' : decodeURIComponent(path);
    } catch {
      refuseHttp(res, 404, 'not found');
      return;
    }
    const file = normalize(join(uiDir, decoded));
    const type = CONTENT_TYPES[extname(file)];
    if (req.method !== 'GET' || !file.startsWith(uiDir.endsWith(sep) ? uiDir : uiDir + sep) || !type || !existsSync(file)) {
      refuseHttp(res, 404, 'not found');
      return;
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-cache' });
    res.end(readFileSync(file));
  };

  const server = createServer(serveFile);
  // Messages over the limit are still read, then dropped with a log line, so the sender keeps
  // its connection; `ws` closes one that sends more than maxReadBytes (1009) rather than buffer it.
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxReadBytes });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const isTab = new URL(req.url ?? '/', 'http://x').pathname === UI_SOCKET_PATH;
    const channel: Channel = isTab ? 'read' : 'send';
    const reason = refusal(req, channel, rules);
    if (reason) {
      limiter.note(req.socket.remoteAddress ?? 'unknown', 'refused connection', `refused a WebSocket connection: ${reason}`);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, isTab));
  });

  const relay = (source: string, data: RawData, isBinary: boolean) => {
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (size > maxMessageBytes) {
      limiter.note(source, 'oversized', `dropped a ${size}-byte message from ${source}: over the ${maxMessageBytes}-byte limit`);
      return;
    }
    if (isBinary) {
      limiter.note(source, 'binary', `dropped a binary message from ${source}: expected a JSON text message`);
      return;
    }
    const message = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
    const events: { event: WireEvent; text: string }[] = [];
    for (const text of eventTexts(message)) {
      const route = routeOf(text);
      if (route) {
        events.push({ event: route, text });
        continue;
      }
      let event: unknown;
      try {
        event = JSON.parse(text);
      } catch {
        limiter.note(source, 'not JSON', `dropped a malformed message from ${source}: not JSON`);
        continue;
      }
      if (!isWireEvent(event)) {
        limiter.note(source, 'not an event', `dropped a malformed message from ${source}: not an @statelyai/inspect event (needs type and sessionId)`);
        continue;
      }
      events.push({ event, text });
    }
    accept(source, events);
  };

  /**
   * Keeps and relays a batch of events (an app's message, or a trace's runs from OTLP): each
   * run's envelopes kept as one row (run-store.ts), then sent to every tab. `text` is an
   * event's JSON, kept as it came (no need to serialize it again) unless printed over lines:
   * a tab reads one envelope per line.
   */
  const accept = (source: string, events: readonly { event: WireEvent; text: string }[]) => {
    const runs = new Map<string, { envelopes: string[]; name?: string; status?: string }>();
    const envelopes: string[] = [];
    for (const { event, text } of events) {
      const body = text.includes(EVENT_SEPARATOR) ? JSON.stringify(event) : text;
      const envelope = `{"source":${JSON.stringify(source)},"event":${body}}`;
      const root = event.rootId && event.rootId !== 'anonymous' ? event.rootId : event.sessionId;
      let run = runs.get(root);
      if (!run) runs.set(root, (run = { envelopes: [] }));
      run.envelopes.push(envelope);
      if (event.type === '@xstate.actor' && event.sessionId === root) run.name = event.name ?? run.name;
      if (event.type === '@xstate.snapshot' && event.sessionId === root) run.status = statusOf(event.snapshot) ?? run.status;
      envelopes.push(envelope);
    }
    for (const [root, run] of runs) {
      const text = run.envelopes.join(EVENT_SEPARATOR);
      store.add({ source, root, text, bytes: Buffer.byteLength(text), count: run.envelopes.length, name: run.name, status: run.status });
    }
    broadcast(envelopes);
  };

  /** Sends envelopes to every tab, several to a message (protocol.ts, joinFrames). */
  const broadcast = (envelopes: string[]) => {
    const open = [...tabs].filter((tab) => tab.readyState === WebSocket.OPEN);
    if (envelopes.length === 0 || open.length === 0) return;
    const frames = joinFrames(envelopes, TAB_FRAME_BYTES, (text) => text.length);
    for (const tab of open) for (const frame of frames) tab.send(frame);
  };

  /** Tells tabs (now and after a restart) that these runs' app is gone, so they stop looking live. */
  const disconnected = (runs: { source: string; root: string }[]) => {
    for (const { source, root } of runs) {
      const event = { type: '@xstate.event', sessionId: root, rootId: root, sourceId: null, event: { type: DISCONNECTED_EVENT_TYPE }, createdAt: String(Date.now()), _version: 'junjo' };
      const envelope = JSON.stringify({ source, event });
      store.add({ source, root, text: envelope, bytes: Buffer.byteLength(envelope) });
      broadcast([envelope]);
    }
  };
  disconnected(store.disconnectAll());

  const onConnection = (ws: WebSocket, isTab: boolean) => {
    const id = store.nextConnection();
    // A tab relays what a browser app posts to it; the app is named after that tab.
    const source = isTab ? `browser:${id}` : `app:${id}`;
    ws.on('error', (err) => {
      if ((err as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        log(`closed ${source}: it sent a message over ${maxReadBytes} bytes, too big to read (code 1009)`);
      } else {
        log(`connection ${source}: ${err.message}`);
      }
    });
    ws.on('message', (data, isBinary) => relay(source, data, isBinary));
    ws.on('close', () => {
      limiter.flush(source);
      disconnected(store.disconnect(source).map((root) => ({ source, root })));
    });
    if (isTab) {
      // The history in messages of many envelopes each: a large run is 100,000 of them.
      let chunk: string[] = [];
      let size = 0;
      for (const text of store.envelopes()) {
        chunk.push(text);
        size += text.length;
        if (size >= TAB_FRAME_BYTES) {
          ws.send(chunk.join(EVENT_SEPARATOR));
          chunk = [];
          size = 0;
        }
      }
      if (chunk.length) ws.send(chunk.join(EVENT_SEPARATOR));
      tabs.add(ws);
      ws.on('close', () => tabs.delete(ws));
    }
  };

  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => {
      store.close();
      limiter.close();
      reject(err);
    };
    server.once('error', failed);
    server.listen(options.port ?? DEFAULT_PORT, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  server.on('error', (err) => log(`server error: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  const address = hostPort(host, port);
  const query = `?token=${encodeURIComponent(rules.token)}`;

  return {
    url: `http://${address}/${query}`,
    appUrl: `ws://${address}/${remote ? query : ''}`,
    token: rules.token,
    historyPath,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        limiter.close();
        store.close();
        for (const source of sources) void source.close();
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
