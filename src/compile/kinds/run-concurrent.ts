/**
 * RunConcurrent: a parallel state, one region per item, done when every region is. A group of
 * more than WIDE_RUN_CONCURRENT plain items compiles to the fan-out actor instead: XState's
 * parallel states cost worse than quadratically in their regions (bench/), while up to here a
 * parallel state is cheap and shows each item as a region in a statechart view.
 */
import type { RunConcurrent } from '../../graph/run-concurrent.js';
import { fanOutState } from './fan-out-state.js';
import type { KindCompiler } from './kind.js';
import { stateMeta } from './kind.js';

const WIDE_RUN_CONCURRENT = 16;

export const runConcurrentKind: KindCompiler<RunConcurrent> = {
  state: (group, site, graph) => {
    const { key, path, done } = site;
    const entry = [
      { type: 'countExecution', params: { node: key } },
      { type: 'reportGroupStarted', params: { key } },
    ] as const;
    // A parallel state with no regions is never done: an empty group completes at once.
    if (group.items.length === 0) {
      return { id: key, meta: stateMeta('runConcurrent', group.name, key), entry, always: done([{ type: 'reportGroupCompleted', params: { key } }]) };
    }
    if (group.items.length > WIDE_RUN_CONCURRENT && group.items.every((item) => graph.canBeItem(item))) {
      return fanOutState(group, 'runConcurrent', site, graph, [
        { type: 'countItems', params: { items: group.items.map((item) => graph.prototype.keyOf(item)) } },
      ]);
    }
    return {
      id: key,
      type: 'parallel',
      meta: stateMeta('runConcurrent', group.name, key),
      entry,
      states: Object.fromEntries(
        group.items.map((item) => {
          const itemKey = graph.prototype.keyOf(item);
          const running = graph.stateOf(item, {
            key: itemKey,
            path: [...path, itemKey],
            done: (actions) => [{ target: 'done', actions: [...actions] }],
          });
          return [itemKey, { initial: 'running', states: { running, done: { type: 'final' } } }];
        }),
      ),
      onDone: done([{ type: 'reportGroupCompleted', params: { key } }]),
    };
  },
  plan: (group, { key, iteration }, graph) => {
    // The run's group has the prototype's shape: its items have the prototype group's keys.
    const prototypeItems = graph.prototypeAt(key).children();
    return {
      owner: `RunConcurrent '${group.name}'`,
      count: group.items.length,
      item: (index) => {
        const id = graph.prototype.keyOf(prototypeItems[index]!);
        return graph.item(group.items[index]!, id, iteration, id);
      },
      concurrency: Infinity,
      collectFailures: false,
    };
  },
};
