/**
 * A junjo run's snapshots as they were when XState reported them. A run's context keeps a few
 * records that its actions change in place rather than copy — `executionCounts`, `attempts`,
 * `subflows`, `agents` (copying them on every step would make long runs quadratic, see
 * src/compile/run-scope.ts) — so every snapshot of the run holds the same records. The client
 * serializes a turn of the event loop after the events (a 10,000-item run's all at once), by
 * when they may have changed: time travel would show a root's later counts at an earlier
 * commit. So each run snapshot, as it is observed, gets copies of them: one level deep, as
 * their values are replaced, never changed, except an agent's tool results, copied too.
 *
 * Browser-safe and pure: it only reshapes XState inspection events before they are serialized.
 */
import type { InspectionEvent } from 'xstate';

/** The in-place parts of a run's context (src/compile/run-scope.ts, RunContext). */
interface InPlace {
  runId: string;
  executionCounts: Record<string, number>;
  attempts?: Record<string, number>;
  subflows?: Record<string, unknown[]>;
  agents?: Record<string, { results?: Record<string, unknown> }>;
}

function isRunContext(context: unknown): context is InPlace {
  const c = context as Partial<InPlace> | null;
  return !!c && typeof c === 'object' && typeof c.runId === 'string' && !!c.executionCounts && typeof c.executionCounts === 'object';
}

const mapValues = <T>(record: Record<string, T>, copy: (value: T) => T): Record<string, T> => {
  const out: Record<string, T> = {};
  for (const key in record) out[key] = copy(record[key]!);
  return out;
};

/** The event, or a copy whose run snapshot holds its in-place records as they are now. */
export function asObserved(event: InspectionEvent): InspectionEvent {
  if (event.type !== '@xstate.snapshot') return event;
  const context = (event.snapshot as { context?: unknown }).context;
  if (!isRunContext(context)) return event;
  const now: InPlace = { ...context, executionCounts: { ...context.executionCounts } };
  if (context.attempts) now.attempts = { ...context.attempts };
  if (context.subflows) now.subflows = mapValues(context.subflows, (runs) => runs.slice());
  if (context.agents) now.agents = mapValues(context.agents, (agent) => ({ ...agent, ...(agent.results && { results: { ...agent.results } }) }));
  // A machine snapshot's own toJSON reads `this`, so the copy serializes with its own context.
  return { ...event, snapshot: { ...event.snapshot, context: now } as unknown as typeof event.snapshot };
}
