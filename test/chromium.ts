/**
 * Headless Chromium for end-to-end tests: Debian's /usr/bin/chromium driven by playwright-core.
 * Without it the tests fail under CI (`CI` set) and are skipped, saying so, elsewhere.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Where screenshots go (ignored by git). */
export const ARTIFACTS = 'test/artifacts';

/** A launched browser, or null when the tests should be skipped. */
export async function launchChromium(suiteName: string): Promise<Browser | null> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI) throw new Error(`${suiteName}: ${CHROMIUM} is missing; install it with apt-get install -y chromium`);
    console.log(`\n  skipping ${suiteName}: ${CHROMIUM} is missing (apt-get install -y chromium); CI would fail here\n`);
    return null;
  }
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
