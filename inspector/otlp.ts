/**
 * Traces from any machine: the inspector server's OTLP/HTTP JSON receiver (`POST /v1/traces`)
 * turns the spans that `junjo-xstate/otel` writes into the same `@statelyai/inspect` events a
 * live run sends, so a run exported by a worker elsewhere shows with its graph (the workflow
 * span's `junjo.workflow.graph`), its nodes' timings and statuses (one actor per node span),
 * its store commits (the `set_state` events' patches applied to `junjo.workflow.state.start`),
 * and an event list made from the spans (each node's start and end, each commit, each
 * `ctx.emit`, each error), in time order, so its duration, time travel and activity show too.
 *
 * Spans of one trace may come in several requests, in any order (an SDK exports spans as they
 * end, a batch at a time, and requests can overtake each other): a trace's spans are kept,
 * bounded, and a run is converted once its workflow span is there. A span that arrives after
 * that (a later batch, or one that was overtaken) joins its run: the run is converted again,
 * whole, and replaces the one shown before (REPLACED_EVENT_TYPE), in the history too.
 */
import { REPLACED_EVENT_TYPE, type WireEvent } from './protocol.js';

/** A span as the receiver reads it: times in ms, attributes as plain values. */
export interface FlatSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  start: number;
  end: number;
  attributes: Record<string, unknown>;
  events: { time: number; name: string; attributes: Record<string, unknown> }[];
  error?: string;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}
type OtlpAttributes = { key: string; value?: OtlpValue }[] | undefined;

function valueOf(value: OtlpValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return value.boolValue;
}

function attributesOf(list: OtlpAttributes): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of Array.isArray(list) ? list : []) if (typeof key === 'string') out[key] = valueOf(value);
  return out;
}

/** Nanoseconds since the epoch (a string or number, as OTLP JSON writes them) in ms. */
function ms(nanos: unknown): number {
  if (typeof nanos === 'string' && /^\d+$/.test(nanos)) return Number(BigInt(nanos) / 1_000_000n);
  return typeof nanos === 'number' ? nanos / 1e6 : 0;
}

/** The spans of an OTLP ExportTraceServiceRequest in JSON; throws saying what is wrong. */
export function spansOf(body: unknown): FlatSpan[] {
  const resourceSpans = (body as { resourceSpans?: unknown })?.resourceSpans;
  if (!Array.isArray(resourceSpans)) throw new Error('not an OTLP trace export: it has no resourceSpans array');
  const spans: FlatSpan[] = [];
  for (const resource of resourceSpans) {
    for (const scope of (resource as { scopeSpans?: unknown[] })?.scopeSpans ?? []) {
      for (const raw of (scope as { spans?: unknown[] })?.spans ?? []) {
        const s = raw as Record<string, unknown>;
        if (typeof s.traceId !== 'string' || typeof s.spanId !== 'string') throw new Error('a span has no traceId or spanId (hex strings in OTLP JSON)');
        const status = s.status as { code?: number; message?: string } | undefined;
        const span: FlatSpan = {
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: typeof s.parentSpanId === 'string' ? s.parentSpanId : '',
          name: String(s.name ?? ''),
          start: ms(s.startTimeUnixNano),
          end: ms(s.endTimeUnixNano),
          attributes: attributesOf(s.attributes as OtlpAttributes),
          events: ((s.events as { timeUnixNano?: unknown; name?: unknown; attributes?: OtlpAttributes }[] | undefined) ?? []).map((e) => ({
            time: ms(e.timeUnixNano),
            name: String(e.name ?? ''),
            attributes: attributesOf(e.attributes),
          })),
        };
        // Status code 2 is ERROR.
        if (status?.code === 2) span.error = status.message ?? 'failed';
        spans.push(span);
      }
    }
  }
  return spans;
}

const END_STATUS: Record<string, 'done' | 'error' | 'stopped'> = { completed: 'done', failed: 'error', cancelled: 'stopped' };

interface Patch {
  op: 'add' | 'replace' | 'remove';
  path: (string | number)[];
  value?: unknown;
}

/** Applies immer-style patches to a copy of `state`. */
function applyPatches(state: unknown, patches: readonly Patch[]): unknown {
  const root = { value: structuredClone(state) } as Record<string, unknown>;
  for (const { op, path, value } of patches) {
    let at: Record<string | number, unknown> = root;
    const keys = ['value', ...path];
    for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Record<string | number, unknown>;
    const last = keys.at(-1)!;
    if (Array.isArray(at) && typeof last === 'number') {
      if (op === 'add') at.splice(last, 0, value);
      else if (op === 'remove') at.splice(last, 1);
      else at[last] = value;
    } else if (op === 'remove') delete at[last];
    else at[last] = value;
  }
  return root.value;
}

function parseJSON(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One run's inspect events, in time order; `at(time, event)` files one. */
class Timeline {
  readonly #timed: { time: number; order: number; event: WireEvent }[] = [];
  constructor(readonly root: string) {}

  at(time: number, event: WireEvent & Record<string, unknown>): void {
    this.#timed.push({ time, order: this.#timed.length, event: { ...event, rootId: this.root, createdAt: String(Math.round(time)), _version: 'otlp' } as WireEvent });
  }

  /** An `@xstate.event` of `type` on actor `sessionId`, sent by `sourceId` if given. */
  event(time: number, sessionId: string, sourceId: string | null, event: { type: string; [key: string]: unknown }): void {
    this.at(time, { type: '@xstate.event', sessionId, sourceId, event });
  }

  events(): WireEvent[] {
    return this.#timed.sort((x, y) => x.time - y.time || x.order - y.order).map((t) => t.event);
  }
}

/** A span's error message: its status's, else its exception event's. */
function errorOf(span: FlatSpan): string | undefined {
  const message = span.error ?? span.events.find((e) => e.name === 'exception')?.attributes['exception.message'];
  return message === undefined ? undefined : String(message);
}

/** What a node's end event carries besides its status: its time, error, emit summary and own attributes. */
function endDetails(span: FlatSpan): Record<string, unknown> {
  const details: Record<string, unknown> = { durationMs: Math.round((span.end - span.start) * 1000) / 1000 };
  const error = errorOf(span);
  if (error !== undefined && span.attributes['junjo.status'] === 'failed') details.error = error;
  for (const [key, value] of Object.entries(span.attributes)) {
    // The library's own bookkeeping is in the actor tree already; what a node set (ctx.setAttributes) is not.
    if (!key.startsWith('junjo.') || key.startsWith('junjo.emit.')) details[key] = value;
  }
  return details;
}

/** The inspect events of one workflow span and the spans under it, in time order. */
export function runEvents(workflow: FlatSpan, spans: readonly FlatSpan[]): WireEvent[] {
  const a = workflow.attributes;
  const runId = String(a['junjo.run_id'] ?? workflow.spanId);
  const root = `otel:${runId}`;
  const line = new Timeline(root);
  const graph = parseJSON(a['junjo.workflow.graph']);
  const definition = { id: workflow.name, meta: { junjo: { kind: 'workflow', name: workflow.name, ...(graph ? { graph } : {}) } } };
  const executionCounts: Record<string, number> = {};
  line.at(workflow.start, {
    type: '@xstate.actor', sessionId: root, name: workflow.name, definition: JSON.stringify(definition),
    snapshot: { status: 'active', value: null, context: { runId, executionCounts: {} } },
  });
  line.event(workflow.start, root, null, { type: 'junjo.otel.started', id: String(a['junjo.id'] ?? workflow.name), kind: 'workflow', runId });

  // Actors for the spans under the workflow span, each under its parent span's actor.
  const actorOf = new Map<string, string>([[workflow.spanId, root]]);
  const nameOf = new Map<string, string>();
  const children = new Map<string, FlatSpan[]>();
  for (const span of spans) children.set(span.parentSpanId, [...(children.get(span.parentSpanId) ?? []), span]);
  // Counted as the run counts them: its own nodes and those of its RunConcurrent groups.
  const walk = (parent: FlatSpan, counted: boolean) => {
    for (const span of (children.get(parent.spanId) ?? []).sort((x, y) => x.start - y.start)) {
      const sessionId = `${root}:${span.spanId}`;
      const parentId = actorOf.get(parent.spanId)!;
      actorOf.set(span.spanId, sessionId);
      const id = String(span.attributes['junjo.id'] ?? span.name);
      const name = id.slice(id.lastIndexOf('/') + 1);
      nameOf.set(span.spanId, name);
      const kind = String(span.attributes['junjo.span_type'] ?? 'node');
      if (counted) executionCounts[name] = (executionCounts[name] ?? 0) + 1;
      line.at(span.start, { type: '@xstate.actor', sessionId, parentId, name, snapshot: { status: 'active' } });
      line.event(span.start, sessionId, parentId, { type: 'junjo.otel.started', id, kind });
      const status = END_STATUS[String(span.attributes['junjo.status'])] ?? 'done';
      for (const e of span.events) {
        if (e.name !== 'junjo.emit') continue;
        const data = e.attributes['junjo.emit.data'];
        line.event(e.time, root, sessionId, { type: 'junjo.emit', node: name, id, seq: e.attributes['junjo.emit.seq'], data: parseJSON(data) ?? data });
      }
      line.event(span.end, sessionId, null, { type: `junjo.otel.${String(span.attributes['junjo.status'] ?? 'completed')}`, id, ...endDetails(span) });
      line.at(span.end, {
        type: '@xstate.snapshot', sessionId, event: { type: `junjo.otel.${status}` },
        snapshot: { status, ...(status === 'error' ? { error: { message: errorOf(span) ?? 'failed' } } : {}) },
      });
      walk(span, counted && kind === 'runConcurrent');
    }
  };
  walk(workflow, true);

  // The run's own store: its commits are the set_state events naming the workflow's store, in
  // the order of their seq (their times never run backwards, even from spans of other clocks).
  const storeId = `${root}:store`;
  let state = parseJSON(a['junjo.workflow.state.start']);
  line.at(workflow.start, { type: '@xstate.actor', sessionId: storeId, parentId: root, name: 'store', snapshot: { status: 'active', context: state, commit: null } });
  const commits = [workflow, ...spans]
    .flatMap((span) => span.events.map((event) => ({ span, event })))
    .filter(({ event }) => event.name === 'set_state' && event.attributes['junjo.store.id'] === a['junjo.id'])
    .sort((x, y) => Number(x.event.attributes['junjo.store.seq']) - Number(y.event.attributes['junjo.store.seq']));
  let time = workflow.start;
  for (const { span, event } of commits) {
    const patches = (parseJSON(event.attributes['junjo.state_json_patch']) ?? []) as Patch[];
    state = applyPatches(state, patches);
    const node = event.attributes['junjo.node'];
    const action = String(event.attributes['junjo.store.action']);
    const seq = Number(event.attributes['junjo.store.seq']);
    time = Math.max(time, event.time);
    const from = span === workflow ? root : (actorOf.get(span.spanId) ?? root);
    line.event(time, storeId, from, { type: action, seq, node: typeof node === 'string' ? node : null, patches });
    line.at(time, {
      type: '@xstate.snapshot', sessionId: storeId, event: { type: action },
      snapshot: { status: 'active', context: state, commit: { seq, action, node: typeof node === 'string' ? node : null, patches } },
    });
  }

  const end = END_STATUS[String(a['junjo.status'])] ?? 'done';
  const failedAt = spans.find((s) => s.parentSpanId === workflow.spanId && s.attributes['junjo.status'] === 'failed');
  line.event(workflow.end, root, null, { type: `junjo.otel.${String(a['junjo.status'] ?? 'completed')}`, id: String(a['junjo.id'] ?? workflow.name), ...endDetails(workflow) });
  line.at(workflow.end, {
    type: '@xstate.snapshot', sessionId: root, event: { type: `junjo.otel.${end}` },
    snapshot: {
      status: end,
      value: end === 'done' ? '$done' : end === 'error' ? '$failed' : null,
      context: { runId, executionCounts, failure: failedAt ? { path: [nameOf.get(failedAt.spanId)!], error: { message: errorOf(failedAt) ?? 'failed' } } : null },
      ...(end === 'error' ? { error: { message: workflow.error ?? 'failed' } } : {}),
    },
  });
  return line.events();
}

/** A run converted from spans: its inspect events, and whether it replaces one converted before. */
export interface TraceRun {
  /** Where its first spans came from (`otlp:<address>`): the run keeps it when it is converted again. */
  source: string;
  /** Its root actor's session id, `otel:<run id>`. */
  root: string;
  /** Its events; when `replaces`, the first is a REPLACED_EVENT_TYPE event telling tabs to forget the old one. */
  events: WireEvent[];
  replaces: boolean;
}

interface Trace {
  spans: Map<string, FlatSpan>;
  /** Its converted runs, by workflow span id: where they came from and how many spans they had. */
  runs: Map<string, { source: string; size: number }>;
}

/**
 * Keeps the spans of recent traces, at most `maxSpans` of them (the traces touched longest ago
 * go first, converted or not), and hands out each workflow run once its span is there, and
 * again whenever more of its spans arrive.
 */
export class TraceAssembler {
  readonly #traces = new Map<string, Trace>();
  #count = 0;
  constructor(readonly maxSpans = 50_000) {}

  /** The runs that `spans`, received from `source`, complete or add to, each as its inspect events. */
  add(spans: readonly FlatSpan[], source: string): TraceRun[] {
    const touched = new Set<Trace>();
    for (const span of spans) {
      let trace = this.#traces.get(span.traceId);
      if (trace) this.#traces.delete(span.traceId);
      else trace = { spans: new Map(), runs: new Map() };
      // Re-inserted: the Map's order is the order traces were last touched in.
      this.#traces.set(span.traceId, trace);
      // An exporter's retry sends a span again.
      if (trace.spans.has(span.spanId)) continue;
      trace.spans.set(span.spanId, span);
      this.#count++;
      touched.add(trace);
    }
    const runs: TraceRun[] = [];
    for (const trace of touched) {
      for (const workflow of trace.spans.values()) {
        if (workflow.attributes['junjo.span_type'] !== 'workflow') continue;
        const mine = spansUnder(trace, workflow);
        const before = trace.runs.get(workflow.spanId);
        if (before && before.size === mine.length) continue;
        const run = { source: before?.source ?? source, size: mine.length };
        trace.runs.set(workflow.spanId, run);
        const events = runEvents(workflow, mine);
        const root = events[0]!.sessionId;
        if (before) events.unshift({ type: '@xstate.event', sessionId: root, rootId: root, sourceId: null, event: { type: REPLACED_EVENT_TYPE }, createdAt: String(Date.now()) });
        runs.push({ source: run.source, root, events, replaces: before !== undefined });
      }
    }
    // The trace touched last stays, however large: it is the one being assembled.
    for (const [traceId, trace] of this.#traces) {
      if (this.#count <= this.maxSpans || this.#traces.size === 1) break;
      this.#traces.delete(traceId);
      this.#count -= trace.spans.size;
    }
    return runs;
  }
}

/** The spans under `workflow` in its trace, down to (not into) any workflow run nested in it. */
function spansUnder(trace: Trace, workflow: FlatSpan): FlatSpan[] {
  const byParent = new Map<string, FlatSpan[]>();
  for (const span of trace.spans.values()) byParent.set(span.parentSpanId, [...(byParent.get(span.parentSpanId) ?? []), span]);
  const mine: FlatSpan[] = [];
  const stack = [workflow.spanId];
  while (stack.length) {
    for (const span of byParent.get(stack.pop()!) ?? []) {
      if (span.attributes['junjo.span_type'] === 'workflow') continue;
      mine.push(span);
      stack.push(span.spanId);
    }
  }
  return mine;
}
