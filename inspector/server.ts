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
 * It binds to 127.0.0.1 by default and refuses WebSocket upgrades from any browser origin but
 * its own (a page on another site must not read or inject a run); Node apps send no Origin
 * and are allowed. Malformed or oversized messages are dropped with a log line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { DEFAULT_HOST, DEFAULT_PORT, UI_SOCKET_PATH, isWireEvent } from './protocol.js';

export interface InspectorServerOptions {
  /** Interface to listen on (default 127.0.0.1: only this machine can connect). */
  host?: string;
  /** Port to listen on (default 4480); 0 picks a free one. */
  port?: number;
  /** How many bytes of events to keep for tabs opened later (default 16 MiB). */
  historyBytes?: number;
  /** Messages larger than this are dropped (default 2 MiB). */
  maxMessageBytes?: number;
  /** Where log lines go (default: stderr with a prefix). */
  log?: (line: string) => void;
  /** Directory of the built UI; found (or built) next to this file by default. */
  uiDir?: string;
}

export interface InspectorServer {
  /** The UI's address, e.g. http://127.0.0.1:4480/ */
  url: string;
  /** Where apps send events, e.g. ws://127.0.0.1:4480/ */
  appUrl: string;
  port: number;
  close(): Promise<void>;
}

const MIB = 1024 * 1024;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

interface HistoryEntry {
  /** Source and root actor: entries of one run are evicted together. */
  run: string;
  text: string;
  bytes: number;
}

/**
 * Events kept for late tabs, at most `limit` bytes. When full it drops the oldest run whole,
 * so a late tab never sees a run with its start missing; only a single run larger than the
 * whole bound loses its oldest events one by one.
 */
class History {
  #entries: HistoryEntry[] = [];
  #bytes = 0;
  constructor(readonly limit: number) {}

  get bytes(): number {
    return this.#bytes;
  }

  get entries(): readonly HistoryEntry[] {
    return this.#entries;
  }

  add(entry: HistoryEntry): void {
    this.#entries.push(entry);
    this.#bytes += entry.bytes;
    while (this.#bytes > this.limit && this.#entries.length) {
      const oldest = this.#entries[0]!;
      if (oldest.run === entry.run) {
        this.#entries.shift();
        this.#bytes -= oldest.bytes;
        continue;
      }
      const kept: HistoryEntry[] = [];
      for (const e of this.#entries) {
        if (e.run === oldest.run) this.#bytes -= e.bytes;
        else kept.push(e);
      }
      this.#entries = kept;
    }
  }
}

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

/** `host:port` as it appears in URLs (IPv6 addresses in brackets). */
function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startInspectorServer(options: InspectorServerOptions = {}): Promise<InspectorServer> {
  const host = options.host ?? DEFAULT_HOST;
  const historyBytes = options.historyBytes ?? 16 * MIB;
  const maxMessageBytes = options.maxMessageBytes ?? 2 * MIB;
  const log = options.log ?? ((line: string) => console.error(`[junjo-inspector] ${line}`));
  const uiDir = options.uiDir ?? findUiDir() ?? (await buildUiFromSource(log));
  if (!uiDir) throw new Error('junjo-inspector: the UI is not built; run `npm run build` first');

  const history = new History(historyBytes);
  const tabs = new Set<WebSocket>();
  let connections = 0;

  const serveFile = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = normalize(join(uiDir, path === '/' ? 'index.html' : decodeURIComponent(path)));
    const type = CONTENT_TYPES[extname(file)];
    if (req.method !== 'GET' || !file.startsWith(uiDir.endsWith(sep) ? uiDir : uiDir + sep) || !type || !existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': type,
      'cache-control': 'no-cache',
      // Everything the UI needs is served from here; it never loads anything from elsewhere.
      'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
    });
    res.end(readFileSync(file));
  };

  const server = createServer(serveFile);
  // Frames a little over the limit are read and dropped with a log line, so the app keeps its
  // connection; `ws` closes connections that send far more, so nothing unbounded is buffered.
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes * 4 });

  /** Why an upgrade is refused, or undefined to accept it. */
  const refusal = (req: IncomingMessage): string | undefined => {
    const hostHeader = req.headers.host ?? '';
    // Guards against DNS rebinding: a foreign site resolving its name to 127.0.0.1 would
    // otherwise pass as same-origin.
    if (LOOPBACK.has(host) && !LOOPBACK.has(hostHeader.replace(/:\d+$/, ''))) {
      return `Host '${hostHeader}' is not a loopback name`;
    }
    const origin = req.headers.origin;
    if (origin === undefined) return undefined;
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return `malformed Origin '${origin}'`;
    }
    return originHost === hostHeader ? undefined : `foreign Origin '${origin}'`;
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const reason = refusal(req);
    if (reason) {
      log(`refused a WebSocket connection: ${reason}`);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const isTab = new URL(req.url ?? '/', 'http://x').pathname === UI_SOCKET_PATH;
      onConnection(ws, isTab);
    });
  });

  const relay = (source: string, data: RawData, isBinary: boolean) => {
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (size > maxMessageBytes) {
      log(`dropped a ${size}-byte message from ${source}: over the ${maxMessageBytes}-byte limit`);
      return;
    }
    if (isBinary) {
      log(`dropped a binary message from ${source}: expected a JSON text message`);
      return;
    }
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      log(`dropped a malformed message from ${source}: not JSON`);
      return;
    }
    if (!isWireEvent(event)) {
      log(`dropped a malformed message from ${source}: not an @statelyai/inspect event (needs type and sessionId)`);
      return;
    }
    // The app's text is kept as it came: it is valid JSON, so no need to serialize it again.
    const envelope = `{"source":${JSON.stringify(source)},"event":${text}}`;
    history.add({ run: `${source} ${event.rootId ?? event.sessionId}`, text: envelope, bytes: Buffer.byteLength(envelope) });
    for (const tab of tabs) if (tab.readyState === WebSocket.OPEN) tab.send(envelope);
  };

  const onConnection = (ws: WebSocket, isTab: boolean) => {
    const id = ++connections;
    // A tab relays what a browser app posts to it; the app is named after that tab.
    const source = isTab ? `browser:${id}` : `app:${id}`;
    ws.on('error', (err) => log(`connection ${source}: ${err.message}`));
    ws.on('message', (data, isBinary) => relay(source, data, isBinary));
    if (isTab) {
      for (const entry of history.entries) ws.send(entry.text);
      tabs.add(ws);
      ws.on('close', () => tabs.delete(ws));
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log(`server error: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  const address = hostPort(host, port);

  return {
    url: `http://${address}/`,
    appUrl: `ws://${address}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
