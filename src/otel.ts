/**
 * OpenTelemetry for runs: `otelHooks()` is a set of hooks that turns each run into a span
 * tree, workflow → subflow / RunConcurrent → node, through `@opentelemetry/api`. Without an
 * SDK installed by the app every span is a no-op, so the hooks cost next to nothing.
 *
 * ```ts
 * import { otelHooks } from 'junjo-xstate/otel';
 * workflow.addHooks(otelHooks());                        // or execute(input, { hooks: otelHooks() })
 * ```
 *
 * A span is named after its executable and carries:
 *   junjo.span_type          workflow | subflow | runConcurrent | node
 *   junjo.id, junjo.parent_id                       structural ids (equal on every run)
 *   junjo.run_id, junjo.execution_id, junjo.parent_execution_id    runtime ids
 *   junjo.status             completed | failed | cancelled (set when it ends)
 *   junjo.workflow.state.start / .end   workflow and subflow spans: the state as JSON
 *   junjo.workflow.graph     workflow and subflow spans: the graph as JSON (as `toJSON()` gives
 *                            it), so a trace alone can be drawn (the inspector's OTLP receiver);
 *                            left out past GRAPH_CHARS, with junjo.workflow.graph_chars saying its size
 * A failed span has status ERROR and the error recorded as an exception event; a cancelled
 * span keeps status UNSET and says `junjo.status = cancelled`. Each commit is a `set_state`
 * event (attributes junjo.store.action, junjo.state_json_patch, junjo.store.id, junjo.store.seq,
 * junjo.node, junjo.node_id) on the span of the node that sent it if that span is open, else on
 * the span of the workflow or subflow whose store committed.
 *
 * A node's `ctx.emit` values (issue 16) are summarised, bounded whatever the node emits: the
 * first EMIT_EVENTS of them as `junjo.emit` span events (junjo.emit.seq, junjo.emit.data cut to
 * EMIT_DATA_CHARS), and on the span's end `junjo.emit.count` and `junjo.emit.preview` (strings
 * joined, other values as JSON, cut to EMIT_PREVIEW_CHARS). What a node set with
 * `ctx.setAttributes` (e.g. OpenInference `llm.model_name`, `llm.token_count.prompt`,
 * `input.value`, `output.value`) becomes attributes of its span.
 *
 * The workflow span is a child of whatever span is active when the run starts. States and
 * patches pass the run's `redact` first, then this module's own `redact`.
 *
 * Its own entry point (`junjo-xstate/otel`), so the core never imports `@opentelemetry/api`.
 */
import { SpanStatusCode, context, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { describe } from './describe.js';
import {
  redactPatches,
  type StoreState,
  type LifecycleEvent,
  type NodeEmittedEvent,
  type Redact,
  type StateChangedEvent,
  type WorkflowHooks,
} from './hooks.js';

/** Bounds of the emit summary on a node span (see the module comment). */
export const EMIT_EVENTS = 8;
export const EMIT_DATA_CHARS = 256;
export const EMIT_PREVIEW_CHARS = 1024;
/** The largest graph JSON put on a span. */
export const GRAPH_CHARS = 64 * 1024;

// Every run of a workflow shares its graph's JSON object: stringified once.
const graphTexts = new WeakMap<object, string>();

export interface OtelHooksOptions {
  /** Default: `trace.getTracer('junjo-xstate')` of the globally registered provider. */
  tracer?: Tracer;
  /** Applied to every state and patch value before it becomes an attribute. */
  redact?: Redact;
}

export function otelHooks(options: OtelHooksOptions = {}): WorkflowHooks {
  const redact = options.redact;
  // Spans by execution id, to parent children; by run and structural id, to find the open
  // span a commit belongs to (one structural id has at most one open execution per run).
  const byExecution = new Map<string, Span>();
  const byStructure = new Map<string, Span>();
  // Emit summaries of open node spans, by execution id.
  const emits = new Map<string, { count: number; preview: string }>();
  const structureKey = (runId: string, id: string) => `${runId}\n${id}`;
  const json = (state: unknown) => JSON.stringify(redact ? redact(state as StoreState) : state) ?? 'undefined';

  const started = (event: LifecycleEvent) => {
    const parent = event.parentExecutionId === null ? undefined : byExecution.get(event.parentExecutionId);
    const parentContext = parent ? trace.setSpan(context.active(), parent) : context.active();
    const attributes: Attributes = {
      'junjo.span_type': event.kind,
      'junjo.id': event.id,
      'junjo.run_id': event.runId,
      'junjo.execution_id': event.executionId,
    };
    if (event.parentId !== null) attributes['junjo.parent_id'] = event.parentId;
    if (event.parentExecutionId !== null) attributes['junjo.parent_execution_id'] = event.parentExecutionId;
    if (event.state !== undefined) attributes['junjo.workflow.state.start'] = json(event.state);
    if (event.graph) {
      let text = graphTexts.get(event.graph);
      if (text === undefined) graphTexts.set(event.graph, (text = JSON.stringify(event.graph)));
      if (text.length <= GRAPH_CHARS) attributes['junjo.workflow.graph'] = text;
      else attributes['junjo.workflow.graph_chars'] = text.length;
    }
    const tracer = options.tracer ?? trace.getTracer('junjo-xstate');
    const span = tracer.startSpan(event.name, { attributes }, parentContext);
    byExecution.set(event.executionId, span);
    byStructure.set(structureKey(event.runId, event.id), span);
  };

  const ended = (event: LifecycleEvent) => {
    const span = byExecution.get(event.executionId);
    if (!span) return;
    byExecution.delete(event.executionId);
    byStructure.delete(structureKey(event.runId, event.id));
    span.setAttribute('junjo.status', event.status);
    if (event.attributes) span.setAttributes(event.attributes);
    const summary = emits.get(event.executionId);
    if (summary) {
      emits.delete(event.executionId);
      span.setAttribute('junjo.emit.count', summary.count);
      span.setAttribute('junjo.emit.preview', summary.preview);
    }
    if (event.state !== undefined) span.setAttribute('junjo.workflow.state.end', json(event.state));
    if (event.status === 'failed') {
      const error = event.error;
      // describe(), not String(): a thrown value may have no prototype or a throwing toString,
      // and a span left open here would be lost.
      span.recordException(error instanceof Error ? exceptionOf(error) : describe(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: describe(error) });
    }
    span.end();
  };

  const stateChanged = (event: StateChangedEvent) => {
    const span =
      (event.nodeId === null ? undefined : byStructure.get(structureKey(event.runId, event.nodeId))) ??
      byStructure.get(structureKey(event.runId, event.id));
    if (!span) return;
    const patches = redact ? redactPatches(event.patches, redact(event.state as StoreState)) : event.patches;
    const attributes: Attributes = {
      'junjo.store.action': event.action,
      'junjo.store.id': event.id,
      'junjo.store.seq': event.seq,
      'junjo.state_json_patch': JSON.stringify(patches),
    };
    if (event.node !== null) attributes['junjo.node'] = event.node;
    if (event.nodeId !== null) attributes['junjo.node_id'] = event.nodeId;
    span.addEvent('set_state', attributes);
  };

  const emitted = (event: NodeEmittedEvent) => {
    const span = byExecution.get(event.executionId);
    if (!span) return;
    let summary = emits.get(event.executionId);
    if (!summary) emits.set(event.executionId, (summary = { count: 0, preview: '' }));
    summary.count++;
    if (summary.count > EMIT_EVENTS && summary.preview.length >= EMIT_PREVIEW_CHARS) return;
    const text = typeof event.data === 'string' ? event.data : (safeJSON(event.data) ?? String(event.data));
    if (summary.preview.length < EMIT_PREVIEW_CHARS) summary.preview = (summary.preview + text).slice(0, EMIT_PREVIEW_CHARS);
    if (summary.count <= EMIT_EVENTS) {
      span.addEvent('junjo.emit', { 'junjo.emit.seq': event.seq, 'junjo.emit.data': text.slice(0, EMIT_DATA_CHARS) });
    }
  };

  return {
    onEvent(event) {
      if (event.type === 'stateChanged') stateChanged(event);
      else if (event.type === 'nodeEmitted') emitted(event);
      // Each attempt of a retried node already has its own span, ended as failed.
      else if (event.type === 'nodeRetrying') return;
      else if (event.status === 'started') started(event);
      else ended(event);
    },
  };
}

/** An Error as OpenTelemetry records it, read without letting a throwing getter escape. */
function exceptionOf(error: Error): { name: string; message: string; stack?: string } {
  let stack: unknown;
  try {
    stack = error.stack;
  } catch {
    stack = undefined;
  }
  let name: unknown;
  try {
    name = error.name;
  } catch {
    name = 'Error';
  }
  const exception: { name: string; message: string; stack?: string } = {
    name: typeof name === 'string' ? name : 'Error',
    message: describe(error),
  };
  if (typeof stack === 'string') exception.stack = stack;
  return exception;
}

function safeJSON(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}
