/**
 * The model node: `llm(name, { model, prompt: (state) => …, write: (store, result) => … })`.
 * One model request per attempt over the AI SDK (`streamText` by default, `generateText` with
 * `stream: false`), its tokens sent out as they arrive through `ctx.emit` as
 * `{ type: 'llm.token', text }`, cancelled through `ctx.signal`, retried and timed out like any
 * node (`retry`, `timeoutMs`). With `schema` (any Standard Schema) the answer is structured
 * output, checked against it; a mismatch fails the node with an LlmOutputError naming it.
 *
 * The model name, token counts, prompt and answer go on the node's completed event and its
 * span with the OpenInference names (`llm.model_name`, `llm.token_count.prompt` /
 * `.completion` / `.total`, `input.value`, `output.value`, `openinference.span.kind = LLM`).
 *
 * The store type is inferred from `store: MyStore` (the definition, used only for its type), or
 * given as `llm<MyStoreHandle>(…)` (then without a schema: the output is the text).
 *
 * ```ts
 * const summarize = llm('Summarize', {
 *   store: DocsStore,
 *   model,
 *   prompt: (state) => `Summarise in one sentence:\n${state.text}`,
 *   write: (store, { text }) => store.setSummary(text),
 * });
 * ```
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { NoObjectGeneratedError, Output, type CallSettings, type LanguageModel } from 'ai';
import { Node, type NodeContext, type NodeOptions } from '../index.js';
import { LlmOutputError, formatIssues } from './errors.js';
import { callModel, modelName, type ModelPrompt, type TokenUsage } from './model-call.js';

/** The state type of a store handle. */
export type StateOfHandle<H> = H extends { getState(): infer S } ? S : never;

/** Anything whose `create()` makes handles of type `H`: a store definition, for type inference. */
export interface StoreWitness<H> {
  create(...args: never[]): H;
}

export interface LlmResult<O> {
  /** The answer's text (for structured output, the JSON text). */
  text: string;
  /** The structured output (checked against `schema`); without a schema, the text. */
  output: O;
  usage: TokenUsage;
  /** The model that answered. */
  model: string;
  finishReason: string;
}

export interface LlmOptions<H, O> extends Omit<NodeOptions, 'name'> {
  model: LanguageModel;
  /** The store definition; only its type is used (so `write` and `prompt` need no annotations). */
  store?: StoreWitness<H>;
  /** What to ask, from the committed state when the attempt starts. */
  prompt: (state: StateOfHandle<H>) => ModelPrompt;
  /** Structured output: the answer must match this Standard Schema (zod, valibot, arktype …). */
  schema?: StandardSchemaV1<unknown, O>;
  /** Commits the result through the store's actions. */
  write: (store: H, result: LlmResult<O>) => unknown;
  /** Stream tokens out through ctx.emit (default true); false uses generateText. */
  stream?: boolean;
  /** The AI SDK's call settings: temperature, maxOutputTokens, seed … */
  settings?: CallSettings;
}

/** A node that makes one model request per attempt (see the module comment). */
export class LlmNode<H extends { getState(): unknown }, O> extends Node<H> {
  readonly #options: LlmOptions<H, O>;

  constructor(name: string, options: LlmOptions<H, O>) {
    super(nodeOptions(name, options));
    if (typeof options.prompt !== 'function' || typeof options.write !== 'function') {
      throw new TypeError(`llm('${name}'): give it { model, prompt: (state) => …, write: (store, result) => … }`);
    }
    if (!options.model) throw new TypeError(`llm('${name}'): model is missing; pass an AI SDK language model, e.g. openai('gpt-4o-mini')`);
    if (options.schema !== undefined && typeof options.schema?.['~standard']?.validate !== 'function') {
      throw new TypeError(`llm('${name}'): schema must be a Standard Schema (zod, valibot, arktype …)`);
    }
    this.#options = options;
  }

  async service(store: H, ctx: NodeContext): Promise<void> {
    const { model, schema, settings, stream = true } = this.#options;
    const prompt = this.#options.prompt(store.getState() as StateOfHandle<H>);
    ctx.setAttributes({ 'openinference.span.kind': 'LLM', 'llm.model_name': modelName(model), 'input.value': textOf(prompt) });
    let result;
    try {
      result = await callModel({
        model,
        prompt,
        output: schema ? outputFor(schema) : undefined,
        settings,
        stream,
        signal: ctx.signal,
        emit: ctx.emit,
      });
    } catch (error) {
      if (schema && NoObjectGeneratedError.isInstance(error)) throw await mismatch(this.name, schema, error.text, error);
      throw error;
    }
    let output: unknown = result.text;
    if (schema) {
      // Checked here too: with a schema the SDK cannot turn into JSON Schema it only parsed JSON.
      const checked = await schema['~standard'].validate(result.output);
      if (checked.issues) throw new LlmOutputError(this.name, formatIssues(checked.issues), result.text);
      output = checked.value;
    }
    ctx.setAttributes({
      'llm.model_name': result.modelId,
      ...counts(result.usage),
      'output.value': result.text,
    });
    await this.#options.write(store, { text: result.text, output: output as O, usage: result.usage, model: result.modelId, finishReason: result.finishReason });
  }
}

/** The core node options of an llm or agent node; a missing options object is caught here. */
export function nodeOptions(name: string, options: { retry?: NodeOptions['retry']; timeoutMs?: number } | undefined): NodeOptions {
  if (options === null || typeof options !== 'object') throw new TypeError(`'${name}': options are missing`);
  return { name, ...(options.retry ? { retry: options.retry } : {}), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) };
}

/** A model node; see the module comment. */
export function llm<H extends { getState(): unknown }, O = string>(name: string, options: LlmOptions<H, O>): LlmNode<H, O> {
  return new LlmNode(name, options);
}

/** The OpenInference token counts that the provider reported. */
export function counts(usage: TokenUsage): Record<string, number> {
  const attributes: Record<string, number> = {};
  if (usage.inputTokens !== undefined) attributes['llm.token_count.prompt'] = usage.inputTokens;
  if (usage.outputTokens !== undefined) attributes['llm.token_count.completion'] = usage.outputTokens;
  if (usage.totalTokens !== undefined) attributes['llm.token_count.total'] = usage.totalTokens;
  return attributes;
}

export function textOf(prompt: ModelPrompt): string {
  return typeof prompt === 'string' ? prompt : JSON.stringify(prompt);
}

/**
 * The AI SDK's structured output for a Standard Schema: `Output.object` when the SDK can give
 * the provider its JSON Schema (zod, or a schema with a Standard JSON Schema converter), else
 * `Output.json` (JSON mode) and the schema is checked here.
 */
function outputFor(schema: StandardSchemaV1<unknown, unknown>) {
  const props = schema['~standard'] as { vendor: string; jsonSchema?: unknown };
  if (props.vendor === 'zod' || props.jsonSchema !== undefined) {
    return Output.object({ schema: schema as Parameters<typeof Output.object>[0]['schema'] });
  }
  return Output.json();
}

async function mismatch(node: string, schema: StandardSchemaV1<unknown, unknown>, text: string | undefined, cause: unknown): Promise<LlmOutputError> {
  let parsed: unknown;
  try {
    parsed = text === undefined ? undefined : JSON.parse(text);
  } catch {
    return new LlmOutputError(node, ['the answer is not JSON'], text, cause);
  }
  const checked = await schema['~standard'].validate(parsed);
  return new LlmOutputError(node, checked.issues ? formatIssues(checked.issues) : [], text, cause);
}
