/**
 * The graph from Junjo's concurrency page: a RunConcurrent analyses a workout message two
 * ways at once (how many activities, and when), a conditional edge sends messages with
 * several activities through a query splitter, and a final node writes the summary.
 *
 * The nodes stand in for LLM calls: deterministic text rules behind short, abortable delays.
 */
import {
  Edge,
  Graph,
  Node,
  RunConcurrent,
  Workflow,
  condition,
  defineStore,
  type NodeContext,
  type StateOf,
  type StoreOf,
} from '../../src/index.js';
import { modelLatency } from '../shared/model-latency.js';

export const WorkoutStore = defineStore({
  name: 'WorkoutStore',
  initial: {
    message: '',
    activityCount: null as number | null,
    when: null as string | null,
    queries: [] as string[],
    summary: null as string | null,
  },
  actions: {
    setActivityCount: (draft, count: number) => {
      draft.activityCount = count;
    },
    setWhen: (draft, when: string) => {
      draft.when = when;
    },
    addQuery: (draft, query: string) => {
      draft.queries.push(query);
    },
    setSummary: (draft, summary: string) => {
      draft.summary = summary;
    },
  },
});
export type WorkoutStoreHandle = StoreOf<typeof WorkoutStore>;
export type WorkoutState = StateOf<typeof WorkoutStore>;

/** The activities a message mentions: "ran 5k and did 20 pushups, then yoga" → 3 parts. */
export function activitiesIn(message: string): string[] {
  return message
    .split(/,|\band\b|\bthen\b|;/i)
    .map((part) => part.trim())
    .filter((part) => /\b(ran|run|walk|walked|swam|swim|rode|ride|cycled|lifted|did|yoga|hiked|rowed)\b/i.test(part));
}

class CountActivitiesNode extends Node<WorkoutStoreHandle> {
  async service(store: WorkoutStoreHandle, ctx: NodeContext) {
    await modelLatency(30, ctx.signal);
    await store.setActivityCount(activitiesIn(store.getState().message).length);
  }
}

class DetermineWhenNode extends Node<WorkoutStoreHandle> {
  async service(store: WorkoutStoreHandle, ctx: NodeContext) {
    await modelLatency(20, ctx.signal);
    const match = store.getState().message.match(/\b(yesterday|today|this morning|last night|tonight)\b/i);
    await store.setWhen(match ? match[1]!.toLowerCase() : 'today');
  }
}

class ActivityQuerySplitterNode extends Node<WorkoutStoreHandle> {
  async service(store: WorkoutStoreHandle, ctx: NodeContext) {
    await modelLatency(15, ctx.signal);
    for (const activity of activitiesIn(store.getState().message)) {
      await store.addQuery(`log activity: ${activity}`);
    }
  }
}

class FinalNode extends Node<WorkoutStoreHandle> {
  async service(store: WorkoutStoreHandle) {
    const { activityCount, when, queries } = store.getState();
    const detail = queries.length ? ` (${queries.length} queries)` : '';
    await store.setSummary(`Recorded ${activityCount} ${activityCount === 1 ? 'activity' : 'activities'} for ${when}${detail}`);
  }
}

export const isMultipleActivities = condition<WorkoutState>(
  'IsMultipleActivities',
  (state) => (state.activityCount ?? 0) > 1,
);

export function recordWorkoutGraph(): Graph {
  // Names are explicit so they survive minifiers that rename classes.
  const countActivities = new CountActivitiesNode({ name: 'CountActivities' });
  const determineWhen = new DetermineWhenNode({ name: 'DetermineWhen' });
  const splitter = new ActivityQuerySplitterNode({ name: 'ActivityQuerySplitter' });
  const finalNode = new FinalNode({ name: 'Final' });
  const initialAnalysis = new RunConcurrent({ name: 'Initial Analysis', items: [countActivities, determineWhen] });
  return new Graph({
    source: initialAnalysis,
    sinks: [finalNode],
    edges: [
      new Edge({ tail: initialAnalysis, head: splitter, condition: isMultipleActivities }),
      new Edge({ tail: splitter, head: finalNode }),
      new Edge({ tail: initialAnalysis, head: finalNode }),
    ],
  });
}

export const recordWorkoutActivity = new Workflow({
  name: 'RecordWorkoutActivity',
  graph: recordWorkoutGraph,
  store: (input: { message: string }) => WorkoutStore.create({ message: input.message }),
});
