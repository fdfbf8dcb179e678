/**
 * AgentExecutable: the model of an agent node (issue 16) — a node that runs a tool-calling
 * loop whose every model request and tool call the compiler runs as a child actor of its own
 * (src/compile/kinds/agent.ts), with the loop's state kept in the run's context between them.
 *
 * The core knows the loop only as opaque JSON and the steps it asks for (`plan`); what a model
 * request or a tool call does is the subclass's business — junjo-xstate/ai's AgentNode, over
 * the AI SDK — so the core bundle never imports 'ai'.
 */
import type { NodeAttributes } from '../hooks.js';
import type { ExecutableKind } from './executable.js';
import { Node } from './node.js';

declare module './executable.js' {
  interface ExecutableKinds {
    agent: AgentExecutable<any>;
  }
}

/** A tool call the loop asks for, as the compiler names its actor. */
export interface AgentToolCallRef {
  id: string;
  name: string;
}

/** What the loop does next, as the agent says from its loop state. */
export type AgentPlan =
  | { kind: 'model' }
  /** These calls, each its own actor, at once; their results go back in this order. */
  | { kind: 'tools'; calls: readonly AgentToolCallRef[] }
  /** The loop waits, with nothing in flight, for a person's decision on `call`. */
  | { kind: 'approval'; call: AgentToolCallRef & { input: unknown } }
  | { kind: 'done' }
  /** The loop cannot go on (a limit): the node fails with `error`. */
  | { kind: 'failed'; error: Error };

/** What one step (a model request or a tool call) gets besides the loop state. */
export interface AgentStepContext {
  /** Aborts when the step's actor is stopped (the run stopped or failed). */
  readonly signal: AbortSignal;
  /** Sends a value out at once, as ctx.emit of the agent node does (tagged with this step). */
  emit(data: unknown): boolean;
  /** Attributes of this step's hook events and span (e.g. OpenInference `llm.model_name`). */
  setAttributes(attributes: NodeAttributes): void;
  readonly runId: string;
  readonly node: string;
  readonly iteration: number;
  /** Which step this is: `model#2`, `tool#3`. */
  readonly step: string;
}

/**
 * An agent node. Its `service` runs once, when the loop is done, with `ctx.event` =
 * `{ type: 'junjo.agent.done', loop }`: it commits the result to the store.
 */
export abstract class AgentExecutable<S = unknown> extends Node<S> {
  override get kind(): ExecutableKind {
    return 'agent';
  }
  override get noun(): string {
    return 'Agent node';
  }
  /** The event types a person's decision on a tool call arrives as (the run accepts them). */
  abstract readonly approvalEvents: readonly string[];
  /** The loop state to start from, from the committed state when the node starts. */
  abstract begin(state: unknown): unknown;
  /** What comes next from `loop` (pure: the compiler may ask more than once). */
  abstract plan(loop: unknown): AgentPlan;
  /** One model request; resolves with the next loop state (JSON). */
  abstract modelRequest(loop: unknown, ctx: AgentStepContext): Promise<unknown>;
  /** One tool call of the loop's plan; resolves with its result (JSON), for `answered`. */
  abstract toolCall(loop: unknown, call: AgentToolCallRef, ctx: AgentStepContext): Promise<unknown>;
  /** The loop state once `calls` have answered with `results` (in the same order). */
  abstract answered(loop: unknown, calls: readonly AgentToolCallRef[], results: readonly unknown[]): unknown;
  /** The loop state with a person's decision on `call`, or undefined if `event` is not about it. */
  abstract decided(loop: unknown, call: AgentToolCallRef, event: { type: string; [key: string]: unknown }): unknown;
}
