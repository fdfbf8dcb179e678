/**
 * One model request over the AI SDK, shared by the `llm` node and the agent's model step:
 * `streamText` (each text delta sent through `emit` as it arrives) or `generateText`, with the
 * caller's AbortSignal as `abortSignal`, and what the rest of the package needs from it (text,
 * tool calls, usage, model id, the response messages) as plain data.
 *
 * It does not retry: the node around it does (its `retry` option), so a retried attempt is
 * one more node attempt in hooks and spans, not an invisible loop inside the SDK.
 */
import {
  generateText,
  streamText,
  type CallSettings,
  type LanguageModel,
  type LanguageModelUsage,
  type ModelMessage,
  type ToolSet,
} from 'ai';

/** What the model is asked: a prompt string, or messages, with an optional system prompt. */
export type ModelPrompt = string | { system?: string; prompt: string } | { system?: string; messages: ModelMessage[] };

/** A token as `ctx.emit` sends it: `{ type: 'llm.token', text }` (tell it apart from other emits by `type`). */
export interface LlmToken {
  type: 'llm.token';
  text: string;
}

export interface ModelCallOptions {
  model: LanguageModel;
  prompt: ModelPrompt;
  /** Tools the model may call; declared without `execute`, so the SDK never runs them itself. */
  tools?: ToolSet;
  /** The AI SDK's `output` (Output.object / Output.json) for structured output. */
  output?: Parameters<typeof generateText>[0]['output'];
  settings?: CallSettings;
  stream: boolean;
  signal: AbortSignal;
  emit: (data: unknown) => boolean;
}

export interface ModelToolCall {
  toolCallId: string;
  toolName: string;
  input: unknown;
  /** Set when the SDK could not parse the call (e.g. broken JSON): the model is told. */
  invalid?: string;
}

export interface ModelCallResult {
  text: string;
  toolCalls: ModelToolCall[];
  usage: TokenUsage;
  /** The model that answered (the response's model id, else the model's own id). */
  modelId: string;
  finishReason: string;
  /** The assistant (and tool) messages of the response, to append to a conversation. */
  responseMessages: ModelMessage[];
  /** Structured output, when `output` was given (already validated by the SDK). */
  output?: unknown;
}

/** Token counts; undefined where the provider did not report them. */
export interface TokenUsage {
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  totalTokens: number | undefined;
}

export function modelName(model: LanguageModel): string {
  return typeof model === 'string' ? model : model.modelId;
}

const usageOf = (usage: LanguageModelUsage | undefined): TokenUsage => ({
  inputTokens: usage?.inputTokens,
  outputTokens: usage?.outputTokens,
  totalTokens: usage?.totalTokens,
});

function promptFields(prompt: ModelPrompt): { system?: string; prompt: string } | { system?: string; messages: ModelMessage[] } {
  return typeof prompt === 'string' ? { prompt } : prompt;
}

export async function callModel(options: ModelCallOptions): Promise<ModelCallResult> {
  const { model, tools, output, settings, signal, emit } = options;
  signal.throwIfAborted();
  const request = {
    ...settings,
    model,
    ...promptFields(options.prompt),
    ...(tools ? { tools } : {}),
    ...(output ? { output } : {}),
    abortSignal: signal,
    // The node retries; a retry inside the SDK would hide attempts from hooks and spans.
    maxRetries: 0,
  } as Parameters<typeof generateText>[0];

  if (!options.stream) {
    const result = await generateText(request);
    return {
      text: result.text,
      toolCalls: result.toolCalls.map(toolCallOf),
      usage: usageOf(result.usage),
      modelId: result.response.modelId || modelName(model),
      finishReason: result.finishReason,
      responseMessages: result.response.messages,
      ...(output ? { output: result.output } : {}),
    };
  }

  let failure: { error: unknown } | undefined;
  // Errors are read from the stream below; the SDK's default handler would only log them.
  const result = streamText({ ...request, onError: ({ error }) => void (failure ??= { error }) } as Parameters<typeof streamText>[0]);
  const toolCalls: ModelToolCall[] = [];
  let text = '';
  let finishReason = 'unknown';
  let usage: LanguageModelUsage | undefined;
  for await (const part of result.fullStream) {
    switch (part.type) {
      case 'text-delta':
        text += part.text;
        emit({ type: 'llm.token', text: part.text } satisfies LlmToken);
        break;
      case 'tool-call':
        toolCalls.push(toolCallOf(part));
        break;
      case 'finish':
        finishReason = part.finishReason;
        usage = part.totalUsage;
        break;
      case 'error':
        failure ??= { error: part.error };
        break;
      default:
        break;
    }
  }
  // An aborted request ends its stream quietly: the abort is the outcome.
  signal.throwIfAborted();
  if (failure) throw failure.error;
  const response = await result.response;
  return {
    text,
    toolCalls,
    usage: usageOf(usage),
    modelId: response.modelId || modelName(model),
    finishReason,
    responseMessages: response.messages,
    ...(output ? { output: await result.output } : {}),
  };
}

function toolCallOf(call: { toolCallId: string; toolName: string; input: unknown; invalid?: boolean; error?: unknown }): ModelToolCall {
  const toolCall: ModelToolCall = { toolCallId: call.toolCallId, toolName: call.toolName, input: call.input };
  if (call.invalid) toolCall.invalid = call.error instanceof Error ? call.error.message : String(call.error ?? 'invalid call');
  return toolCall;
}
