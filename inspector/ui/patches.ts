/**
 * A store's state rebuilt from the previous one and a commit's immer patches, for states as
 * JSON carries them (plain objects and arrays): each object or array on a patch's path is
 * copied, everything else shared, as immer's own `applyPatches` does, but without its drafts
 * and freezing, which were most of the page's cost of taking in a 10,000-commit run.
 */
import type { Patch } from './model.js';

/** `state` with `patches` applied, in order; throws if a path does not lead anywhere. */
export function applyPatches(state: unknown, patches: readonly Patch[]): unknown {
  let root = state;
  // The copies made for these patches: changed in place by the patches after the first.
  const copies = new Set<object>();
  const own = (value: unknown): Record<string | number, unknown> => {
    if (value === null || typeof value !== 'object') throw new Error('a patch path leads through a value that is not an object or array');
    if (copies.has(value)) return value as Record<string | number, unknown>;
    const copy = Array.isArray(value) ? value.slice() : { ...value };
    copies.add(copy);
    return copy as Record<string | number, unknown>;
  };
  for (const { op, path, value } of patches) {
    if (path.length === 0) {
      root = op === 'remove' ? undefined : value;
      continue;
    }
    let at = own(root);
    root = at;
    for (const step of path.slice(0, -1)) at = at[step] = own(at[step]);
    const key = path.at(-1)!;
    if (Array.isArray(at) && key !== 'length') {
      // As immer's patches mean them on arrays: `add` inserts, `remove` takes out.
      if (op === 'add') key === '-' ? at.push(value) : at.splice(Number(key), 0, value);
      else if (op === 'remove') at.splice(Number(key), 1);
      else at[Number(key)] = value;
    } else if (op === 'remove') delete at[key];
    else at[key] = value;
  }
  return root;
}
