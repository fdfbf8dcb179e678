/**
 * Runs the research-agent example, printing tokens as they stream out of the model nodes and
 * the agent, and the agent's tool calls as they finish:
 *
 *   npm run example:agent                       offline: the local chat-completions stand-in
 *   OPENAI_API_KEY=… npm run example:agent      a real provider (OpenAI by default; any
 *       OpenAI-compatible API with OPENAI_BASE_URL=…, model OPENAI_MODEL=…, default gpt-4o-mini)
 *
 * The real-provider path is documented, not tested: the tests run offline only.
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LlmToken } from '../../src/ai/index.js';
import { startChatCompletionsServer, type ChatServer } from '../shared/chat-completions-server.js';
import { offlineResponder } from './offline-model.js';
import { researchWorkflow } from './workflow.js';

const apiKey = process.env.OPENAI_API_KEY;
let server: ChatServer | undefined;
let baseURL = process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1';
if (!apiKey) {
  server = await startChatCompletionsServer({ respond: offlineResponder });
  baseURL = server.baseURL;
}
const provider = createOpenAICompatible({ name: apiKey ? 'openai' : 'standin', baseURL, apiKey: apiKey ?? 'offline', includeUsage: true });
const model = provider.chatModel(apiKey ? (process.env.OPENAI_MODEL ?? 'gpt-4o-mini') : 'standin-research');
console.log(apiKey ? `model: ${baseURL} ${model.modelId}` : `model: the local chat-completions stand-in at ${baseURL}`);

const question = process.argv[2] ?? 'How do these animals shape their surroundings?';
let current = '';
try {
  for await (const item of researchWorkflow(model).stream({ question })) {
    if (item.type === 'nodeEmitted') {
      const data = item.data as LlmToken | { type: 'agent.step'; kind: string; tool?: string; request?: number };
      if (data.type === 'llm.token') {
        // A new line whenever the tokens come from another node (RunMap items run two at a time).
        if (current !== item.id) process.stdout.write(`\n[${item.id}] `);
        current = item.id;
        process.stdout.write(data.text);
      } else {
        process.stdout.write(data.kind === 'tool' ? `\n  (tool ${data.tool} done)` : `\n  (model request ${data.request} done)`);
        current = '';
      }
    } else if (item.type === 'nodeCompleted' && item.step === undefined && item.attributes?.['llm.token_count.completion'] !== undefined) {
      // (An agent's steps are nodes inside its node, `step` set; their emitted values say enough.)
      process.stdout.write(`\n  ✓ ${item.name}: ${item.attributes['llm.token_count.completion']} tokens`);
    } else if (item.type === 'result') {
      console.log(`\n\nReport:\n${item.result.state.report}`);
    }
  }
} finally {
  await server?.close();
}
