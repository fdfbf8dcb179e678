/**
 * In headless Chromium: the React example's story card shows a model node's tokens arriving
 * one by one. The page reaches the local chat-completions stand-in over HTTP; the stand-in is
 * gated, so the test lets one token out at a time and waits for the page to show it (events,
 * not time), asserting the DOM after each. Screenshots go to test/artifacts/.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { startChatCompletionsServer, tokensOf, type ChatServer } from '../../examples/shared/chat-completions-server.js';
import { servePage, type ServedPage } from '../../examples/shared/serve-page.js';
import { storyResponder } from '../../examples/react/story-responder.js';
import { ARTIFACTS, launchChromium } from '../chromium.js';

const test = suite('ai: React example streams tokens (Chromium)');
let browser: Browser | null = null;
let model: ChatServer | undefined;
let served: ServedPage | undefined;

test.before(async () => {
  browser = await launchChromium('React token streaming');
});
test.after(async () => {
  await browser?.close();
  await served?.close();
  await model?.close();
});

test('the story card renders each token as the run actor emits it, then the commit', async () => {
  if (!browser) return;
  model = await startChatCompletionsServer({ respond: storyResponder, gated: true });
  served = await servePage({ dir: fileURLToPath(new URL('../../examples/react/', import.meta.url)), entry: 'main.tsx' });
  const page = await browser.newPage({ viewport: { width: 1100, height: 1100 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
  await page.goto(`${served.url}?llm=${encodeURIComponent(model.baseURL)}`);
  await page.fill('#topic', 'a lighthouse');
  await page.click('#tell');
  await page.waitForSelector('#story-run[data-tokens="0"]');
  const expected = tokensOf('Once there was a lighthouse. Every night it kept watch. One night a ship came home.');
  for (let n = 1; n <= expected.length; n++) {
    model.release(1);
    await page.waitForSelector(`#story-run[data-tokens="${n}"]`);
    const shown = await page.$$eval('#story .token', (spans) => spans.map((s) => s.textContent));
    assert.equal(shown, expected.slice(0, n), `after token ${n}`);
    if (n < expected.length) {
      assert.is(await page.getAttribute('#story-run', 'data-story-status'), 'active', 'still running');
      assert.is(await page.textContent('#story-status'), `streaming… ${n} tokens`);
    }
    if (n === 4) await page.screenshot({ path: `${ARTIFACTS}/react-story-streaming.png`, fullPage: true });
  }
  await page.waitForSelector('#story-run[data-story-status="done"]');
  assert.is(await page.textContent('#story-status'), `committed to the store: ${expected.join('').length} characters`);
  await page.screenshot({ path: `${ARTIFACTS}/react-story-done.png`, fullPage: true });
  assert.equal(problems, []);
  await page.close();
});

test.run();
