/**
 * Agent: a model that calls typed tools in a loop until it answers, within `limits` on model
 * requests and tool calls (AgentLimitError past them), cancelled through its signal (into the
 * model request and the running tools). `agent.run(prompt)` runs it alone, in one promise;
 * `agent.node(name, { prompt, write })` makes an agent node — the `agent` kind
 * (src/compile/kinds/agent.ts) — whose every model request and tool call is a child actor of the
 * run (`<node>/model#1`, `<node>/tool#1` …), seen one by one by the inspector, hooks and spans,
 * with the loop's state in the run's snapshot between them: a run resumed from a checkpoint
 * repeats no finished request or call. A tool with `needsApproval` makes the node wait, with
 * nothing in flight (persistable), for `{ type: 'agent.approve' | 'agent.reject', … }` sent to
 * the run. `workflowTool` makes a tool that runs a Workflow.
 *
 * ```ts
 * const writer = new Agent({
 *   name: 'Writer',
 *   model,
 *   system: 'Write a short report. Use the tools.',
 *   tools: { lookup: agentTool({ description: 'Finds a fact', parameters: z.object({ topic: z.string() }), execute: ({ topic }) => facts[topic] }) },
 *   limits: { modelRequests: 6, toolCalls: 10 },
 * });
 * const report = writer.node('WriteReport', { store: ReportStore, prompt: (s) => s.notes, write: (store, r) => store.setReport(r.text) });
 * ```
 */
import type { CallSettings, LanguageModel, ModelMessage } from 'ai';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import {
  AgentExecutable,
  type AgentPlan,
  type AgentStepContext,
  type AgentToolCallRef,
  type ExecutionResult,
  type NodeContext,
  type NodeOptions,
  type StoreHandleBase,
  type Workflow,
} from '../index.js';
import {
  decideToolCall,
  initialAgentState,
  modelStep,
  planStep,
  runAgentLoop,
  toolOutcome,
  withToolResults,
  type AgentDefinition,
  type AgentLimits,
  type AgentLoopState,
  type AgentStepRecord,
  type AgentTool,
  type AgentTools,
  type ToolContext,
  type ToolOutcome,
} from './agent-loop.js';
import { counts, nodeOptions, textOf, type StateOfHandle, type StoreWitness } from './llm.js';
import { modelName, type TokenUsage } from './model-call.js';

export interface AgentOptions<T extends AgentTools> {
  name: string;
  model: LanguageModel;
  system?: string;
  tools?: T;
  limits?: AgentLimits;
  /** 'fail' (default): a tool that throws fails the agent; 'report': the model gets the error. */
  toolErrors?: 'fail' | 'report';
  settings?: CallSettings;
  /** Stream the model's tokens (default true). */
  stream?: boolean;
}

export interface AgentResult {
  /** The final answer. */
  text: string;
  /** The whole conversation, the answer included. */
  messages: ModelMessage[];
  modelRequests: number;
  toolCalls: number;
  usage: TokenUsage;
  steps: AgentStepRecord[];
}

export interface AgentRunOptions {
  signal?: AbortSignal;
  /** Receives tokens (`llm.token`) and finished steps (`agent.step`) as they happen. */
  emit?: (data: unknown) => void;
}

/** The event types the run of an agent node accepts while it waits for a person's decision. */
export const APPROVE_EVENT = 'agent.approve';
export const REJECT_EVENT = 'agent.reject';

/**
 * A person's decision on the tool call an agent node waits at, sent to the run's actor.
 * `toolCallId` and `node` (the agent node's name) are optional: given, an event about another
 * call or node is ignored (the node keeps waiting).
 */
export interface AgentDecisionEvent {
  type: typeof APPROVE_EVENT | typeof REJECT_EVENT;
  toolCallId?: string;
  node?: string;
  by?: string;
  /** Told to the model when the call is rejected. */
  reason?: string;
}

export interface AgentNodeOptions<H> extends Omit<NodeOptions, 'name'> {
  /** The store definition; only its type is used. */
  store?: StoreWitness<H>;
  /** The task, from the committed state when the node starts. */
  prompt: (state: StateOfHandle<H>) => string | ModelMessage[];
  write: (store: H, result: AgentResult) => unknown;
}

const DEFAULT_LIMITS: Required<AgentLimits> = { modelRequests: 10, toolCalls: 20 };

export class Agent<T extends AgentTools = AgentTools> implements AgentDefinition {
  readonly name: string;
  readonly model: LanguageModel;
  readonly system: string | undefined;
  readonly tools: T;
  readonly limits: Required<AgentLimits>;
  readonly toolErrors: 'fail' | 'report';
  readonly settings: CallSettings | undefined;
  readonly stream: boolean;

  constructor(options: AgentOptions<T>) {
    const { name, model } = options ?? ({} as AgentOptions<T>);
    if (typeof name !== 'string' || !name) throw new TypeError('Agent: give it a name, e.g. { name: "Writer" }');
    if (!model) throw new TypeError(`Agent '${name}': model is missing; pass an AI SDK language model`);
    this.name = name;
    this.model = model;
    this.system = options.system;
    this.tools = (options.tools ?? {}) as T;
    for (const [toolName, definition] of Object.entries(this.tools)) {
      if (typeof definition?.execute !== 'function' || typeof definition.parameters?.['~standard']?.validate !== 'function') {
        throw new TypeError(`Agent '${name}': tool '${toolName}' needs { description, parameters: a Standard Schema, execute(args, ctx) }`);
      }
    }
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    for (const key of ['modelRequests', 'toolCalls'] as const) {
      const value = this.limits[key];
      if (!Number.isInteger(value) || value < (key === 'modelRequests' ? 1 : 0)) {
        throw new TypeError(`Agent '${name}': limits.${key} must be a whole number${key === 'modelRequests' ? ' ≥ 1' : ' ≥ 0'}, got ${String(value)}`);
      }
    }
    this.toolErrors = options.toolErrors ?? 'fail';
    this.settings = options.settings;
    this.stream = options.stream ?? true;
  }

  /** Runs the agent on `prompt` until it answers; rejects past a limit, on a tool failure or when `signal` aborts. */
  async run(prompt: string | ModelMessage[], options: AgentRunOptions = {}): Promise<AgentResult> {
    const signal = options.signal ?? new AbortController().signal;
    const emit = options.emit;
    const state = await runAgentLoop(this, initialAgentState(prompt), {
      signal,
      emit: emit
        ? (data) => {
            emit(data);
            return true;
          }
        : () => false,
    });
    const plan = planStep(this, state);
    if (plan.kind === 'approval') {
      throw new Error(
        `Agent '${this.name}': tool '${plan.call.name}' needs a person's approval, which agent.run() cannot wait for: run the agent as a node (agent.node(…)), which waits for an 'agent.approve' / 'agent.reject' event (README, "LLM nodes and agents")`,
      );
    }
    return resultOf(state);
  }

  /** An agent node: runs this agent on a prompt built from the state, then commits with `write`. */
  node<H extends { getState(): unknown }>(name: string, options: AgentNodeOptions<H>): AgentNode<H> {
    return new AgentNode(this, name, options);
  }
}

/** The final loop state the compiler gives the node's service (AGENT_DONE_EVENT in the core). */
interface DoneEvent {
  type: string;
  loop: AgentLoopState;
}

/** An agent node (see the module comment): the `agent` kind's steps over the AI SDK. */
export class AgentNode<H extends { getState(): unknown }> extends AgentExecutable<H> {
  readonly approvalEvents: readonly string[];

  constructor(
    readonly agent: Agent<AgentTools>,
    name: string,
    private readonly options: AgentNodeOptions<H>,
  ) {
    super(nodeOptions(name, options));
    if (typeof options.prompt !== 'function' || typeof options.write !== 'function') {
      throw new TypeError(`Agent '${agent.name}': node('${name}') needs { prompt: (state) => …, write: (store, result) => … }`);
    }
    this.approvalEvents = Object.values(agent.tools).some((t) => t.needsApproval) ? [APPROVE_EVENT, REJECT_EVENT] : [];
  }

  begin(state: unknown): AgentLoopState {
    return initialAgentState(this.options.prompt(state as StateOfHandle<H>));
  }

  plan(loop: unknown): AgentPlan {
    return planStep(this.agent, loop as AgentLoopState);
  }

  async modelRequest(loop: unknown, ctx: AgentStepContext): Promise<AgentLoopState> {
    const state = loop as AgentLoopState;
    const { model } = this.agent;
    ctx.setAttributes({ 'openinference.span.kind': 'LLM', 'llm.model_name': modelName(model), 'input.value': textOf({ messages: state.messages }) });
    const next = await modelStep(this.agent, state, ctx);
    const step = next.steps.at(-1) as Extract<AgentStepRecord, { kind: 'model' }>;
    ctx.setAttributes({ ...counts(step.usage), 'output.value': step.text || JSON.stringify(next.pending.map((c) => ({ tool: c.toolName, input: c.input }))) });
    return next;
  }

  async toolCall(loop: unknown, call: AgentToolCallRef, ctx: AgentStepContext): Promise<ToolOutcome> {
    const state = loop as AgentLoopState;
    const input = state.pending.find((c) => c.toolCallId === call.id)?.input;
    ctx.setAttributes({ 'openinference.span.kind': 'TOOL', 'tool.name': call.name, 'input.value': JSON.stringify(input) ?? 'undefined' });
    const outcome = await toolOutcome(this.agent, state, call.id, ctx);
    const part = outcome.message.content[0];
    if (typeof part === 'object' && part.type === 'tool-result' && 'value' in part.output) ctx.setAttributes({ 'output.value': JSON.stringify(part.output.value) ?? 'null' });
    return outcome;
  }

  answered(loop: unknown, _calls: readonly AgentToolCallRef[], results: readonly unknown[]): AgentLoopState {
    return withToolResults(loop as AgentLoopState, results as ToolOutcome[]);
  }

  decided(loop: unknown, call: AgentToolCallRef, event: { type: string; [key: string]: unknown }): AgentLoopState | undefined {
    const decision = event as unknown as AgentDecisionEvent;
    if (decision.toolCallId !== undefined && decision.toolCallId !== call.id) return undefined;
    if (decision.node !== undefined && decision.node !== this.name) return undefined;
    return decideToolCall(loop as AgentLoopState, call.id, {
      approved: decision.type === APPROVE_EVENT,
      ...(typeof decision.by === 'string' ? { by: decision.by } : {}),
      ...(typeof decision.reason === 'string' ? { reason: decision.reason } : {}),
    });
  }

  /** The loop is done: report its totals and commit its result. */
  async service(store: H, ctx: NodeContext): Promise<void> {
    const result = resultOf((ctx.event as unknown as DoneEvent).loop);
    const first = result.messages.find((m) => m.role === 'user');
    ctx.setAttributes({
      'openinference.span.kind': 'AGENT',
      'llm.model_name': modelName(this.agent.model),
      ...(first ? { 'input.value': textOf({ messages: [first] }) } : {}),
      ...counts(result.usage),
      'output.value': result.text,
      'junjo.agent.model_requests': result.modelRequests,
      'junjo.agent.tool_calls': result.toolCalls,
    });
    await this.options.write(store, result);
  }
}

function resultOf(state: AgentLoopState): AgentResult {
  return {
    text: state.text,
    messages: state.messages,
    modelRequests: state.modelRequests,
    toolCalls: state.toolCalls,
    usage: state.usage,
    steps: state.steps,
  };
}

/** A typed tool: `P` is inferred from `parameters`, so `execute`'s arguments need no annotation. */
export function agentTool<P, R>(definition: AgentTool<P, R>): AgentTool<P, R> {
  return definition;
}

export interface WorkflowToolOptions<P, I, H extends StoreHandleBase<unknown>> {
  description: string;
  parameters: StandardSchemaV1<unknown, P>;
  workflow: Workflow<I, H>;
  /** The workflow's input from the tool's arguments. */
  input: (args: P) => I;
  /** What the model gets back (default: the final state). */
  result?: (result: ExecutionResult<StateOfHandle<H>>) => unknown;
}

/**
 * A tool that runs a Workflow to its end: cancelled with the agent (the run's signal), its
 * hooks those of the workflow. A failed run fails the tool (see the agent's `toolErrors`).
 */
export function workflowTool<P, I, H extends StoreHandleBase<unknown>>(options: WorkflowToolOptions<P, I, H>): AgentTool<P, unknown> {
  const { workflow } = options;
  // `execute`'s rest-tuple signature depends on whether I allows undefined; here I is generic.
  const execute = workflow.execute.bind(workflow) as (input: I, options: { signal: AbortSignal }) => Promise<ExecutionResult<StateOfHandle<H>>>;
  return {
    description: options.description,
    parameters: options.parameters,
    execute: async (args: P, ctx: ToolContext) => {
      const result = await execute(options.input(args), { signal: ctx.signal });
      return options.result ? options.result(result) : result.state;
    },
  };
}
