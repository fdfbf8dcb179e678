/**
 * `junjo-xstate/ai`: model and agent nodes on the AI SDK (`ai`, a peer dependency, 6.x or
 * 7.x). Node- and browser-safe: it imports only `ai` and the core, by the package's own name.
 *
 * - `llm(name, { model, prompt, write, schema? })`: one model request per attempt, tokens
 *   streamed out through ctx.emit, OpenInference attributes on its events and span;
 * - `Agent`: a tool-calling loop with typed tools, limits and cancellation, usable as a node
 *   (`agent.node(…)`), with a tool that runs a Workflow (`workflowTool`).
 *
 * `evaluateNode` (run one node in a generated one-node workflow) is in the core.
 */
export { llm, LlmNode, type LlmOptions, type LlmResult, type StateOfHandle, type StoreWitness } from './llm.js';
export type { LlmToken, ModelPrompt, TokenUsage } from './model-call.js';
export { LlmOutputError, AgentLimitError, AgentToolError } from './errors.js';
export {
  Agent,
  AgentNode,
  agentTool,
  workflowTool,
  APPROVE_EVENT,
  REJECT_EVENT,
  type AgentOptions,
  type AgentResult,
  type AgentRunOptions,
  type AgentNodeOptions,
  type AgentDecisionEvent,
  type WorkflowToolOptions,
} from './agent.js';
export {
  initialAgentState,
  planStep,
  modelStep,
  toolOutcome,
  withToolResults,
  runAgentLoop,
  needsDecision,
  decideToolCall,
  type ToolDecision,
  type AgentTool,
  type AgentTools,
  type AgentLimits,
  type AgentDefinition,
  type AgentLoopState,
  type AgentStepRecord,
  type ToolOutcome,
  type StepIO,
  type ToolContext,
} from './agent-loop.js';
