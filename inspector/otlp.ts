/**
 * Traces from any machine: the inspector server's OTLP/HTTP JSON receiver (`POST /v1/traces`)
 * turns the spans that `junjo-xstate/otel` writes into the same `@statelyai/inspect` events a
 * live run sends, so a run exported by a worker elsewhere shows with its graph (the workflow
 * span's `junjo.workflow.graph`), its nodes' timings and statuses (one actor per node span) and
 * its store commits (the `set_state` events' patches applied to `junjo.workflow.state.start`).
 *
 * Spans of one trace may come in several requests (an SDK exports spans as they end): they are
 * kept, bounded, until the trace's workflow span arrives — it ends last — and then converted.
 * Spans of a run that arrive after its workflow span are not added to it: export with a
 * BatchSpanProcessor (in order), not with concurrent SimpleSpanProcessor requests.
 */
import type { WireEvent } from './protocol.js';

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

/** The inspect events of one workflow span and the spans under it, in time order. */
export function runEvents(workflow: FlatSpan, spans: readonly FlatSpan[]): WireEvent[] {
  const a = workflow.attributes;
  const runId = String(a['junjo.run_id'] ?? workflow.spanId);
  const root = `otel:${runId}`;
  const timed: { time: number; order: number; event: WireEvent & Record<string, unknown> }[] = [];
  const at = (time: number, event: WireEvent & Record<string, unknown>) =>
    timed.push({ time, order: timed.length, event: { ...event, rootId: root, createdAt: String(Math.round(time)), _version: 'otlp' } });
  const graph = parseJSON(a['junjo.workflow.graph']);
  const definition = { id: workflow.name, meta: { junjo: { kind: 'workflow', name: workflow.name, ...(graph ? { graph } : {}) } } };
  const executionCounts: Record<string, number> = {};
  at(workflow.start, {
    type: '@xstate.actor', sessionId: root, name: workflow.name, definition: JSON.stringify(definition),
    snapshot: { status: 'active', value: null, context: { runId, executionCounts: {} } },
  });

  // Actors for the spans under the workflow span, each under its parent span's actor.
  const actorOf = new Map<string, string>([[workflow.spanId, root]]);
  const children = new Map<string, FlatSpan[]>();
  for (const span of spans) children.set(span.parentSpanId, [...(children.get(span.parentSpanId) ?? []), span]);
  const walk = (parent: FlatSpan) => {
    for (const span of (children.get(parent.spanId) ?? []).sort((x, y) => x.start - y.start)) {
      const sessionId = `${root}:${span.spanId}`;
      actorOf.set(span.spanId, sessionId);
      const id = String(span.attributes['junjo.id'] ?? span.name);
      const name = id.slice(id.lastIndexOf('/') + 1);
      if (parent === workflow) executionCounts[name] = (executionCounts[name] ?? 0) + 1;
      at(span.start, { type: '@xstate.actor', sessionId, parentId: actorOf.get(parent.spanId)!, name, snapshot: { status: 'active' } });
      const status = END_STATUS[String(span.attributes['junjo.status'])] ?? 'done';
      const error = span.error ?? span.events.find((e) => e.name === 'exception')?.attributes['exception.message'];
      at(span.end, {
        type: '@xstate.snapshot', sessionId, event: { type: `junjo.otel.${status}` },
        snapshot: { status, ...(status === 'error' ? { error: { message: String(error ?? 'failed') } } : {}) },
      });
      walk(span);
    }
  };
  walk(workflow);

  // The run's own store: its commits are the set_state events naming the workflow's store.
  const storeId = `${root}:store`;
  let state = parseJSON(a['junjo.workflow.state.start']);
  at(workflow.start, { type: '@xstate.actor', sessionId: storeId, parentId: root, name: 'store', snapshot: { status: 'active', context: state, commit: null } });
  const commits = [workflow, ...spans]
    .flatMap((span) => span.events)
    .filter((e) => e.name === 'set_state' && e.attributes['junjo.store.id'] === a['junjo.id'])
    .sort((x, y) => Number(x.attributes['junjo.store.seq']) - Number(y.attributes['junjo.store.seq']));
  for (const commit of commits) {
    const patches = (parseJSON(commit.attributes['junjo.state_json_patch']) ?? []) as Patch[];
    state = applyPatches(state, patches);
    const node = commit.attributes['junjo.node'];
    at(commit.time, {
      type: '@xstate.snapshot', sessionId: storeId, event: { type: String(commit.attributes['junjo.store.action']) },
      snapshot: { status: 'active', context: state, commit: { seq: Number(commit.attributes['junjo.store.seq']), action: String(commit.attributes['junjo.store.action']), node: typeof node === 'string' ? node : null, patches } },
    });
  }

  const end = END_STATUS[String(a['junjo.status'])] ?? 'done';
  const failedAt = spans.find((s) => s.parentSpanId === workflow.spanId && s.attributes['junjo.status'] === 'failed');
  at(workflow.end, {
    type: '@xstate.snapshot', sessionId: root, event: { type: `junjo.otel.${end}` },
    snapshot: {
      status: end,
      value: end === 'done' ? '$done' : end === 'error' ? '$failed' : null,
      context: { runId, executionCounts, failure: failedAt ? { path: [String(failedAt.attributes['junjo.id'] ?? '').split('/').pop()] } : null },
      ...(end === 'error' ? { error: { message: workflow.error ?? 'failed' } } : {}),
    },
  });
  return timed.sort((x, y) => x.time - y.time || x.order - y.order).map((t) => t.event);
}

/**
 * Keeps the spans of traces whose workflow span has not arrived yet, at most `maxSpans` of
 * them (the oldest traces go first), and hands out each workflow run once its span arrives.
 */
export class TraceAssembler {
  readonly #pending = new Map<string, FlatSpan[]>();
  #count = 0;
  constructor(readonly maxSpans = 50_000) {}

  /** The runs that `spans` complete, each as its inspect events. */
  add(spans: readonly FlatSpan[]): WireEvent[][] {
    const workflows: FlatSpan[] = [];
    for (const span of spans) {
      if (span.attributes['junjo.span_type'] === 'workflow') workflows.push(span);
      else {
        this.#pending.set(span.traceId, [...(this.#pending.get(span.traceId) ?? []), span]);
        this.#count++;
      }
    }
    const runs = workflows.map((workflow) => {
      const trace = this.#pending.get(workflow.traceId) ?? [];
      // Only the spans under this workflow span: a trace may hold several runs.
      const under = new Set([workflow.spanId]);
      const mine: FlatSpan[] = [];
      for (let grew = true; grew; ) {
        grew = false;
        for (const span of trace) if (!under.has(span.spanId) && under.has(span.parentSpanId)) (under.add(span.spanId), mine.push(span), (grew = true));
      }
      const rest = trace.filter((s) => !under.has(s.spanId));
      this.#count -= trace.length - rest.length;
      if (rest.length) this.#pending.set(workflow.traceId, rest);
      else this.#pending.delete(workflow.traceId);
      return runEvents(workflow, mine);
    });
    for (const [traceId, kept] of this.#pending) {
      if (this.#count <= this.maxSpans) break;
      this.#pending.delete(traceId);
      this.#count -= kept.length;
    }
    return runs;
  }
}
