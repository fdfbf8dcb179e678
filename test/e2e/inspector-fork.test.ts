/**
 * Forks in the inspector, in headless Chromium: a server started with a SQLite checkpoint store
 * (`checkpoints: ['sqlite:…']`, the CLI's `--checkpoints`) lists its runs; opening one draws it
 * at the selected checkpoint with each node's status — as the graph the store keeps with the
 * checkpoints; from a store that keeps none (written before graphs were kept) from what the
 * checkpoints hold (the nodes that ran, no edges, saying so), then, once the app sent the
 * inspector a run of the workflow, as its graph found by the checkpoints' fingerprint; "Fork from this commit" at a
 * middle commit shows the `workflow.fork` call, which the test then runs as the app would; the
 * fork appears as a child of its origin, completed, and its own view names its origin. Reading
 * the checkpoints needs the token like every run, and a store spec the server cannot open is
 * refused saying what to give.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startInspectorServer, type InspectorServer } from '../../inspector/server.js';
import { buildInspectorUi } from '../../inspector/build.mjs';
import Database from 'better-sqlite3';
import { SqliteCheckpointStore } from '../../src/durable/sqlite.js';
import { inspect } from '../../inspector/client.js';
import { line, ran, runLine } from '../durable/fixtures/history-cases.js';
import { lifecycleWorkflow } from '../fixtures/lifecycle-workflow.js';
import { launchChromium } from '../chromium.js';

const test = suite('inspector forks in a browser');
const dir = mkdtempSync(join(tmpdir(), 'junjo-inspector-fork-'));
const checkpoints = join(dir, 'runs.db');
let server: InspectorServer;
let browser: Browser | null;
let store: SqliteCheckpointStore;

test.before(async () => {
  await buildInspectorUi();
  store = new SqliteCheckpointStore(checkpoints);
  await runLine(store, 'origin-run');
  server = await startInspectorServer({ port: 0, historyPath: join(dir, 'history.sqlite'), checkpoints: [`sqlite:${checkpoints}`], log: () => {} });
  browser = await launchChromium('inspector forks in a browser');
});

test.after(async () => {
  await browser?.close();
  await server?.close();
  store?.close();
});

test('the checkpoint API needs the token, and a store the server cannot open is refused naming what to give', async () => {
  const base = server.url.replace(/\/\?token=.*/, '');
  assert.is((await fetch(`${base}/api/checkpoints`)).status, 403);
  const listing = (await (await fetch(`${base}/api/checkpoints`, { headers: { authorization: `Bearer ${server.token}` } })).json()) as { runs: { runId: string }[] }[];
  assert.equal(listing[0]!.runs.map((r) => r.runId), ['origin-run']);
  const error = await startInspectorServer({ port: 0, historyPath: ':memory:', checkpoints: ['mysql://nope'], log: () => {} }).catch((e) => e);
  assert.match(error.message, /--checkpoints 'mysql:\/\/nope' is not a checkpoint store: give sqlite:<file> .* or postgres:\/\/user@host\/db/);
});

/** Every drawn node's status in the checkpoint view's graph, by node id. */
const drawn = (page: import('playwright-core').Page) =>
  page.evaluate(() =>
    Object.fromEntries(
      Array.from(document.querySelectorAll('#checkpoint-graph [data-node-id]:not([data-node-id$="$start"])')).map((n) => [n.getAttribute('data-node-id'), n.getAttribute('data-status')]),
    ),
  );

test('a checkpointed run is drawn as the graph its store keeps; from an older store, from its checkpoints, then as the graph of a run sent', async () => {
  if (!browser) return;
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(server.url);
  const open = () => page.locator('#checkpoint-runs .checkpoint-run[data-run-id="origin-run"] .run').first().click();
  await open();
  // The store kept the graph with the run's first checkpoint: drawn with its edges, though no
  // run of Line was sent to this inspector.
  await page.locator('#checkpoint-view .checkpoint-graph-note[data-graph="found"]').waitFor();
  assert.match((await page.locator('#checkpoint-view .checkpoint-graph-note').textContent()) ?? '', /Drawn from the graph sqlite:\S+runs\.db keeps with the run's checkpoints/);
  await page.waitForFunction(() => document.querySelectorAll('#checkpoint-graph .edge').length === 3);
  assert.equal(await drawn(page), { A: 'done', B: 'done', C: 'done' }, 'the last checkpoint: every node done');
  await page.screenshot({ path: 'test/artifacts/inspector-checkpoint-kept-graph.png' });

  // A store written before graphs were kept has none: the nodes that ran, without edges, saying so.
  const file = new Database(checkpoints);
  file.exec('DELETE FROM junjo_graphs');
  file.close();
  await page.reload();
  await open();
  await page.locator('#checkpoint-view .checkpoint-graph-note[data-graph="missing"]').waitFor();
  assert.match((await page.locator('#checkpoint-view .checkpoint-graph-note').textContent()) ?? '', /keeps no graph.*drawn without their edges/);
  await page.waitForFunction(() => document.querySelectorAll('#checkpoint-graph [data-node-id="C"]').length === 1);
  assert.equal(await drawn(page), { A: 'done', B: 'done', C: 'done' }, 'the last checkpoint: every node done');
  assert.is(await page.locator('#checkpoint-graph .edge').count(), 1, 'only the start: the checkpoints name no edges');
  await page.locator('#checkpoint-view .checkpoint-commits li', { hasText: '✓ A · ▶ B' }).click();
  await page.waitForFunction(() => document.querySelector('#checkpoint-graph [data-node-id="B"]')?.getAttribute('data-status') === 'running');
  assert.equal(await drawn(page), { A: 'done', B: 'running', C: 'pending' });
  await page.screenshot({ path: 'test/artifacts/inspector-checkpoint-nodes.png' });

  // The app runs the workflow once with the inspector: its graph, of the same fingerprint, is
  // what the checkpoint view draws from then on, at the commit still selected.
  const inspector = inspect({ url: server.appUrl, log: () => {} });
  await line.execute(undefined, { inspect: inspector });
  await inspector.stop();
  await page.locator('#checkpoint-view .checkpoint-graph-note[data-graph="found"]').waitFor();
  assert.match((await page.locator('#checkpoint-view .checkpoint-graph-note').textContent()) ?? '', /the graph of a run of Line from app:\d+ .* with the same fingerprint/);
  await page.waitForFunction(() => document.querySelectorAll('#checkpoint-graph .edge').length === 3);
  assert.equal(await drawn(page), { A: 'done', B: 'running', C: 'pending' }, 'at the middle commit: A done, B running, C not started');
  await page.screenshot({ path: 'test/artifacts/inspector-checkpoint-graph.png' });

  // A subflow and a RunConcurrent: each commit's running children, finished subflows and done
  // regions give every node its status, the subflow's inner nodes too.
  const life = lifecycleWorkflow('nowhere');
  await life.execute(undefined, { checkpoint: store, runId: 'life-run' });
  const lifeInspector = inspect({ url: server.appUrl, log: () => {} });
  await lifecycleWorkflow('nowhere').execute(undefined, { inspect: lifeInspector });
  await lifeInspector.stop();
  await page.locator('#checkpoint-runs .checkpoint-run[data-run-id="life-run"] .run').first().click();
  await page.locator('#checkpoint-view .checkpoint-graph-note[data-graph="found"]').waitFor();
  const at = async (seq: number) => {
    await page.locator(`#checkpoint-view .checkpoint-commits li[data-seq="${seq}"]`).click();
    await page.locator('#checkpoint-view .checkpoint-graph-card .count', { hasText: `at commit #${seq}` }).waitFor();
    return drawn(page);
  };
  // Which checkpoints a run writes depends on timing (steps close together are written once),
  // so every one is checked against the node statuses the library reads from it (fork.ts).
  const base = server.url.replace(/\/\?token=.*/, '');
  const { commits } = (await (await fetch(`${base}/api/checkpoints/history?source=0&run=life-run`, { headers: { authorization: `Bearer ${server.token}` } })).json()) as {
    commits: { seq: number; nodes: Record<string, 'running' | 'done'> }[];
  };
  const status = (s: 'running' | 'done' | undefined) => s ?? 'pending';
  for (const { seq, nodes } of commits) {
    const items = [status(nodes.Left), status(nodes.Right)];
    const both = items.includes('running') ? 'running' : items.every((s) => s === 'done') ? 'done' : 'pending';
    const expected = { Start: status(nodes.Start), Sub: status(nodes.Sub), 'Sub/Inner': status(nodes.Sub), Both: both, Left: items[0], Right: items[1], End: status(nodes.End) };
    assert.equal(await at(seq), expected, `commit #${seq}`);
  }
  assert.ok(commits.some((c) => c.nodes.Sub === 'running'), 'a checkpoint inside the subflow');
  assert.ok(commits.some((c) => c.nodes.Left === 'running' || c.nodes.Right === 'running'), 'a checkpoint inside the RunConcurrent');
  await at(commits.find((c) => c.nodes.Sub === 'running')!.seq);
  await page.screenshot({ path: 'test/artifacts/inspector-checkpoint-subflow.png' });
  await page.close();
});

test('fork from a middle commit: the command is shown, and the fork, once run, ends as a child of its origin', async () => {
  if (!browser) return;
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(server.url);
  const origin = page.locator('#checkpoint-runs .checkpoint-run[data-run-id="origin-run"]');
  await origin.locator('.run').first().click();
  // The middle commit where A completed and B started.
  const middle = page.locator('#checkpoint-view .checkpoint-commits li', { hasText: '✓ A · ▶ B' });
  await middle.click();
  const seq = Number(await middle.getAttribute('data-seq'));
  const commits = await page.locator('#checkpoint-view .checkpoint-commits li').count();
  assert.ok(seq > 1 && seq < commits, `commit ${seq} of ${commits}`);
  await page.locator('#checkpoint-view .checkpoint-nodes .status-done', { hasText: 'A' }).waitFor();
  await page.locator('#checkpoint-view .checkpoint-nodes .status-running', { hasText: 'B' }).waitFor();
  await page.click('#checkpoint-view .fork-button');
  const command = (await page.locator('#checkpoint-view .fork-command').textContent()) ?? '';
  assert.match(command, new RegExp(`workflow\\.fork\\("origin-run", \\{\\s*checkpoint: store,\\s*at: ${seq},`));
  assert.match(command, /"log": \[\s*"A"\s*\]/, 'the state at that commit, to edit');

  // The app runs it, as shown.
  for (const key of Object.keys(ran)) delete ran[key];
  const fork = await line.fork('origin-run', { checkpoint: store, at: seq, runId: 'fork-run' });
  assert.equal(ran, { B: 1, C: 1 });
  const child = origin.locator('.checkpoint-forks .checkpoint-run[data-run-id="fork-run"][data-status="completed"]');
  await child.waitFor();
  assert.match((await child.textContent()) ?? '', new RegExp(`fork at #${seq}`));
  await page.screenshot({ path: 'docs/inspector-fork.png' });

  await child.locator('.run').click();
  await page.locator('#checkpoint-view .fork-origin', { hasText: `forked from origin-r at commit #${seq}` }).waitFor();
  const last = page.locator('#checkpoint-view .checkpoint-commits li').last();
  await last.waitFor();
  for (const node of ['A', 'B', 'C']) await page.locator('#checkpoint-view .checkpoint-nodes .status-done', { hasText: node }).waitFor();
  assert.ok(await page.locator('#checkpoint-view .fork-button').isDisabled(), "a completed run's end cannot be forked");
  assert.equal(fork.state.log, ['A', 'B', 'C']);
  await page.close();
});

test.run();
