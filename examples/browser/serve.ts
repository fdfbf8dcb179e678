/**
 * Serves examples/browser: `npm run example:browser`, then open the URL it prints.
 * PORT=8080 picks the port (default 5173).
 */
import { fileURLToPath } from 'node:url';
import { servePage } from '../shared/serve-page.js';

const page = await servePage({
  dir: fileURLToPath(new URL('.', import.meta.url)),
  entry: 'main.ts',
  port: Number(process.env.PORT ?? 5173),
});
console.log(`record-workout-activity in the browser: ${page.url}  (script ${(page.scriptBytes / 1024).toFixed(0)} KiB minified; Ctrl+C stops)`);
