/**
 * Serves examples/react: `npm run example:react`, then open the URL it prints.
 * PORT=8080 picks the port (default 5173). It also starts the local chat-completions stand-in
 * for the story card and links it in the URL (`?llm=`).
 */
import { fileURLToPath } from 'node:url';
import { startChatCompletionsServer } from '../shared/chat-completions-server.js';
import { servePage } from '../shared/serve-page.js';
import { storyResponder } from './story-responder.js';

const model = await startChatCompletionsServer({ respond: storyResponder, port: Number(process.env.LLM_PORT ?? 0) });
const page = await servePage({
  dir: fileURLToPath(new URL('.', import.meta.url)),
  entry: 'main.tsx',
  port: Number(process.env.PORT ?? 5173),
});
console.log(`order review with React: ${page.url}?llm=${encodeURIComponent(model.baseURL)}  (script ${(page.scriptBytes / 1024).toFixed(0)} KiB minified; Ctrl+C stops)`);
