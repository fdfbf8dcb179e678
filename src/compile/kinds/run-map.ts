/**
 * RunMap: a state invoking the fan-out actor, which reads the list from the committed state
 * and runs one item actor per element (a node runner or a subflow machine, as the item's kind
 * says), at most `concurrency` at a time.
 */
import { kindOf } from '../../describe.js';
import { MaxIterationsError } from '../../errors.js';
import { otherCopy, twoCopiesError } from '../../graph/brand.js';
import { Executable } from '../../graph/executable.js';
import type { RunMap } from '../../graph/run-map.js';
import { fanOutState } from './fan-out-state.js';
import type { KindCompiler } from './kind.js';

export const runMapKind: KindCompiler<RunMap<any, any, any>> = {
  state: (map, site, graph) => fanOutState(map, 'runMap', site, graph),
  plan: (map, { scope, key, iteration }, graph) => {
    const maxIterations = scope.source.maxIterations;
    if (iteration > maxIterations) throw new MaxIterationsError(key, maxIterations);
    const list = map.itemsOf(scope.store.getState());
    const items = (scope.items ??= new Map());
    let kind: string | undefined;
    return {
      owner: `RunMap '${map.name}'`,
      count: list.length,
      item: (index) => {
        const id = `${key}[${index}]`;
        const item = map.itemAt(list[index], index);
        if (!(item instanceof Executable) || !graph.canBeItem(item)) {
          if (otherCopy(item)) throw twoCopiesError(`RunMap '${map.name}': node(item, ${index})`, item);
          throw new TypeError(
            `RunMap '${map.name}': node(item, ${index}) must return one of: ${graph.itemKinds().join(', ')}; got ${item instanceof Executable ? item.noun : kindOf(item)}`,
          );
        }
        kind ??= item.kind;
        if (item.kind !== kind) {
          throw new TypeError(
            `RunMap '${map.name}': node(item, ${index}) returned a ${item.kind}, but earlier items were ${kind}s; return the same kind for every item`,
          );
        }
        items.set(id, item);
        scope.lifecycle?.adopt(id, key);
        // Every item of one RunMap has one shape: a subflow item's machine is compiled once.
        return graph.item(item, id, iteration, key);
      },
      concurrency: map.concurrency,
      collectFailures: map.collectFailures,
    };
  },
};
