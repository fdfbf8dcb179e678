/**
 * The inspector shows an agent run as it happens (issue 16), in headless Chromium: under the
 * agent's node, its model requests and tool calls one by one with their status — a tool call
 * shown running while it runs — and the text each model request streamed (`ctx.emit` values
 * reach the inspector as `junjo.emit` events). The screenshot is docs/inspector-agent.png.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import type { Browser } from 'playwright-core';
import { startInspectorServer, type InspectorServer } from '../../inspector/server.js';
import { buildInspectorUi } from '../../inspector/build.mjs';
import { inspect } from '../../inspector/client.js';
import { Graph, Workflow, defineStore } from '../../src/index.js';
import { Agent, agentTool } from '../../src/ai/index.js';
import { scriptedModel } from '../support/mock-models.js';
import { launchChromium } from '../chromium.js';

const test = suite('inspector: an agent run');
let server: InspectorServer;
let browser: Browser | null;

test.before(async () => {
  await buildInspectorUi();
  server = await startInspectorServer({ port: 0, historyPath: ':memory:', log: () => {} });
  browser = await launchChromium('the inspector agent test');
});

test.after(async () => {
  await browser?.close();
  await server?.close();
});

const Notes = defineStore({ name: 'Notes', initial: { topic: 'owls', report: '' }, actions: { save: (d, r: string) => void (d.report = r) } });

test('an agent node’s model requests and tool calls show under it, live, with their streamed text', async () => {
  if (!browser) return;
  const page = await browser.newPage({ viewport: { width: 1440, height: 1700 } });
  page.on('pageerror', (err) => console.error(`inspector page error: ${err.message}`));
  await page.goto(server.url);
  await page.waitForSelector('#conn[data-state="live"]');

  const { model } = scriptedModel([
    { tokens: ['Let me ', 'look that up.'], toolCalls: [{ name: 'lookup', input: { topic: 'owls' }, id: 'l1' }] },
    { tokens: ['Owls ', 'turn their heads ', '270 degrees.'] },
  ]);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const lookup = agentTool({
    description: 'Finds a fact',
    parameters: z.object({ topic: z.string() }),
    execute: async ({ topic }) => {
      await released;
      return `${topic}: they cannot move their eyes`;
    },
  });
  const writer = new Agent({ name: 'Writer', model, tools: { lookup } });
  const workflow = new Workflow({
    name: 'AgentInspected',
    graph: () => {
      const write = writer.node('WriteReport', { store: Notes, prompt: (s) => `Write about ${s.topic}`, write: (store, r) => store.save(r.text) });
      return new Graph({ source: write, sinks: [write], edges: [] });
    },
    store: () => Notes.create(),
  });
  const inspector = inspect({ url: server.appUrl, log: () => {} });
  const run = workflow.execute(undefined, { inspect: inspector });

  const runItem = page.locator('.run').filter({ hasText: 'AgentInspected' });
  await runItem.first().waitFor();
  await runItem.first().click();
  const node = page.locator('#activity .activity-node[data-node="WriteReport"]');
  // While the tool runs: the first request done with its text, the tool call running.
  await node.locator('li[data-step="tool#1"][data-status="running"]').waitFor();
  assert.is(await node.locator('li[data-step="model#1"]').getAttribute('data-status'), 'done');
  assert.is(await node.locator('li[data-step="model#1"] .step-text').textContent(), 'Let me look that up.');
  assert.is(await node.locator('li[data-step="model#2"]').count(), 0, 'the second request has not started');
  release();

  const result = await run;
  await inspector.stop();
  assert.is(result.state.report, 'Owls turn their heads 270 degrees.');
  await node.locator('li[data-step="model#2"][data-status="done"] .step-text', { hasText: '270 degrees.' }).waitFor();
  const steps = await node.locator('li[data-step]').evaluateAll((all) => all.map((li) => `${li.getAttribute('data-step')}=${li.getAttribute('data-status')}`));
  assert.equal(steps, ['model#1=done', 'tool#1=done', 'model#2=done']);
  assert.is(await node.locator('li[data-step="tool#1"] .tool').textContent(), 'lookup');
  assert.is(await node.locator('.tokens').textContent(), 'Let me look that up.Owls turn their heads 270 degrees.');
  assert.match((await node.locator('header .count').textContent()) ?? '', /^\d+ values emitted$/);
  await page.locator('#activity-card').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'docs/inspector-agent.png', fullPage: true });
  await page.close();
});

test.run();
