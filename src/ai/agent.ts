/**
 * Agent: a model that calls typed tools in a loop until it answers, within `limits` on model
 * requests and tool calls (AgentLimitError past them), cancelled through its signal (into the
 * model request and the running tool). `agent.run(prompt)` runs it alone; `agent.node(name,
 * { prompt, write })` makes a node that runs it in a workflow, streaming its tokens and steps
 * through ctx.emit; `workflowTool` makes a tool that runs a Workflow.
 *
 * Today the node runs the whole loop in one node attempt (src/ai/agent-loop.ts): hooks and
 * spans show the agent's node, with every model request and tool call as an emitted
 * `{ type: 'agent.step' }` value, not yet as child actors of their own. A run resumed from a
 * checkpoint runs the agent's node again from its first step, unless the node has a `journal`
 * (its loop state kept in the store after each step), then from its last completed step. A
 * tool with `needsApproval` stops the loop at its call (the journal records `awaiting`); a
 * `waitFor` node in the graph commits `decide(journal, …)` and leads back to the agent node.
 * The loop is split into steps over JSON state so that an agent node kind in the compiler can run
 * each step as an actor and keep the state in the snapshot itself (README, "LLM nodes and agents").
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
import { Node, type ExecutionResult, type NodeContext, type NodeOptions, type StoreHandleBase, type Workflow } from '../index.js';
import {
  awaitingApproval,
  decideToolCall,
  initialAgentState,
  runAgentLoop,
  type ToolDecision,
  type AgentDefinition,
  type AgentLimits,
  type AgentLoopState,
  type AgentStepRecord,
  type AgentTool,
  type AgentTools,
  type ToolContext,
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

/** The loop state of one execution of an agent node, as its journal keeps it (JSON). */
export interface AgentJournal {
  /**
   * The node execution (ctx.iteration) it belongs to: a later execution starts afresh, unless
   * the loop stopped at a tool call awaiting a person's approval (`awaiting`).
   */
  iteration: number;
  loop: AgentLoopState;
  /** How many journal writes this execution has made, this one included. */
  writes: number;
  /** The tool call the loop stopped at, waiting for `decide(journal, …)`. */
  awaiting?: { toolCallId: string; tool: string; input: unknown };
}

/** The tool call an agent node's journal waits at for approval, if any (for an edge condition). */
export function awaitingApprovalOf(journal: unknown): AgentJournal['awaiting'] {
  return (journal as AgentJournal | null | undefined)?.awaiting;
}

/**
 * The journal with a person's decision on the call it waits at: commit it (e.g. from a
 * `waitFor` node's apply) and lead back to the agent node, which goes on from there.
 */
export function decide(journal: unknown, decision: ToolDecision): AgentJournal {
  const kept = journal as AgentJournal | null | undefined;
  if (!kept?.awaiting) throw new Error('decide(journal, decision): the journal waits for no approval; check awaitingApprovalOf(journal) first');
  return { ...kept, loop: decideToolCall(kept.loop, kept.awaiting.toolCallId, decision) };
}

export interface AgentNodeOptions<H> extends Omit<NodeOptions, 'name'> {
  /** The store definition; only its type is used. */
  store?: StoreWitness<H>;
  /** The task, from the committed state when the node starts. */
  prompt: (state: StateOfHandle<H>) => string | ModelMessage[];
  write: (store: H, result: AgentResult) => unknown;
  /**
   * Opt-in: keep the loop state in the store after every step, so a durable run resumed after
   * a crash (or a retried attempt) goes on from the last completed model request or tool call
   * instead of repeating them — the store is checkpointed, emitted values are not. `read`
   * returns the journal from the state (or null), `write` commits it with exactly one store
   * update (the node counts its updates to line up with the store's exactly-once positions).
   */
  journal?: {
    /** The journal as it was written (the store's frozen copy of it), or null / undefined. */
    read: (state: StateOfHandle<H>) => unknown;
    write: (store: H, journal: AgentJournal) => unknown;
  };
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
    const waiting = awaitingApproval(this, state);
    if (waiting) {
      throw new Error(
        `Agent '${this.name}': tool '${waiting.toolName}' needs a person's approval, which agent.run() cannot wait for: run the agent as a node with a journal (README, "LLM nodes and agents")`,
      );
    }
    return resultOf(state);
  }

  /** A node that runs this agent on a prompt built from the state, then commits with `write`. */
  node<H extends { getState(): unknown }>(name: string, options: AgentNodeOptions<H>): AgentNode<H> {
    return new AgentNode(this, name, options);
  }
}

/** A node that runs an agent's whole loop in one attempt (see the module comment). */
export class AgentNode<H extends { getState(): unknown }> extends Node<H> {
  constructor(
    readonly agent: Agent<AgentTools>,
    name: string,
    private readonly options: AgentNodeOptions<H>,
  ) {
    super(nodeOptions(name, options));
    if (typeof options.prompt !== 'function' || typeof options.write !== 'function') {
      throw new TypeError(`Agent '${agent.name}': node('${name}') needs { prompt: (state) => …, write: (store, result) => … }`);
    }
    const gated = Object.entries(agent.tools).find(([, t]) => t.needsApproval);
    if (gated && !options.journal) {
      throw new TypeError(
        `Agent '${agent.name}': node('${name}'): tool '${gated[0]}' needs approval, so the node needs a journal (where the loop waits) — see README "LLM nodes and agents"`,
      );
    }
  }

  async service(store: H, ctx: NodeContext): Promise<void> {
    const prompt = this.options.prompt(store.getState() as StateOfHandle<H>);
    ctx.setAttributes({
      'openinference.span.kind': 'AGENT',
      'llm.model_name': modelName(this.agent.model),
      'input.value': typeof prompt === 'string' ? prompt : textOf({ messages: prompt }),
    });
    const { journal } = this.options;
    const kept = journal?.read(store.getState() as StateOfHandle<H>) as AgentJournal | null | undefined;
    // A journal of this execution means an earlier attempt (or process) got this far.
    // The same execution after an interruption or a failed attempt, or a later one resuming a
    // loop that stopped for a person's approval.
    const resumed = kept && (kept.iteration === ctx.iteration || kept.awaiting) ? kept : undefined;
    const start = resumed ? resumed.loop : initialAgentState(prompt);
    let writes = 0;
    if (resumed && journal && resumed.iteration === ctx.iteration) {
      // The store applies a node execution's updates by position, once (actors/store.ts): the
      // earlier attempt made `writes` journal writes, so this attempt sends as many first,
      // which the store acknowledges without applying; its later writes then count on.
      for (; writes < resumed.writes; writes++) await journal.write(store, resumed);
    }
    const save = journal && ((loop: AgentLoopState, awaiting?: AgentJournal['awaiting']) =>
      journal.write(store, { iteration: ctx.iteration, loop, writes: ++writes, ...(awaiting ? { awaiting } : {}) }));
    const state = await runAgentLoop(this.agent, start, { signal: ctx.signal, emit: ctx.emit }, save);
    const waiting = awaitingApproval(this.agent, state);
    if (waiting) {
      // Stopped for a person: the journal says where; the graph's waitFor node decides.
      const awaiting = { toolCallId: waiting.toolCallId, tool: waiting.toolName, input: waiting.input };
      ctx.emit({ type: 'agent.approval', agent: this.agent.name, ...awaiting });
      await save!(state, awaiting);
      return;
    }
    const result = resultOf(state);
    ctx.setAttributes({
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
