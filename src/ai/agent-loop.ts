/**
 * The agent's tool-calling loop as plain steps over plain data, so that a compiler module can
 * later run each step as its own child actor and checkpoint the state between steps (issue 16's
 * agent node kind; see the README): `nextStep(agent, state)` says what comes next (a model
 * request, one tool call, or the end) and enforces the limits; `modelStep` and `toolStep` each
 * perform one step and return the next state; `runAgentLoop` drives them in one promise, which
 * is how `Agent.run` and `agent.node()` run today.
 *
 * AgentLoopState is JSON: messages (the AI SDK's ModelMessage, which is JSON), counters and
 * the tool calls still to answer. Nothing live is kept in it.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { asSchema, jsonSchema, tool, type CallSettings, type LanguageModel, type ModelMessage, type ToolSet } from 'ai';
import { AgentLimitError, AgentToolError, formatIssues } from './errors.js';
import { callModel, type ModelToolCall, type TokenUsage } from './model-call.js';

/** What a tool's `execute` gets besides its arguments. */
export interface ToolContext {
  /** Aborts when the agent is cancelled (its node's ctx.signal). */
  signal: AbortSignal;
  /** The agent's node's ctx.emit: send progress out while the tool runs. */
  emit: (data: unknown) => boolean;
  toolCallId: string;
  agent: string;
}

/** A tool with typed parameters (any Standard Schema). */
export interface AgentTool<P = unknown, R = unknown> {
  description: string;
  parameters: StandardSchemaV1<unknown, P>;
  execute: (args: P, ctx: ToolContext) => R | Promise<R>;
  /**
   * A person must approve each call first (or the calls for which this returns true): the
   * loop stops at the call (`nextStep` says `approval`) until `decideToolCall` records a
   * decision; a rejected call is reported to the model, not run. See the agent node's journal.
   */
  needsApproval?: boolean | ((args: P) => boolean);
}

/** A person's decision on a tool call that needs approval. */
export interface ToolDecision {
  approved: boolean;
  by?: string;
  /** Told to the model when the call is rejected. */
  reason?: string;
}

/** The tools of an agent, by the name the model calls them by. */
export type AgentTools = Record<string, AgentTool<any, unknown>>;

export interface AgentLimits {
  /** Model requests in one run of the agent (default 10). */
  modelRequests?: number;
  /** Tool calls in one run of the agent (default 20). */
  toolCalls?: number;
}

/** What the loop needs of an agent: its configuration, no state. */
export interface AgentDefinition {
  readonly name: string;
  readonly model: LanguageModel;
  readonly system: string | undefined;
  readonly tools: AgentTools;
  readonly limits: Required<AgentLimits>;
  /** 'fail' (default): a tool that throws fails the agent; 'report': its error goes to the model. */
  readonly toolErrors: 'fail' | 'report';
  readonly settings: CallSettings | undefined;
  readonly stream: boolean;
}

/** One finished step, for callers who show progress (emitted as `{ type: 'agent.step', … }`). */
export type AgentStepRecord =
  | { kind: 'model'; request: number; text: string; toolCalls: string[]; usage: TokenUsage }
  | { kind: 'tool'; call: number; tool: string; toolCallId: string; ok: boolean };

export interface AgentLoopState {
  messages: ModelMessage[];
  modelRequests: number;
  toolCalls: number;
  /** Tool calls of the last model response not answered yet, in the model's order. */
  pending: ModelToolCall[];
  usage: TokenUsage;
  /** The text of the last model response. */
  text: string;
  steps: AgentStepRecord[];
  /** Decisions on tool calls that needed approval, by tool call id. */
  decisions?: Record<string, ToolDecision>;
}

export type NextStep =
  | { kind: 'model' }
  | { kind: 'tool'; call: ModelToolCall }
  /** The next call needs a person's approval and has no decision yet: the loop stops here. */
  | { kind: 'approval'; call: ModelToolCall }
  | { kind: 'done' };

/** The call the loop is stopped at, waiting for a person's decision, if any. */
export function awaitingApproval(agent: AgentDefinition, state: AgentLoopState): ModelToolCall | undefined {
  const call = state.pending[0];
  if (!call || state.decisions?.[call.toolCallId]) return undefined;
  const definition = Object.hasOwn(agent.tools, call.toolName) ? agent.tools[call.toolName] : undefined;
  const needs = definition?.needsApproval;
  if (!needs) return undefined;
  if (typeof needs === 'function') {
    try {
      if (!needs(call.input as never)) return undefined;
    } catch {
      // Arguments it cannot judge go to the tool step, which reports them as invalid.
      return undefined;
    }
  }
  return call;
}

/** Records a person's decision on the call the loop waits at; returns the new state. */
export function decideToolCall(state: AgentLoopState, toolCallId: string, decision: ToolDecision): AgentLoopState {
  if (!state.pending.some((call) => call.toolCallId === toolCallId)) {
    throw new Error(`decideToolCall: no pending tool call '${toolCallId}'; pending: ${state.pending.map((c) => c.toolCallId).join(', ') || '(none)'}`);
  }
  return { ...state, decisions: { ...state.decisions, [toolCallId]: decision } };
}

/** How a step reaches the outside: the node's signal and emit. */
export interface StepIO {
  signal: AbortSignal;
  emit: (data: unknown) => boolean;
}

export function initialAgentState(prompt: string | ModelMessage[]): AgentLoopState {
  const messages: ModelMessage[] = typeof prompt === 'string' ? [{ role: 'user', content: prompt }] : [...prompt];
  return {
    messages,
    modelRequests: 0,
    toolCalls: 0,
    pending: [],
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    text: '',
    steps: [],
  };
}

/** What comes next; throws AgentLimitError when that step would pass a limit. */
export function nextStep(agent: AgentDefinition, state: AgentLoopState): NextStep {
  const call = state.pending[0];
  if (call) {
    if (state.toolCalls >= agent.limits.toolCalls) throw new AgentLimitError(agent.name, 'toolCalls', agent.limits.toolCalls);
    if (awaitingApproval(agent, state)) return { kind: 'approval', call };
    return { kind: 'tool', call };
  }
  // Done once the model answered without calling tools; after tool results, it is asked again.
  if (state.modelRequests > 0 && state.messages.at(-1)?.role === 'assistant') return { kind: 'done' };
  if (state.modelRequests >= agent.limits.modelRequests) throw new AgentLimitError(agent.name, 'modelRequests', agent.limits.modelRequests);
  return { kind: 'model' };
}

const add = (a: number | undefined, b: number | undefined) => (a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0));

/** One model request with the conversation so far; its tool calls become `pending`. */
export async function modelStep(agent: AgentDefinition, state: AgentLoopState, io: StepIO): Promise<AgentLoopState> {
  const result = await callModel({
    model: agent.model,
    prompt: { ...(agent.system ? { system: agent.system } : {}), messages: state.messages },
    tools: declaredTools(agent),
    settings: agent.settings,
    stream: agent.stream,
    signal: io.signal,
    emit: io.emit,
  });
  const request = state.modelRequests + 1;
  const step: AgentStepRecord = {
    kind: 'model',
    request,
    text: result.text,
    toolCalls: result.toolCalls.map((c) => c.toolName),
    usage: result.usage,
  };
  io.emit({ type: 'agent.step', agent: agent.name, ...step });
  // Calls the SDK could not parse (an unknown tool, broken JSON) it already answered itself in
  // the response messages, with an error result: those are not pending.
  const answered = new Set(
    result.responseMessages.flatMap((m) => (m.role === 'tool' ? m.content.flatMap((p) => (p.type === 'tool-result' ? [p.toolCallId] : [])) : [])),
  );
  return {
    messages: [...state.messages, ...result.responseMessages],
    modelRequests: request,
    toolCalls: state.toolCalls,
    pending: result.toolCalls.filter((call) => !answered.has(call.toolCallId)),
    usage: {
      inputTokens: add(state.usage.inputTokens, result.usage.inputTokens),
      outputTokens: add(state.usage.outputTokens, result.usage.outputTokens),
      totalTokens: add(state.usage.totalTokens, result.usage.totalTokens),
    },
    text: result.text,
    steps: [...state.steps, step],
  };
}

/**
 * Answers one pending tool call: unknown tools and arguments its schema rejects are reported to
 * the model (it can correct itself); a tool that throws fails the agent with AgentToolError,
 * unless `toolErrors` is 'report'. Cancellation is never reported: it fails the step.
 */
export async function toolStep(agent: AgentDefinition, state: AgentLoopState, call: ModelToolCall, io: StepIO): Promise<AgentLoopState> {
  io.signal.throwIfAborted();
  const outcome = await runTool(agent, state, call, io);
  const number = state.toolCalls + 1;
  const step: AgentStepRecord = { kind: 'tool', call: number, tool: call.toolName, toolCallId: call.toolCallId, ok: outcome.ok };
  io.emit({ type: 'agent.step', agent: agent.name, ...step });
  const message: ModelMessage = {
    role: 'tool',
    content: [
      {
        type: 'tool-result',
        toolCallId: call.toolCallId,
        toolName: call.toolName,
        output: outcome.ok ? { type: 'json', value: toJSONValue(outcome.value) } : { type: 'error-text', value: outcome.error },
      },
    ],
  };
  return {
    ...state,
    messages: [...state.messages, message],
    toolCalls: number,
    pending: state.pending.filter((c) => c.toolCallId !== call.toolCallId),
    steps: [...state.steps, step],
  };
}

async function runTool(agent: AgentDefinition, state: AgentLoopState, call: ModelToolCall, io: StepIO): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const definition = Object.hasOwn(agent.tools, call.toolName) ? agent.tools[call.toolName] : undefined;
  if (!definition) {
    return { ok: false, error: `There is no tool '${call.toolName}'. The tools are: ${Object.keys(agent.tools).join(', ') || '(none)'}.` };
  }
  if (call.invalid) return { ok: false, error: `The call to '${call.toolName}' could not be read: ${call.invalid}` };
  const decision = state.decisions?.[call.toolCallId];
  if (decision && !decision.approved) {
    return { ok: false, error: `A person rejected this call${decision.by ? ` (${decision.by})` : ''}${decision.reason ? `: ${decision.reason}` : '.'}` };
  }
  const checked = await definition.parameters['~standard'].validate(call.input);
  if (checked.issues) {
    return { ok: false, error: `Invalid arguments for '${call.toolName}': ${formatIssues(checked.issues).join('; ')}` };
  }
  try {
    const value = await definition.execute(checked.value, { signal: io.signal, emit: io.emit, toolCallId: call.toolCallId, agent: agent.name });
    return { ok: true, value };
  } catch (error) {
    if (io.signal.aborted) throw error;
    if (agent.toolErrors === 'report') return { ok: false, error: error instanceof Error ? error.message : String(error) };
    throw new AgentToolError(agent.name, call.toolName, call.toolCallId, error);
  }
}

/**
 * Runs the loop from `state` until it is done — or stopped at a tool call that needs a
 * person's approval (see `awaitingApproval`). `afterStep` sees the state after each step
 * (before the next starts): the agent node's journal commits it there.
 */
export async function runAgentLoop(
  agent: AgentDefinition,
  state: AgentLoopState,
  io: StepIO,
  afterStep?: (state: AgentLoopState) => unknown,
): Promise<AgentLoopState> {
  for (;;) {
    const next = nextStep(agent, state);
    if (next.kind === 'done' || next.kind === 'approval') return state;
    state = next.kind === 'model' ? await modelStep(agent, state, io) : await toolStep(agent, state, next.call, io);
    if (afterStep) await afterStep(state);
  }
}

// The tools as the model sees them: descriptions and JSON Schemas, no `execute` (the loop runs
// them itself, one step each). Made once per agent definition.
const declared = new WeakMap<AgentDefinition, ToolSet>();

function declaredTools(agent: AgentDefinition): ToolSet | undefined {
  if (Object.keys(agent.tools).length === 0) return undefined;
  let tools = declared.get(agent);
  if (!tools) {
    tools = {};
    for (const [name, definition] of Object.entries(agent.tools)) {
      tools[name] = tool({ description: definition.description, inputSchema: jsonSchema(() => jsonSchemaOf(definition.parameters)) });
    }
    declared.set(agent, tools);
  }
  return tools;
}

/** The JSON Schema the provider is given; a schema without a converter accepts any object (checked here). */
async function jsonSchemaOf(parameters: StandardSchemaV1): Promise<Awaited<ReturnType<typeof asSchema>['jsonSchema']>> {
  try {
    return await asSchema(parameters as Parameters<typeof asSchema>[0]).jsonSchema;
  } catch {
    return { type: 'object', additionalProperties: true };
  }
}

type JSONValue = null | string | number | boolean | JSONValue[] | { [key: string]: JSONValue };

function toJSONValue(value: unknown): JSONValue {
  if (value === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(value)) as JSONValue;
  } catch {
    return String(value);
  }
}
