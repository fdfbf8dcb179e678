/**
 * Scripted language models for the ai tests, built on the AI SDK's own MockLanguageModelV3:
 * a model that answers each request from a script (text tokens and/or tool calls), and a
 * "gated" model whose tokens the test releases one at a time, to assert what happened in
 * between and to cancel mid-stream. No timers: streams advance when the test says so.
 */
import type { LanguageModelV3CallOptions, LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { MockLanguageModelV3 } from 'ai/test';

const usage = (input: number, output: number) => ({
  inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: output, text: output, reasoning: 0 },
});

/** One scripted answer: text in tokens, then tool calls (name + JSON-able input). */
export interface Answer {
  tokens?: string[];
  toolCalls?: { name: string; input: unknown; id?: string }[];
  /** Fails the request with this error part instead. */
  error?: Error;
}

export function partsOf(answer: Answer, request: number): LanguageModelV3StreamPart[] {
  if (answer.error) return [{ type: 'error', error: answer.error }];
  const parts: LanguageModelV3StreamPart[] = [{ type: 'stream-start', warnings: [] }];
  const tokens = answer.tokens ?? [];
  if (tokens.length) {
    parts.push({ type: 'text-start', id: 't' });
    for (const delta of tokens) parts.push({ type: 'text-delta', id: 't', delta });
    parts.push({ type: 'text-end', id: 't' });
  }
  (answer.toolCalls ?? []).forEach((call, i) =>
    parts.push({ type: 'tool-call', toolCallId: call.id ?? `call-${request}-${i}`, toolName: call.name, input: JSON.stringify(call.input) }),
  );
  parts.push({
    type: 'finish',
    finishReason: { unified: answer.toolCalls?.length ? 'tool-calls' : 'stop', raw: undefined },
    usage: usage(10 * request, tokens.length),
  });
  return parts;
}

function streamOf(parts: LanguageModelV3StreamPart[]): ReadableStream<LanguageModelV3StreamPart> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}

/**
 * A model answering request n with `script[n]` (or `script(n, call)`), streaming or not.
 * `calls` keeps every request's options (prompt, tools, abortSignal).
 */
export function scriptedModel(script: Answer[] | ((request: number, call: LanguageModelV3CallOptions) => Answer), modelId = 'mock-model') {
  const calls: LanguageModelV3CallOptions[] = [];
  const answerFor = (call: LanguageModelV3CallOptions): Answer => {
    calls.push(call);
    const n = calls.length;
    const answer = typeof script === 'function' ? script(n, call) : script[n - 1];
    if (!answer) throw new Error(`scriptedModel: no answer scripted for request ${n}`);
    return answer;
  };
  const model = new MockLanguageModelV3({
    modelId,
    doStream: async (call) => ({ stream: streamOf(partsOf(answerFor(call), calls.length)) }),
    doGenerate: async (call) => {
      const answer = answerFor(call);
      if (answer.error) throw answer.error;
      const text = (answer.tokens ?? []).join('');
      return {
        content: [
          ...(text ? [{ type: 'text' as const, text }] : []),
          ...(answer.toolCalls ?? []).map((c, i) => ({
            type: 'tool-call' as const,
            toolCallId: c.id ?? `call-${calls.length}-${i}`,
            toolName: c.name,
            input: JSON.stringify(c.input),
          })),
        ],
        finishReason: { unified: answer.toolCalls?.length ? ('tool-calls' as const) : ('stop' as const), raw: undefined },
        usage: usage(10 * calls.length, (answer.tokens ?? []).length),
        warnings: [],
      };
    },
  });
  return { model, calls };
}

/**
 * A streaming model whose tokens the test pushes one by one (`push`), then `end()`s. The
 * request's abortSignal is kept (`signal`), and `requested` resolves when the request arrives.
 */
export function gatedModel(modelId = 'gated-model') {
  let controller!: ReadableStreamDefaultController<LanguageModelV3StreamPart>;
  let arrived!: (call: LanguageModelV3CallOptions) => void;
  const requested = new Promise<LanguageModelV3CallOptions>((resolve) => (arrived = resolve));
  let pushed = 0;
  const model = new MockLanguageModelV3({
    modelId,
    doStream: async (call) => {
      const stream = new ReadableStream<LanguageModelV3StreamPart>({
        start(c) {
          controller = c;
          c.enqueue({ type: 'stream-start', warnings: [] });
          c.enqueue({ type: 'text-start', id: 't' });
        },
      });
      arrived(call);
      return { stream };
    },
  });
  return {
    model,
    requested,
    push(delta: string) {
      pushed++;
      controller.enqueue({ type: 'text-delta', id: 't', delta });
    },
    end() {
      controller.enqueue({ type: 'text-end', id: 't' });
      controller.enqueue({ type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage: usage(5, pushed) });
      controller.close();
    },
  };
}
