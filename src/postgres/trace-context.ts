/**
 * The OpenTelemetry trace context of a RunQueue run: `submit()` records the active context as
 * W3C headers (`traceparent`, `tracestate`, through the app's registered propagator), and the
 * worker runs the run inside it, so the run's spans (`otelHooks()`) on any machine are children
 * of the span that submitted it. Without an SDK registered, nothing is recorded and nothing
 * costs anything.
 */
import { ROOT_CONTEXT, context, propagation } from '@opentelemetry/api';

export type TraceCarrier = Record<string, string>;

/** The active context as headers, or null when there is none to carry. */
export function currentTraceContext(): TraceCarrier | null {
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length ? carrier : null;
}

/** Calls `fn` inside the context `carrier` holds (the worker's own context when it holds none). */
export function withTraceContext<T>(carrier: TraceCarrier | null | undefined, fn: () => T): T {
  if (!carrier) return fn();
  return context.with(propagation.extract(ROOT_CONTEXT, carrier), fn);
}
