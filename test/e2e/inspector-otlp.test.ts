/**
 * Traces from another process: a worker (test/fixtures/otlp-worker.ts) exports a run's
 * `junjo-xstate/otel` spans with `@opentelemetry/exporter-trace-otlp-http` to the server's
 * `POST /v1/traces`; the server keeps it as a run — its workflow with the graph, one actor per
 * node span with its status, its store's commits, an event list made from the spans — which a
 * UI tab receives and headless Chromium draws with every node done, the commits in the store
 * timeline, the run's events and duration, and a step back in time. Spans exported in two
 * batches that arrive in the wrong order (the workflow span first) make one run, which the
 * later batch completes, in an open tab and in the history. A foreign Origin and a malformed
 * export are refused.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import type { Browser } from 'playwright-core';
import { startInspectorServer, type InspectorServer } from '../../inspector/server.js';
import { buildInspectorUi } from '../../inspector/build.mjs';
import { eventTexts, type Envelope } from '../../inspector/protocol.js';
import { launchChromium } from '../chromium.js';
import { runToEnd, startChild } from '../support/processes.js';

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
  const end = events.filter((e) => e.type === '@xstate.snapshot' && e.sessionId === `otel:${runId}`).at(-1)!;
  assert.equal((end.snapshot!.context as { executionCounts: unknown }).executionCounts, { Start: 1, Sub: 1, Both: 1, Left: 1, Right: 1, End: 1 }, 'counted as a live run counts them');
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
  // Its events: made from the spans, in time order, so the header has the run's length.
  const calls = events.filter((e) => e.type === '@xstate.event');
  const times = calls.map((e) => Number(e.createdAt));
  assert.equal(times, [...times].sort((x, y) => x - y), 'in time order');
  const types = calls.map((e) => e.event!.type);
  for (const type of ['junjo.otel.started', 'junjo.otel.completed', 'log', 'setState']) assert.ok(types.includes(type), type);
  await page.waitForFunction((n) => document.querySelector('#run-head')?.textContent?.includes(`${n} events`), calls.length);
  const facts = await page.locator('#run-head .run-facts span').allTextContents();
  const ms = Number(/^(\d+) ms$/.exec(facts.find((f) => / ms$/.test(f)) ?? '')?.[1]);
  assert.is(ms, Number(calls.at(-1)!.createdAt) - Number(events[0]!.createdAt), "the header's duration is the workflow span's");
  assert.ok(ms > 0, facts.join(' · '));
  await page.locator('#events-body tr', { hasText: 'junjo.otel.started' }).first().waitFor();
  await page.screenshot({ path: 'test/artifacts/inspector-otlp.png' });
  // Time travel: before the first commit, no node has ended yet.
  // By key (Home steps to the initial state): a click can land on a row just redrawn.
  await page.locator('#run-head h2').click();
  await page.keyboard.press('Home');
  await page.waitForFunction(() => document.querySelector('#timeline-card')?.getAttribute('data-position') === '0');
  await page.waitForFunction(() => document.querySelector('#main')?.getAttribute('data-as-of') !== 'latest');
  await page.waitForFunction(() => document.querySelector('#graph [data-node-id="End"]')?.getAttribute('data-status') === 'pending');
  await page.close();
});

test("a failed run's trace shows where it failed, once, with the error", async () => {
  const { out, code, err } = await runToEnd('test/fixtures/otlp-worker.ts', [`${base}/v1/traces`, 'fail']);
  assert.is(code, 0, err);
  const [, runId] = /^failed (\S+)$/m.exec(out)!;
  const events = (await envelopes()).map((e) => e.event).filter((e) => e.rootId === `otel:${runId}`);
  const names = new Map(events.filter((e) => e.type === '@xstate.actor').map((e) => [e.sessionId, e.name]));
  const end = events.filter((e) => e.type === '@xstate.snapshot' && e.sessionId === `otel:${runId}`).at(-1)!;
  assert.is(end.snapshot!.status, 'error');
  const left = events.filter((e) => e.type === '@xstate.snapshot' && names.get(e.sessionId) === 'Left').at(-1)!;
  assert.is(left.snapshot!.status, 'error');
  const failed = events.find((e) => e.type === '@xstate.event' && e.event!.type === 'junjo.otel.failed' && names.get(e.sessionId) === 'Left')!;
  assert.is(failed.event!.error, 'Left broke');
  if (!browser) return;
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  await page.goto(server.url);
  await page.locator(`#runs .run[data-run-key="otlp:127.0.0.1 otel:${runId}"]`).click();
  await page.waitForFunction(() => document.querySelector('#graph [data-node-id="Left"]')?.getAttribute('data-status') === 'failed');
  await page.locator('#errors', { hasText: 'Left broke' }).waitFor();
  assert.is(await page.locator('#errors .error').count(), 1, 'the error once');
  await page.close();
});

/**
 * A proxy in front of the server that holds the first export back until the second one has
 * been answered, as a slow request overtaken by a later one would be; `release()` sends it on.
 */
async function overtakingProxy(target: string) {
  const bodies: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let secondAnswered!: () => void;
  const overtaken = new Promise<void>((resolve) => (secondAnswered = resolve));
  const forward = (body: string, res: ServerResponse) =>
    new Promise<void>((resolve) => {
      const out = request(target, { method: 'POST', headers: { 'content-type': 'application/json' } }, (answer) => {
        answer.resume();
        answer.on('end', () => {
          res.writeHead(answer.statusCode ?? 502, { 'content-type': 'application/json' }).end('{}');
          resolve();
        });
      });
      out.end(body);
    });
  const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const n = bodies.push(body);
      if (n === 1) {
        await released;
        await forward(body, res);
      } else {
        await forward(body, res);
        if (n === 2) secondAnswered();
      }
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/v1/traces`, bodies, overtaken, release, close: () => proxy.close() };
}

const spanTypes = (body: string) =>
  (JSON.parse(body).resourceSpans as { scopeSpans: { spans: { attributes: { key: string; value: { stringValue?: string } }[] }[] }[] }[])
    .flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))
    .map((span) => span.attributes.find((a) => a.key === 'junjo.span_type')?.value.stringValue);

test('spans exported in two batches, the workflow span first, make one run that the late batch completes, in the tab and the history', async () => {
  const proxy = await overtakingProxy(`${base}/v1/traces`);
  const worker = startChild('test/fixtures/otlp-worker.ts', [proxy.url, 'split'], {}, 120_000);
  try {
    await proxy.overtaken;
    assert.is(proxy.bodies.length, 2, 'two exports');
    assert.ok(spanTypes(proxy.bodies[1]!).includes('workflow'), 'the second export has the workflow span');
    assert.ok(!spanTypes(proxy.bodies[0]!).includes('workflow') && spanTypes(proxy.bodies[0]!).includes('node'), "the first has the first node's span");

    // The run as the server has it so far: without the held node, and shown so in a tab.
    const early = (await envelopes()).map((e) => e.event).filter((e) => e.rootId?.startsWith('otel:'));
    const runRoot = [...new Set(early.map((e) => e.rootId!))].find((r) => !early.some((e) => e.rootId === r && e.type === '@xstate.actor' && e.name === 'Start'))!;
    assert.ok(runRoot, 'the run is shown once its workflow span is there');
    const rootCount = (list: { type: string; sessionId: string }[]) => list.filter((e) => e.type === '@xstate.actor' && e.sessionId === runRoot).length;
    const page = browser ? await browser.newPage({ viewport: { width: 1440, height: 1000 } }) : undefined;
    if (page) {
      await page.goto(server.url);
      await page.locator(`#runs .run[data-run-key="otlp:127.0.0.1 ${runRoot}"]`).click();
      await page.waitForFunction(() => document.querySelector('#graph [data-node-id="Sub"]')?.getAttribute('data-status') === 'done');
      assert.is(await page.locator('#graph [data-node-id="Start"]').getAttribute('data-status'), 'pending', "the held node's span has not arrived");
    }
    const partial = (await envelopes()).filter((e) => e.event.rootId === runRoot);
    assert.ok(!partial.some((e) => e.event.type === '@xstate.actor' && e.event.name === 'Start'));

    proxy.release();
    const { code, lines, stderr } = await worker.exited;
    assert.is(code, 0, stderr);
    const [, runId, state] = /^run (\S+) (.*)$/m.exec(lines.join('\n'))!;
    assert.is(runRoot, `otel:${runId}`);

    // In the history (what a new tab is sent): the run once, whole.
    const whole = (await envelopes()).map((e) => e.event).filter((e) => e.rootId === runRoot);
    assert.is(rootCount(whole), 1, 'one run, not two');
    const names = whole.filter((e) => e.type === '@xstate.actor').map((e) => e.name);
    assert.is(names.filter((n) => n === 'Start').length, 1, 'the late node joined its run once');
    const actors = new Map(whole.filter((e) => e.type === '@xstate.actor').map((e) => [e.sessionId, e.name]));
    const storeSnapshots = whole.filter((e) => e.type === '@xstate.snapshot' && actors.get(e.sessionId) === 'store');
    assert.equal(storeSnapshots.at(-1)!.snapshot!.context, JSON.parse(state!), "with the late node's commits, applied in order");
    assert.equal(storeSnapshots.map((e) => (e.snapshot!.commit as { seq: number }).seq), storeSnapshots.map((_, i) => i + 1));

    if (page) {
      // The open tab forgot the partial run and shows the whole one in its place.
      await page.waitForFunction(() => document.querySelector('#graph [data-node-id="Start"]')?.getAttribute('data-status') === 'done');
      assert.is(await page.locator(`#runs .run[data-run-key="otlp:127.0.0.1 ${runRoot}"]`).count(), 1);
      assert.is(await page.locator('#commits .commit[data-seq]').count(), storeSnapshots.length);
      await page.close();
    }
  } finally {
    proxy.release();
    proxy.close();
    await worker.exited;
  }
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
