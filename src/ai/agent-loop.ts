/**
 * The agent's tool-calling loop as plain steps over plain data, so that the agent node kind
 * (src/compile/kinds/agent.ts) runs each step as its own child actor and keeps the state in the
 * run's snapshot between steps: `planStep(agent, state)` says what comes next (a model request,
 * a batch of tool calls, a person's approval, the end) and enforces the limits; `modelStep`
 * performs one model request and returns the next state; `toolOutcome` performs one tool call
 * and `withToolResults` adds a batch's outcomes to the state; `runAgentLoop` drives them in one
 * promise, which is how `Agent.run` runs (no workflow, no actors).
 *
 * AgentLoopState is JSON: messages (the AI SDK's ModelMessage, which is JSON), counters and
 * the tool calls still to answer. Nothing live is kept in it.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { asSchema, jsonSchema, tool, type CallSettings, type LanguageModel, type ModelMessage, type ToolSet } from 'ai';
import type { AgentPlan, AgentToolCallRef } from '../index.js';
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
   * loop stops at the call (`planStep` says `approval`) until `decideToolCall` records a
   * decision; a rejected call is reported to the model, not run. An agent node waits for the
   * decision as an event (`agent.approve` / `agent.reject`), persistable while it waits.
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

/** Whether `call` needs a person's decision it does not have yet. */
export function needsDecision(agent: AgentDefinition, state: AgentLoopState, call: ModelToolCall): boolean {
  if (state.decisions?.[call.toolCallId]) return false;
  const definition = Object.hasOwn(agent.tools, call.toolName) ? agent.tools[call.toolName] : undefined;
  const needs = definition?.needsApproval;
  if (!needs) return false;
  if (typeof needs !== 'function') return true;
  try {
    return Boolean(needs(call.input as never));
  } catch {
    // Arguments it cannot judge go to the tool step, which reports them as invalid.
    return false;
  }
}

/**
 * What comes next. Tool calls run as a batch: the pending ones in the model's order, up to the
 * first that needs a decision and within the tool call limit; past a limit the plan fails
 * with AgentLimitError.
 */
export function planStep(agent: AgentDefinition, state: AgentLoopState): AgentPlan {
  if (state.pending.length > 0) {
    const room = agent.limits.toolCalls - state.toolCalls;
    if (room <= 0) return { kind: 'failed', error: new AgentLimitError(agent.name, 'toolCalls', agent.limits.toolCalls) };
    const first = state.pending[0]!;
    if (needsDecision(agent, state, first)) return { kind: 'approval', call: { id: first.toolCallId, name: first.toolName, input: first.input } };
    const calls: AgentToolCallRef[] = [];
    for (const call of state.pending.slice(0, room)) {
      if (needsDecision(agent, state, call)) break;
      calls.push({ id: call.toolCallId, name: call.toolName });
    }
    return { kind: 'tools', calls };
  }
  // Done once the model answered without calling tools; after tool results, it is asked again.
  if (state.modelRequests > 0 && state.messages.at(-1)?.role === 'assistant') return { kind: 'done' };
  if (state.modelRequests >= agent.limits.modelRequests) {
    return { kind: 'failed', error: new AgentLimitError(agent.name, 'modelRequests', agent.limits.modelRequests) };
  }
  return { kind: 'model' };
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

/** A tool call's outcome, as the loop keeps it (JSON): the tool message and the step record. */
export interface ToolOutcome {
  message: ModelMessage;
  step: Extract<AgentStepRecord, { kind: 'tool' }>;
}

/**
 * Answers one pending tool call: unknown tools and arguments its schema rejects are reported to
 * the model (it can correct itself); a tool that throws fails the agent with AgentToolError,
 * unless `toolErrors` is 'report'. Cancellation is never reported: it fails the step.
 */
export async function toolOutcome(agent: AgentDefinition, state: AgentLoopState, toolCallId: string, io: StepIO): Promise<ToolOutcome> {
  io.signal.throwIfAborted();
  const at = state.pending.findIndex((c) => c.toolCallId === toolCallId);
  if (at === -1) throw new Error(`Agent '${agent.name}': no pending tool call '${toolCallId}'`);
  const call = state.pending[at]!;
  const outcome = await runTool(agent, state, call, io);
  // Numbered in the model's order, whichever of a batch finishes first.
  const step: ToolOutcome['step'] = { kind: 'tool', call: state.toolCalls + at + 1, tool: call.toolName, toolCallId: call.toolCallId, ok: outcome.ok };
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
  return { message, step };
}

/** The state once a batch of tool calls has answered (outcomes in the batch's order). */
export function withToolResults(state: AgentLoopState, outcomes: readonly ToolOutcome[]): AgentLoopState {
  const answered = new Set(outcomes.map((o) => o.step.toolCallId));
  return {
    ...state,
    messages: [...state.messages, ...outcomes.map((o) => o.message)],
    toolCalls: state.toolCalls + outcomes.length,
    pending: state.pending.filter((c) => !answered.has(c.toolCallId)),
    steps: [...state.steps, ...outcomes.map((o) => o.step)],
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
 * Runs the loop from `state` until it is done, in one promise (a batch's calls at once). Stops
 * at a tool call that needs a person's approval, returning the state there (see `planStep`).
 */
export async function runAgentLoop(agent: AgentDefinition, state: AgentLoopState, io: StepIO): Promise<AgentLoopState> {
  for (;;) {
    const plan = planStep(agent, state);
    if (plan.kind === 'failed') throw plan.error;
    if (plan.kind === 'done' || plan.kind === 'approval') return state;
    if (plan.kind === 'model') state = await modelStep(agent, state, io);
    else {
      const current = state;
      state = withToolResults(current, await Promise.all(plan.calls.map((call) => toolOutcome(agent, current, call.id, io))));
    }
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
