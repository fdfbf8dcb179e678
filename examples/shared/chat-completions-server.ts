/**
 * A local stand-in for an OpenAI-style chat-completions API, on 127.0.0.1 (an ephemeral port
 * by default): `POST /v1/chat/completions`, JSON or server-sent events (`stream: true`, usage
 * in the last chunk), with tool calls. What it answers is decided by `respond(request)`, a
 * plain function, so the research-agent example and the tests script it offline; it is reached
 * through `@ai-sdk/openai-compatible` exactly as a real provider would be.
 *
 * With `gated: true` a streamed answer sends its tokens only as `release()` allows, so a test
 * can look at what arrived after each one, waiting on events rather than time. CORS is open,
 * so a page on another local port (the React example) can call it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null | { type: string; text?: string }[];
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  tools?: { type: 'function'; function: { name: string; description?: string; parameters?: unknown } }[];
  response_format?: { type: string; json_schema?: unknown };
}

/** An answer: text (split into word tokens), and/or tool calls. */
export interface ChatAnswer {
  text?: string;
  toolCalls?: { name: string; arguments: unknown }[];
}

export interface ChatServerOptions {
  respond: (request: ChatRequest) => ChatAnswer | Promise<ChatAnswer>;
  /** Stream tokens only as `release()` allows (default false: all at once). */
  gated?: boolean;
  port?: number;
}

export interface ChatServer {
  /** The API's base URL, e.g. `http://127.0.0.1:41234/v1` (give it to createOpenAICompatible). */
  baseURL: string;
  /** Every request received, in order. */
  requests: ChatRequest[];
  /** Gated mode: lets `n` more tokens out (across answers). */
  release(n?: number): void;
  /** Streams currently open (a client that went away is closed at once). */
  openStreams(): number;
  /** Resolves once no stream is open (at once if none is). */
  whenIdle(): Promise<void>;
  close(): Promise<void>;
}

/** The text of a message's content, whatever its form. */
export function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => part.text ?? '').join('');
}

export const tokensOf = (text: string): string[] => text.match(/\S+\s*|\s+/g) ?? [];

export async function startChatCompletionsServer(options: ChatServerOptions): Promise<ChatServer> {
  const requests: ChatRequest[] = [];
  let allowed = options.gated ? 0 : Infinity;
  const waiting = new Set<() => void>();
  const open = new Set<ServerResponse>();
  let counter = 0;
  const idlers: (() => void)[] = [];

  const nextToken = (res: ServerResponse): Promise<boolean> =>
    new Promise((resolve) => {
      const tryTake = () => {
        if (res.destroyed || res.writableEnded) {
          waiting.delete(tryTake);
          resolve(false);
        } else if (allowed > 0) {
          allowed--;
          waiting.delete(tryTake);
          resolve(true);
        } else {
          waiting.add(tryTake);
        }
      };
      tryTake();
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-headers', '*');
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.method} ${path}` } }));
    }
    let request: ChatRequest;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest;
      if (!Array.isArray(request.messages)) throw new Error('messages must be an array');
    } catch (err) {
      return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `bad request: ${String(err)}` } }));
    }
    requests.push(request);
    const answer = await options.respond(request);
    const id = `chatcmpl-${++counter}`;
    const created = Math.floor(Date.now() / 1000);
    const tokens = tokensOf(answer.text ?? '');
    const toolCalls = (answer.toolCalls ?? []).map((call, i) => ({
      id: `call_${counter}_${i}`,
      type: 'function' as const,
      function: { name: call.name, arguments: JSON.stringify(call.arguments) },
    }));
    const promptTokens = Math.ceil(JSON.stringify(request.messages).length / 4);
    const usage = { prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length };
    const finish_reason = toolCalls.length ? 'tool_calls' : 'stop';

    if (!request.stream) {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model: request.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: answer.text ?? null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
              finish_reason,
            },
          ],
          usage,
        }),
      );
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    open.add(res);
    res.once('close', () => {
      open.delete(res);
      // A taker of a closed response gives up; the others keep waiting.
      for (const take of [...waiting]) take();
      if (open.size === 0) for (const idle of idlers.splice(0)) idle();
    });
    const send = (delta: object, finish: string | null = null, extra: object = {}) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: request.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`);
    send({ role: 'assistant', content: '' });
    for (const token of tokens) {
      if (!(await nextToken(res))) return;
      send({ content: token });
    }
    toolCalls.forEach((call, index) => send({ tool_calls: [{ index, ...call }] }));
    send({}, finish_reason, { usage });
    res.end('data: [DONE]\n\n');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(err) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    release(n = 1) {
      allowed += n;
      for (const take of [...waiting]) take();
    },
    openStreams: () => open.size,
    whenIdle: () => (open.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idlers.push(resolve))),
    close: () =>
      new Promise((resolve, reject) => {
        for (const take of [...waiting]) take();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
