/**
 * Traces from another process: a worker (test/fixtures/otlp-worker.ts) exports a run's
 * `junjo-xstate/otel` spans with `@opentelemetry/exporter-trace-otlp-http` to the server's
 * `POST /v1/traces`; the server keeps it as a run — its workflow with the graph, one actor per
 * node span with its status, its store's commits — which a UI tab receives and headless
 * Chromium draws with every node done and the commits in the store timeline. A foreign Origin
 * and a malformed export are refused.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import type { Browser } from 'playwright-core';
import { startInspectorServer, type InspectorServer } from '../../inspector/server.js';
import { buildInspectorUi } from '../../inspector/build.mjs';
import { eventTexts, type Envelope } from '../../inspector/protocol.js';
import { launchChromium } from '../chromium.js';
import { runToEnd } from '../support/processes.js';

const test = suite('inspector OTLP traces');
let server: InspectorServer;
let browser: Browser | null;
let base: string;

test.before(async () => {
  await buildInspectorUi();
  server = await startInspectorServer({ port: 0, historyPath: ':memory:', log: () => {} });
  base = server.url.replace(/\/\?token=.*/, '');
  browser = await launchChromium('inspector OTLP traces');
});

test.after(async () => {
  await browser?.close();
  await server?.close();
});

/** Every envelope the server holds, as a new UI tab receives them. */
async function envelopes(): Promise<Envelope[]> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ui?token=${server.token}`, { headers: { origin: base } });
  const got: Envelope[] = [];
  ws.on('message', (data) => got.push(...eventTexts(String(data)).map((line) => JSON.parse(line) as Envelope)));
  await new Promise((resolve) => ws.once('open', resolve));
  // The server sends what it keeps right after the upgrade; a round trip past it marks the end.
  await new Promise((resolve) => ws.ping(undefined, undefined, () => ws.once('pong', resolve)));
  ws.close();
  return got;
}

test('a trace posted from another process is a run with its graph, nodes and commits, drawn in Chromium', async () => {
  const { out, code, err } = await runToEnd('test/fixtures/otlp-worker.ts', [`${base}/v1/traces`]);
  assert.is(code, 0, err);
  const [, runId, state] = /^run (\S+) (.*)$/m.exec(out)!;
  const events = (await envelopes()).map((e) => e.event).filter((e) => e.rootId === `otel:${runId}`);
  const root = events.find((e) => e.type === '@xstate.actor' && e.sessionId === `otel:${runId}`)!;
  assert.is(root.name, 'Life');
  const graph = JSON.parse(root.definition!).meta.junjo.graph;
  assert.ok(graph.nodes.some((n: { id: string }) => n.id === 'Both'), 'the graph came with the trace');
  const actors = new Map(events.filter((e) => e.type === '@xstate.actor').map((e) => [e.sessionId, e.name]));
  const ended = new Map(events.filter((e) => e.type === '@xstate.snapshot').map((e) => [actors.get(e.sessionId), e.snapshot?.status]));
  for (const node of ['Start', 'Sub', 'Inner', 'Both', 'Left', 'Right', 'End']) assert.is(ended.get(node), 'done', node);
  assert.is(ended.get('Life'), 'done');
  const store = events.filter((e) => e.type === '@xstate.snapshot' && actors.get(e.sessionId) === 'store');
  assert.equal(store.at(-1)!.snapshot!.context, JSON.parse(state!), 'the commits, applied, give the final state');

  if (!browser) return;
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  await page.goto(server.url);
  await page.locator('#runs .run[data-status="done"]', { hasText: 'Life' }).first().click();
  await page.waitForFunction(() => {
    const all = Array.from(document.querySelectorAll('#graph [data-node-id]:not([data-node-id$="$start"])'));
    return all.length >= 4 && all.every((n) => n.getAttribute('data-status') === 'done');
  });
  assert.is(await page.locator('#commits .commit[data-seq]').count(), store.length, 'every commit is in the store timeline');
  await page.screenshot({ path: 'test/artifacts/inspector-otlp.png' });
  await page.close();
});

test('an export from a foreign Origin, or one that is not OTLP JSON, is refused saying why', async () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  assert.is((await post('{"resourceSpans":[]}', { origin: 'http://evil.example' })).status, 403);
  const bad = await post('{"nope":1}');
  assert.is(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /not an OTLP trace export: it has no resourceSpans array/);
  const protobuf = await post('x', { 'content-type': 'application/x-protobuf' });
  assert.is(protobuf.status, 415);
  assert.is((await post('{"resourceSpans":[]}')).status, 200);
});

test.run();
