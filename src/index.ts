/** junjo-xstate: Junjo's graph workflows compiled to XState v5 statecharts. */
export { Node, node, type NodeContext, type NodeResult, type NodeOptions, type RetryPolicy } from './graph/node.js';
export { Condition, condition } from './graph/condition.js';
export { Edge, type EdgeOptions } from './graph/edge.js';
export { Executable, type ExecutableKind } from './graph/executable.js';
export { Graph, isWarning, type GraphOptions, type GraphEntry } from './graph/graph.js';
export { RunConcurrent, type RunConcurrentOptions } from './graph/run-concurrent.js';
export { RunMap, type RunMapOptions } from './graph/run-map.js';
export { Subflow, type SubflowOptions } from './graph/subflow.js';
export { WaitForEvent, waitFor, type ResumeEvent } from './graph/wait-for-event.js';
export { AgentExecutable, type AgentPlan, type AgentStepContext, type AgentToolCallRef } from './graph/agent.js';
export { graphToJSON, type GraphJSON, type GraphNodeJSON, type GraphEdgeJSON } from './graph/to-json.js';
export { toMermaid, toDot, type RenderOptions } from './graph/render.js';
export { sleep } from './sleep.js';
// Issue 16: run one node in a generated one-node workflow (Junjo's evaluate_node).
export { evaluateNode, type EvaluateNodeOptions, type EvaluateNodeResult, type EvaluatedCommit } from './evaluate-node.js';
export {
  defineStore,
  type StoreDefinition,
  type StoreOptions,
  type StoreAction,
  type StoreActions,
  type StoreOf,
  type StateOf,
} from './store/define-store.js';
export type { StoreHandle, StoreHandleBase } from './store/handle.js';
export type { Commit, StoreSnapshot, StoreEvent } from '../actors/store.js';
export {
  Workflow,
  type WorkflowOptions,
  type ExecuteOptions,
  type ResumeOptions,
  type ExecutionResult,
  type WorkflowMachine,
} from './workflow.js';
export { WorkflowStream, type WorkflowStreamItem, type StreamResult } from './stream.js';
export type { RunContext } from './compile/run-scope.js';
export type {
  WorkflowHooks,
  WorkflowEvent,
  LifecycleEvent,
  StateChangedEvent,
  NodeRetryingEvent,
  LifecycleStatus,
  ExecutableLifecycleKind,
  ExecutionIdentity,
  Redact,
  NodeEmittedEvent,
  NodeAttributes,
} from './hooks.js';
// ctx.emit reaches the run actor as XState emitted events of this type.
export { EMIT_EVENT, type NodeEmitEvent } from './compile/node-emit.js';
export type { StateMeta } from './compile/machine-types.js';
export type { RunOptions } from './compile/run-options.js';
export {
  GraphValidationError,
  WorkflowExecutionError,
  WorkflowCancelledError,
  StoreUpdateError,
  MaxIterationsError,
  NoMatchingEdgeError,
  NodeTimeoutError,
  CheckpointError,
  type CheckpointProblem,
  LeaseHeldError,
  LeaseLostError,
  ConditionError,
  JunjoError,
  errorToJSON,
  messageOf,
  RunMapError,
  type FanOutFailure,
} from './errors.js';
export {
  MemoryCheckpointStore,
  RunParked,
  matchesFilter,
  historyLimitOf,
  DEFAULT_HISTORY_LIMIT,
  type CheckpointStore,
  type CheckpointCommit,
  type CheckpointOrigin,
  type CheckpointRecord,
  type CheckpointSummary,
  type CheckpointFilter,
  type RunStatus,
} from './durable/checkpoint-store.js';
export { decodeCheckpoint, readCheckpoint, type Checkpoint, type PersistedRun } from './durable/checkpoint.js';
export { type RunCommit, type NodeStatusAt, type HistoryOptions, type ForkOptions } from './durable/fork.js';
export {
  isLeasing,
  LeaseTable,
  DEFAULT_LEASE_MS,
  type Lease,
  type ClaimRequest,
  type LeasingStore,
  type LeasingCheckpointStore,
  type LeaseOptions,
} from './durable/lease.js';
