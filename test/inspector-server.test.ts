/**
 * The inspector server with real WebSocket clients: relay from apps to UI tabs, the SQLite
 * history (late tabs, restarts, size and age bounds, disconnected runs), the access rules
 * (token, Origin, Host, --allow-remote), dropping bad messages without losing the connection
 * and with bounded logging, and the client helper `inspect()` against it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get as httpGet } from 'node:http';
import { createServer as createNetServer, connect, type AddressInfo, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { createActor, createMachine, fromPromise, waitFor } from 'xstate';
import { createWebSocketInspector } from '@statelyai/inspect';
import { startInspectorServer, type InspectorServer } from '../inspector/server.js';
import { inspect } from '../inspector/client.js';
import { eventTexts, routeOf, type Envelope } from '../inspector/protocol.js';
import { RunStore } from '../inspector/run-store.js';
import { ImpliedEventsReader } from '../inspector/implied-events.js';

const test = suite('inspector server');

const uiDir = mkdtempSync(join(tmpdir(), 'junjo-inspector-ui-'));
writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>junjo inspector</title>');
writeFileSync(join(uiDir, 'app.js'), '');

/** A history file of its own for each server, so tests never share (or touch the user's) runs. */
function freshHistory(): string {
  return join(mkdtempSync(join(tmpdir(), 'junjo-inspector-history-')), 'history.sqlite');
}

interface Client {
  ws: WebSocket;
  received: Envelope[];
  /** Resolves once `count` envelopes arrived in total. */
  until(count: number): Promise<Envelope[]>;
}

function open(url: string, headers: Record<string, string> = {}, onMessage?: (data: unknown) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    // Attached before 'open': a replayed history may arrive in the same packet as the handshake.
    if (onMessage) ws.on('message', onMessage);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

async function tab(server: InspectorServer): Promise<Client> {
  const received: Envelope[] = [];
  const waiters: { count: number; resolve: (all: Envelope[]) => void }[] = [];
  // As the page does: the events junjo's client left out are put back (implied-events.ts).
  const implied = new ImpliedEventsReader();
  const ws = await open(`${server.appUrl}ui?token=${server.token}`, {}, (data) => {
    // The server joins envelopes into one message, one per line (protocol.ts).
    for (const line of eventTexts(String(data))) implied.expand(JSON.parse(line) as Envelope, (envelope) => received.push(envelope));
    for (const w of waiters.filter((w) => received.length >= w.count)) w.resolve(received);
  });
  return {
    ws,
    received,
    until: (count) =>
      received.length >= count ? Promise.resolve(received) : new Promise((resolve) => waiters.push({ count, resolve })),
  };
}

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (err: Error) => err,
  );
  assert.ok(error, 'expected a rejection');
  assert.match(error!.message, pattern);
}

function event(sessionId: string, type = 'ping', rootId = sessionId, extra: Record<string, unknown> = {}) {
  return JSON.stringify({ type: '@xstate.event', sessionId, rootId, event: { type }, _version: 'test', ...extra });
}

/** What a tab received before the event of type 'marker'. */
async function untilMarker(client: Client): Promise<Envelope[]> {
  const at = () => client.received.findIndex((e) => e.event.event?.type === 'marker');
  while (at() < 0) await client.until(client.received.length + 1);
  return client.received.slice(0, at());
}

/**
 * Resolves once everything sent before it reached the tab: a marker from a new connection is
 * relayed after whatever the server had already read from connections closed before it.
 */
async function barrier(server: InspectorServer, ui: Client): Promise<Envelope[]> {
  const app = await open(server.appUrl);
  app.send(event('barrier', 'barrier'));
  const seen = ui.received.length;
  await ui.until(seen + 1);
  while (ui.received.at(-1)!.event.sessionId !== 'barrier') await ui.until(ui.received.length + 1);
  await closed(app);
  return ui.received.slice(0, -1);
}

function closed(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', () => resolve());
    ws.close();
  });
}

async function withServer(
  options: Parameters<typeof startInspectorServer>[0],
  body: (server: InspectorServer, logs: string[]) => Promise<void>,
): Promise<void> {
  const logs: string[] = [];
  const server = await startInspectorServer({ port: 0, uiDir, historyPath: freshHistory(), log: (line) => logs.push(line), ...options });
  try {
    await body(server, logs);
  } finally {
    await server.close();
  }
}

test('relays events from an app connection to a UI tab, in order, naming the source', () =>
  withServer({}, async (server) => {
    const ui = await tab(server);
    const app = await open(server.appUrl);
    app.send(event('x:0', 'first'));
    app.send(event('x:1', 'second'));
    const got = await ui.until(2);
    assert.equal(got.map((e) => e.event.event?.type), ['first', 'second']);
    assert.match(got[0]!.source, /^app:\d+$/);
    assert.is(got[0]!.source, got[1]!.source);
    await closed(app);
    await closed(ui.ws);
  }));

test('one message may carry several events, one per line; a bad line is dropped alone; a pretty-printed event is one event', () =>
  withServer({}, async (server, logs) => {
    const ui = await tab(server);
    const app = await open(server.appUrl);
    app.send([event('x:0', 'one'), '{not json', event('x:0', 'two'), event('y:0', 'other run')].join('\n'));
    app.send(JSON.stringify({ type: '@xstate.event', sessionId: 'x:0', rootId: 'x:0', event: { type: 'pretty' } }, null, 2));
    const got = await ui.until(4);
    assert.equal(got.map((e) => e.event.event?.type), ['one', 'two', 'other run', 'pretty']);
    assert.ok(logs.some((l) => /dropped a malformed message from app:\d+: not JSON/.test(l)), logs.join('\n'));
    // Kept per run: a tab opened now gets the same four, and each run counts its own events.
    const late = await tab(server);
    assert.equal((await late.until(4)).map((e) => e.event.event?.type), ['one', 'two', 'other run', 'pretty']);
    await Promise.all([closed(app), closed(ui.ws), closed(late.ws)]);
  }));

test('two apps that reuse the same session ids stay apart by source', () =>
  withServer({}, async (server) => {
    const ui = await tab(server);
    const a = await open(server.appUrl);
    const b = await open(server.appUrl);
    a.send(event('x:0', 'from-a'));
    await ui.until(1);
    b.send(event('x:0', 'from-b'));
    const [first, second] = await ui.until(2);
    assert.is.not(first!.source, second!.source);
    await Promise.all([closed(a), closed(b), closed(ui.ws)]);
  }));

test('a tab opened late gets the history replayed, then live events', () =>
  withServer({}, async (server) => {
    const app = await open(server.appUrl);
    const early = await tab(server);
    app.send(event('x:0', 'one'));
    app.send(event('x:0', 'two'));
    await early.until(2);
    const late = await tab(server);
    app.send(event('x:0', 'three'));
    const got = await late.until(3);
    assert.equal(got.map((e) => e.event.event?.type), ['one', 'two', 'three']);
    await Promise.all([closed(app), closed(early.ws), closed(late.ws)]);
  }));

test('a browser tab may forward a browser app\'s events; other tabs get them too', () =>
  withServer({}, async (server) => {
    const forwarding = await tab(server);
    const other = await tab(server);
    forwarding.ws.send(event('x:0', 'from-page'));
    const [got] = await other.until(1);
    assert.match(got!.source, /^browser:\d+$/);
    // The forwarding tab gets it back too, so every tab shows one consistent stream.
    await forwarding.until(1);
    await Promise.all([closed(forwarding.ws), closed(other.ws)]);
  }));

test('refuses WebSocket upgrades from a foreign browser Origin; allows its own and none', () =>
  withServer({}, async (server, logs) => {
    await rejects(open(server.appUrl, { origin: 'http://evil.example' }), /HTTP 403/);
    await rejects(open(`${server.appUrl}ui?token=${server.token}`, { origin: `http://localhost:${server.port + 1}` }), /HTTP 403/);
    assert.ok(logs.some((l) => /refused a WebSocket connection: foreign Origin 'http:\/\/evil\.example'/.test(l)), logs.join('\n'));
    const own = await open(`${server.appUrl}ui?token=${server.token}`, { origin: `http://127.0.0.1:${server.port}` });
    const node = await open(server.appUrl);
    await Promise.all([closed(own), closed(node)]);
  }));

test('refuses a loopback server reached under a foreign host name (DNS rebinding)', () =>
  withServer({}, async (server) => {
    await rejects(
      open(server.appUrl, { host: `attacker.example:${server.port}`, origin: `http://attacker.example:${server.port}` }),
      /HTTP 403/,
    );
  }));

test('drops malformed and oversized messages with a log line and keeps serving the same connection', () =>
  withServer({ maxMessageBytes: 1000 }, async (server, logs) => {
    const ui = await tab(server);
    const app = await open(server.appUrl);
    app.send('{not json');
    app.send(JSON.stringify({ type: '@xstate.event' }));
    app.send(JSON.stringify([1, 2, 3]));
    app.send(Buffer.from([1, 2, 3]));
    app.send(event('x:0', 'big', 'x:0', { padding: 'x'.repeat(2000) }));
    app.send(event('x:0', 'after'));
    const [first] = await ui.until(1);
    assert.is(first!.event.event?.type, 'after');
    assert.is(ui.received.length, 1);
    assert.ok(logs.some((l) => /dropped a malformed message from app:\d+: not JSON/.test(l)));
    assert.is(logs.filter((l) => /not an @statelyai\/inspect event/.test(l)).length, 2);
    assert.ok(logs.some((l) => /dropped a binary message/.test(l)));
    assert.ok(logs.some((l) => /dropped a \d+-byte message from app:\d+: over the 1000-byte limit/.test(l)));
    assert.is(app.readyState, WebSocket.OPEN);
    await Promise.all([closed(app), closed(ui.ws)]);
  }));

test('the history stays within its byte bound, dropping whole old runs first', () =>
  withServer({ historyBytes: 4000 }, async (server) => {
    const app = await open(server.appUrl);
    const live = await tab(server);
    const runs = 12;
    const perRun = 5;
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < perRun; i++) app.send(event(`x:${r * 10 + i}`, `run${r}-${i}`, `x:${r * 10}`));
    }
    await live.until(runs * perRun);
    const late = await tab(server);
    app.send(event('x:999', 'marker'));
    const replayed = await untilMarker(late);
    const bytes = replayed.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0);
    assert.ok(bytes <= 4000, `replayed ${bytes} bytes`);
    assert.ok(replayed.length > 0 && replayed.length < runs * perRun);
    // Only complete runs are kept, and they are the newest ones.
    const byRun = new Map<string, number>();
    for (const e of replayed) byRun.set(String(e.event.rootId), (byRun.get(String(e.event.rootId)) ?? 0) + 1);
    for (const count of byRun.values()) assert.is(count, perRun);
    assert.is(replayed.at(-1)!.event.event?.type, `run${runs - 1}-${perRun - 1}`);
    await Promise.all([closed(app), closed(live.ws), closed(late.ws)]);
  }));

test('a single run larger than the bound is kept whole, and evicts everything older', () =>
  withServer({ historyBytes: 1500 }, async (server) => {
    const app = await open(server.appUrl);
    const live = await tab(server);
    app.send(event('x:100', 'older', 'x:100'));
    for (let i = 0; i < 40; i++) app.send(event(`x:${i}`, `e${i}`, 'x:0'));
    await live.until(41);
    const late = await tab(server);
    app.send(event('x:0', 'marker', 'x:0'));
    const replayed = (await untilMarker(late)).map((e) => e.event.event?.type);
    assert.equal(replayed, Array.from({ length: 40 }, (_, i) => `e${i}`));
    await Promise.all([closed(app), closed(live.ws), closed(late.ws)]);
  }));

test('after a restart on the same file every kept run is there, with the same token and new connection names', async () => {
  const historyPath = freshHistory();
  const first = await startInspectorServer({ port: 0, uiDir, historyPath, log: () => {} });
  const ui1 = await tab(first);
  const app = await open(first.appUrl);
  app.send(event('x:0', 'before-restart'));
  const [before] = await ui1.until(1);
  await Promise.all([closed(app), closed(ui1.ws)]);
  await first.close();

  const second = await startInspectorServer({ port: 0, uiDir, historyPath, log: () => {} });
  try {
    assert.is(second.token, first.token);
    assert.is(second.historyPath, historyPath);
    const ui2 = await tab(second);
    const again = await open(second.appUrl);
    again.send(event('x:0', 'marker'));
    const replayed = await untilMarker(ui2);
    // The app left without ending its run, so the run is marked disconnected, not running.
    assert.equal(replayed.map((e) => [e.source, e.event.event?.type]), [
      [before!.source, 'before-restart'],
      [before!.source, 'junjo.inspector.disconnected'],
    ]);
    const marker = ui2.received.find((e) => e.event.event?.type === 'marker')!;
    assert.is.not(marker.source, before!.source);
    await Promise.all([closed(again), closed(ui2.ws)]);
  } finally {
    await second.close();
  }
});

test('runs older than the age bound are gone after a restart', async () => {
  const historyPath = freshHistory();
  const first = await startInspectorServer({ port: 0, uiDir, historyPath, log: () => {} });
  const ui1 = await tab(first);
  const app = await open(first.appUrl);
  app.send(event('x:0', 'old'));
  await ui1.until(1);
  await Promise.all([closed(app), closed(ui1.ws)]);
  await first.close();
  const second = await startInspectorServer({ port: 0, uiDir, historyPath, historyMaxAgeMs: 1, log: () => {} });
  try {
    const ui2 = await tab(second);
    const again = await open(second.appUrl);
    again.send(event('x:0', 'marker'));
    assert.equal(await untilMarker(ui2), []);
    await Promise.all([closed(again), closed(ui2.ws)]);
  } finally {
    await second.close();
  }
});

test('a run whose app disconnects before it ends is marked disconnected; an ended one is not', () =>
  withServer({}, async (server) => {
    const ui = await tab(server);
    const app = await open(server.appUrl);
    const actor = (id: string, status: string) => [
      JSON.stringify({ type: '@xstate.actor', sessionId: id, rootId: id, name: `m-${id}`, _version: 'test' }),
      JSON.stringify({ type: '@xstate.snapshot', sessionId: id, rootId: id, snapshot: { status, value: 'a' }, event: { type: 'x' }, _version: 'test' }),
    ];
    for (const text of [...actor('x:0', 'active'), ...actor('x:1', 'done')]) app.send(text);
    await ui.until(4);
    await closed(app);
    while (!ui.received.some((e) => e.event.event?.type === 'junjo.inspector.disconnected')) await ui.until(ui.received.length + 1);
    const marked = ui.received.filter((e) => e.event.event?.type === 'junjo.inspector.disconnected').map((e) => e.event.rootId);
    assert.equal(marked, ['x:0']);
    // A tab opened later learns it from the history too.
    const late = await tab(server);
    const replayed = await barrier(server, late);
    assert.equal(replayed.filter((e) => e.event.event?.type === 'junjo.inspector.disconnected').map((e) => e.event.rootId), ['x:0']);
    await Promise.all([closed(ui.ws), closed(late.ws)]);
  }));

test('an unreadable history path fails with a message naming it and what to do', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'junjo-inspector-bad-')), 'plain-file');
  writeFileSync(file, 'not a directory');
  await rejects(
    startInspectorServer({ port: 0, uiDir, historyPath: join(file, 'history.sqlite'), log: () => {} }),
    /history at .*plain-file\/history\.sqlite.*pass another path with --history/,
  );
});

test('serves the UI over HTTP and nothing outside its directory', () =>
  withServer({}, async (server) => {
    const page = await fetch(server.url);
    assert.is(page.status, 200);
    assert.match(await page.text(), /junjo inspector/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const base = `http://127.0.0.1:${server.port}/`;
    assert.is((await fetch(`${base}..%2f..%2fetc%2fpasswd`)).status, 404);
    assert.is((await fetch(`${base}missing.js`)).status, 404);
    assert.is((await fetch(`${base}%E0%A4%A`)).status, 404);
  }));

test('inspect() sends a real actor\'s inspection events in the @statelyai/inspect format', () =>
  withServer({}, async (server) => {
    const ui = await tab(server);
    const machine = createMachine({
      id: 'toggle',
      initial: 'off',
      context: { flips: 0 },
      states: { off: { on: { flip: 'on' } }, on: { on: { flip: 'off' } } },
    });
    const inspector = inspect({ url: server.appUrl });
    const actor = createActor(machine, { inspect: inspector }).start();
    actor.send({ type: 'flip' });
    actor.stop();
    await inspector.stop();
    const got = await barrier(server, ui);
    const actorEvent = got.find((e) => e.event.type === '@xstate.actor')!;
    assert.is(actorEvent.event.name, 'toggle');
    assert.equal(JSON.parse(actorEvent.event.definition!).states.on.on, { flip: 'off' });
    // stop() flushed everything, so the last snapshot (value 'on') has arrived too.
    const rootId = actorEvent.event.sessionId;
    const snapshots = got.filter((e) => e.event.type === '@xstate.snapshot' && e.event.sessionId === rootId);
    assert.equal(
      snapshots.map((e) => [e.event.event?.type, e.event.snapshot?.value, e.event.snapshot?.status]),
      [['xstate.init', 'off', 'active'], ['flip', 'on', 'active'], ['xstate.stop', 'on', 'stopped']],
    );
    await closed(ui.ws);
  }));

test('child actors\' events are filed under their run from their first fields; the rest is parsed whole', async () => {
  const child = JSON.stringify({ type: '@xstate.snapshot', sessionId: 'x:1', rootId: 'x:0', event: { type: 'tick' }, snapshot: { status: 'active' } });
  assert.equal(routeOf(child), { type: '@xstate.snapshot', sessionId: 'x:1', rootId: 'x:0' });
  // A child's announcement is filed the same way; the root's own events (their name and status
  // name the run), other key orders, escaped ids and texts that do not end as an object are
  // read whole.
  assert.is(routeOf(JSON.stringify({ type: '@xstate.snapshot', sessionId: 'x:0', rootId: 'x:0', snapshot: { status: 'done' } })), undefined);
  assert.equal(routeOf(JSON.stringify({ type: '@xstate.actor', sessionId: 'x:1', rootId: 'x:0', name: 'child' })), { type: '@xstate.actor', sessionId: 'x:1', rootId: 'x:0' });
  assert.is(routeOf(JSON.stringify({ type: '@xstate.actor', sessionId: 'x:0', rootId: 'x:0', name: 'root' })), undefined);
  assert.is(routeOf(JSON.stringify({ sessionId: 'x:1', type: '@xstate.event', rootId: 'x:0', event: { type: 'a' } })), undefined);
  assert.is(routeOf(JSON.stringify({ type: '@xstate.event', sessionId: 'x"1', rootId: 'x:0', event: { type: 'a' } })), undefined);
  assert.is(routeOf(child.slice(0, 60)), undefined);

  const historyPath = freshHistory();
  await withServer({ historyPath }, async (server) => {
    const ui = await tab(server);
    const app = await open(server.appUrl);
    const root = (extra: Record<string, unknown>) => JSON.stringify({ type: '@xstate.snapshot', sessionId: 'x:0', rootId: 'x:0', event: { type: 'x' }, ...extra });
    app.send(
      [
        JSON.stringify({ type: '@xstate.actor', sessionId: 'x:0', rootId: 'x:0', name: 'Parent' }),
        child,
        event('x:1', 'child event', 'x:0'),
        root({ snapshot: { status: 'done', value: 'end' } }),
      ].join('\n'),
    );
    const got = await ui.until(4);
    assert.equal(got.map((e) => [e.event.type, e.event.sessionId]), [['@xstate.actor', 'x:0'], ['@xstate.snapshot', 'x:1'], ['@xstate.event', 'x:1'], ['@xstate.snapshot', 'x:0']]);
    await Promise.all([closed(app), closed(ui.ws)]);
  });
  const store = new RunStore({ path: historyPath, maxBytes: 1 << 30, maxAgeMs: 1e9 });
  try {
    const runs = store.runs();
    assert.equal(runs.map((r) => [r.root, r.name, r.status, r.events]), [['x:0', 'Parent', 'done', 4]]);
  } finally {
    store.close();
  }
});

test('inspect() keeps an error\'s message readable wherever XState or the app put it', () =>
  withServer({}, async (server) => {
    const ui = await tab(server);
    const failing = createMachine({
      id: 'fails',
      initial: 'a',
      states: { a: { invoke: { src: fromPromise(async () => { throw Object.assign(new Error('no route'), { code: 'EHOSTUNREACH' }); }), onError: 'b' } }, b: {} },
    });
    const inspector = inspect({ url: server.appUrl });
    const actor = createActor(failing, { inspect: inspector }).start();
    await waitFor(actor, (s) => s.matches('b'));
    actor.send({ type: 'report', problem: new Error('from the app') });
    actor.stop();
    await inspector.stop();
    const got = await barrier(server, ui);
    const errorEvent = got.find((e) => e.event.type === '@xstate.event' && String(e.event.event?.type).startsWith('xstate.error.actor'))!;
    assert.equal(errorEvent.event.event!.error, { name: 'Error', message: 'no route', stack: (errorEvent.event.event!.error as { stack: string }).stack, code: 'EHOSTUNREACH' });
    const report = got.find((e) => e.event.type === '@xstate.event' && e.event.event?.type === 'report')!;
    assert.is((report.event.event!.problem as { message: string }).message, 'from the app');
    await closed(ui.ws);
  }));

test('inspect() keeps an error\'s message readable', () =>
  withServer({}, async (server) => {
    const ui = await tab(server);
    const machine = createMachine({ id: 'failing', initial: 'a', context: { problem: new Error('disk full') }, states: { a: {} } });
    const inspector = inspect({ url: server.appUrl });
    createActor(machine, { inspect: inspector }).start().stop();
    await inspector.stop();
    const got = await barrier(server, ui);
    const snapshot = got.find((e) => e.event.type === '@xstate.snapshot')!;
    const context = snapshot.event.snapshot!.context as { problem: { name: string; message: string } };
    assert.equal({ name: context.problem.name, message: context.problem.message }, { name: 'Error', message: 'disk full' });
    await closed(ui.ws);
  }));

test('an app using @statelyai/inspect\'s own createWebSocketInspector shows up too', () =>
  withServer({}, async (server) => {
    const ui = await tab(server);
    const inspector = createWebSocketInspector({ url: server.appUrl });
    const actor = createActor(createMachine({ id: 'plain', initial: 'idle', states: { idle: {} } }), { inspect: inspector.inspect });
    actor.start();
    const got = await ui.until(1);
    assert.ok(got.some((e) => e.event.type === '@xstate.actor' && e.event.name === 'plain'));
    actor.stop();
    inspector.stop();
    await closed(ui.ws);
  }));

test('reading runs needs the token: a token-less or wrong-token client is refused, HTTP too', () =>
  withServer({}, async (server, logs) => {
    await rejects(open(`${server.appUrl}ui`), /HTTP 403/);
    await rejects(open(`${server.appUrl}ui?token=nope`), /HTTP 403/);
    await rejects(open(`${server.appUrl}ui?token=${server.token}`, { origin: 'http://evil.example' }), /HTTP 403/);
    assert.ok(logs.some((l) => /refused a WebSocket connection: no token/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /refused a WebSocket connection: wrong token/.test(l)), logs.join('\n'));
    const base = `http://127.0.0.1:${server.port}`;
    assert.is((await fetch(`${base}/api/session`)).status, 403);
    assert.is((await fetch(`${base}/api/session`, { headers: { authorization: 'Bearer nope' } })).status, 403);
    assert.is((await fetch(`${base}/api/session`, { headers: { authorization: `Bearer ${server.token}` } })).status, 200);
    // The token is per server: another server's does not open this one.
    const other = await startInspectorServer({ port: 0, uiDir, historyPath: freshHistory(), log: () => {} });
    try {
      assert.is.not(other.token, server.token);
      await rejects(open(`${server.appUrl}ui?token=${other.token}`), /HTTP 403/);
    } finally {
      await other.close();
    }
    assert.match(server.url, new RegExp(`\\?token=${server.token}$`));
    assert.not.match(server.appUrl, /token/);
  }));

test('every response forbids framing and loading from elsewhere', () =>
  withServer({}, async (server) => {
    for (const path of ['/', '/app.js', '/missing.js', '/api/session']) {
      const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
      assert.is(res.headers.get('x-frame-options'), 'DENY', path);
      assert.is(res.headers.get('referrer-policy'), 'no-referrer', path);
    }
    // fetch() sets Host itself; node:http sends what it is given, as a rebinding page's browser would.
    const rebound = await new Promise<number>((resolve, reject) => {
      httpGet({ port: server.port, host: '127.0.0.1', path: '/', headers: { host: `attacker.example:${server.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.is(rebound, 403);
  }));

test('a non-loopback host needs allowRemote; with it, a warning, and senders need the token too', async () => {
  await rejects(startInspectorServer({ host: '0.0.0.0', port: 0, uiDir, historyPath: ':memory:', log: () => {} }), /--host 0\.0\.0\.0 would let other machines connect to the inspector; pass --allow-remote/);
  const logs: string[] = [];
  const server = await startInspectorServer({ host: '0.0.0.0', port: 0, uiDir, historyPath: ':memory:', allowRemote: true, allowedHosts: ['inspector.lan'], log: (l) => logs.push(l) });
  try {
    assert.ok(logs.some((l) => /^warning: listening on 0\.0\.0\.0, reachable from other machines/.test(l)), logs.join('\n'));
    const at = `ws://127.0.0.1:${server.port}/`;
    assert.match(server.appUrl, new RegExp(`\\?token=${server.token}$`));
    await rejects(open(at), /HTTP 403/);
    // An IP address or a listed name is a host it answers to; a rebinding domain is not.
    await rejects(open(`${at}?token=${server.token}`, { host: `attacker.example:${server.port}` }), /HTTP 403/);
    const byName = await open(`${at}?token=${server.token}`, { host: `inspector.lan:${server.port}` });
    const ui = await open(`${at}ui?token=${server.token}`, { host: `192.168.1.20:${server.port}` });
    await Promise.all([closed(byName), closed(ui)]);
  } finally {
    await server.close();
  }
});

test('10,000 malformed messages cost a few log lines and one summary, and the sender stays', () =>
  withServer({}, async (server, logs) => {
    const ui = await tab(server);
    const app = await open(server.appUrl);
    for (let i = 0; i < 10_000; i++) app.send('{not json');
    app.send(event('x:0', 'after'));
    await ui.until(1);
    assert.is(logs.filter((l) => /not JSON/.test(l)).length, 3);
    await closed(app);
    // The summary comes when the sender leaves: wait for it, it must arrive.
    while (!logs.some((l) => /dropped 9997 more messages from app:\d+ \(not JSON\)/.test(l))) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(logs.length <= 6, logs.join('\n'));
    await closed(ui.ws);
  }));

test('a 10 MB message is dropped and its sender stays connected; one past maxReadBytes closes it with 1009', () =>
  withServer({ maxReadBytes: 16 * 1024 * 1024 }, async (server, logs) => {
    const ui = await tab(server);
    const app = await open(server.appUrl);
    app.send(event('x:0', 'big', 'x:0', { padding: 'x'.repeat(10 * 1024 * 1024) }));
    app.send(event('x:0', 'after'));
    const [first] = await ui.until(1);
    assert.is(first!.event.event?.type, 'after');
    assert.ok(logs.some((l) => /dropped a \d+-byte message from app:\d+: over the 2097152-byte limit/.test(l)));
    assert.is(app.readyState, WebSocket.OPEN);
    const code = await new Promise<number>((resolve) => {
      app.once('close', (c) => resolve(c));
      app.send('x'.repeat(17 * 1024 * 1024));
    });
    assert.is(code, 1009);
    while (!logs.some((l) => /closed app:\d+: it sent a message over 16777216 bytes/.test(l))) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    await closed(ui.ws);
  }));

/**
 * A TCP gate in front of the server: connections are held until `open()`, so an app's client
 * sees its socket not open yet for as long as the test wants.
 */
async function gate(target: number): Promise<{ url: string; open(): void; close(): Promise<void> }> {
  const held: Socket[] = [];
  let opened = false;
  const pass = (client: Socket) => {
    const upstream = connect(target, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  };
  const proxy = createNetServer((client) => (opened ? pass(client) : held.push(client)));
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/`,
    open: () => {
      opened = true;
      for (const client of held.splice(0)) pass(client);
    },
    close: () => new Promise<void>((resolve) => proxy.close(() => resolve())),
  };
}

test('inspect() over budget before the socket opens: keeps definitions and first snapshots, says how many were lost', () =>
  withServer({}, async (server) => {
    const ui = await tab(server);
    const machine = createMachine({ id: 'busy', initial: 'a', states: { a: { on: { tick: { target: 'a', reenter: true } } } } });
    const runBusy = async (url: string, maxQueuedEvents: number, opened?: () => void) => {
      const inspector = inspect({ url, maxQueuedEvents });
      const actor = createActor(machine, { inspect: inspector }).start();
      for (let i = 0; i < 200; i++) actor.send({ type: 'tick' });
      actor.stop();
      // createInspector converts events in zero-delay timers: let them reach the queue first.
      await new Promise((resolve) => setTimeout(resolve, 0));
      opened?.();
      await inspector.stop();
      return barrier(server, ui);
    };
    // The same run straight to the server: how many events it makes in all.
    const whole = (await runBusy(server.appUrl, 100_000)).filter((e) => e.event.sessionId !== 'barrier');
    const seen = ui.received.length;
    const door = await gate(server.port);
    const got = (await runBusy(door.url, 20, door.open)).slice(seen).filter((e) => e.event.sessionId !== 'barrier');
    await door.close();
    assert.ok(whole.length > 400, `the reference run made ${whole.length} events`);
    const actors = got.filter((e) => e.event.type === '@xstate.actor');
    assert.is(actors.length, 1);
    const rootId = actors[0]!.event.sessionId;
    const snapshots = got.filter((e) => e.event.type === '@xstate.snapshot');
    assert.is(snapshots[0]!.event.event?.type, 'xstate.init');
    const lost = got.filter((e) => e.event.event?.type === 'junjo.inspector.lost');
    assert.is(lost.length, 1);
    assert.is(lost[0]!.event.rootId, rootId);
    const count = Number(lost[0]!.event.event?.count);
    const held = got.length - 1;
    assert.ok(held <= 20, `held ${held} events`);
    // Every event the run made either arrived or is counted as lost.
    assert.is(held + count, whole.length);
    await closed(ui.ws);
  }));

test('inspect() shrinks an event over the message limit instead of having it dropped', () =>
  withServer({}, async (server) => {
    const ui = await tab(server);
    const machine = createMachine({ id: 'heavy', initial: 'a', context: { blob: 'x'.repeat(3 * 1024 * 1024) }, states: { a: {} } });
    const inspector = inspect({ url: server.appUrl });
    createActor(machine, { inspect: inspector }).start().stop();
    await inspector.stop();
    const got = await barrier(server, ui);
    const snapshot = got.find((e) => e.event.type === '@xstate.snapshot')!;
    assert.match(JSON.stringify(snapshot.event.snapshot!.context), /omitted: \d+ bytes, over the inspector's 2097152-byte message limit/);
    assert.is(snapshot.event.snapshot!.value, 'a');
    await closed(ui.ws);
  }));

test('inspect() to a remote server with no token says it was refused and how to fix it', async () => {
  const server = await startInspectorServer({ host: '0.0.0.0', port: 0, uiDir, historyPath: ':memory:', allowRemote: true, log: () => {} });
  try {
    const lines: string[] = [];
    const inspector = inspect({ url: `ws://127.0.0.1:${server.port}/`, log: (line) => lines.push(line) });
    createActor(createMachine({ id: 'refused' }), { inspect: inspector }).start().stop();
    await inspector.stop();
    assert.is(lines.length, 1);
    assert.match(lines[0]!, /refused this app \(HTTP 403\).*inspect\(\{ token \}\) or JUNJO_INSPECTOR_TOKEN/);
    const ui = await open(`ws://127.0.0.1:${server.port}/ui?token=${server.token}`);
    const received: Envelope[] = [];
    ui.on('message', (d) => received.push(...eventTexts(String(d)).map((line) => JSON.parse(line))));
    const ok = inspect({ url: `ws://127.0.0.1:${server.port}/`, token: server.token, log: (line) => lines.push(line) });
    createActor(createMachine({ id: 'allowed' }), { inspect: ok }).start().stop();
    await ok.stop();
    while (!received.some((e) => e.event.name === 'allowed')) await new Promise((resolve) => ui.once('message', resolve));
    await closed(ui);
  } finally {
    await server.close();
  }
});

test('inspect() with no server says so in one line and lets the process finish', async () => {
  const probe = await startInspectorServer({ port: 0, uiDir, historyPath: ':memory:', log: () => {} });
  const url = probe.appUrl;
  await probe.close();
  const lines: string[] = [];
  const inspector = inspect({ url, log: (line) => lines.push(line) });
  createActor(createMachine({ id: 'alone' }), { inspect: inspector }).start().stop();
  await inspector.stop();
  assert.is(lines.length, 1);
  assert.match(lines[0]!, /nothing listens at ws:\/\/127\.0\.0\.1:\d+\/; start it with `npx junjo-inspector`/);
});

test.run();
