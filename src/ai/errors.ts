/**
 * The errors of `junjo-xstate/ai`: each names the node, agent or tool involved and says what
 * to change. They extend the core's JunjoError (imported by the package's own name in the
 * build), so `errorToJSON` and checkpoints describe them like the core's own errors.
 */
import { JunjoError } from '../index.js';

/** Formats Standard Schema issues as `path: message`. */
export function formatIssues(issues: readonly { message: string; path?: readonly unknown[] | undefined }[]): string[] {
  return issues.map((issue) => {
    const path = (issue.path ?? [])
      .map((p) => (typeof p === 'object' && p !== null && 'key' in p ? String((p as { key: unknown }).key) : String(p)))
      .join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}

const excerpt = (text: string | undefined) =>
  text === undefined ? '(no text)' : JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);

/** A model's structured answer did not match the node's schema. */
export class LlmOutputError extends JunjoError {
  override readonly name = 'LlmOutputError';
  constructor(
    readonly node: string,
    readonly issues: string[],
    readonly text: string | undefined,
    cause?: unknown,
  ) {
    super(
      `llm '${node}': the model's answer does not match the node's schema (${issues.join('; ') || 'not JSON'}). ` +
        `Ask for exactly this shape in the prompt, or loosen the schema. The answer was ${excerpt(text)}.`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/** An agent needed more model requests or tool calls than its `limits` allow. */
export class AgentLimitError extends JunjoError {
  override readonly name = 'AgentLimitError';
  constructor(
    readonly agent: string,
    readonly limit: 'modelRequests' | 'toolCalls',
    readonly max: number,
  ) {
    super(
      `Agent '${agent}': it needed more than ${max} ${limit === 'modelRequests' ? 'model requests' : 'tool calls'} (limits.${limit} = ${max}). ` +
        `Raise limits.${limit}, or give the model clearer instructions or better tools so it finishes sooner.`,
    );
  }
}

/** A tool of an agent threw (and the agent's `toolErrors` is 'fail'). */
export class AgentToolError extends JunjoError {
  override readonly name = 'AgentToolError';
  constructor(
    readonly agent: string,
    readonly tool: string,
    readonly toolCallId: string,
    cause: unknown,
  ) {
    super(
      `Agent '${agent}': tool '${tool}' failed (${cause instanceof Error ? cause.message : String(cause)}). ` +
        `Fix the tool, or set toolErrors: 'report' to hand its errors to the model instead of failing.`,
      { cause },
    );
  }
}
