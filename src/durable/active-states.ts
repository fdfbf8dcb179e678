/**
 * The state names active in an XState snapshot value, leaving out parallel regions that reached
 * `done` (a RunConcurrent branch that finished). Pure and browser-safe: forks read node statuses
 * from checkpoints with it (fork.ts), and so does the inspector's checkpoint view.
 */
export function activeNames(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === 'string') into.add(value);
  else if (value && typeof value === 'object') {
    for (const [name, inner] of Object.entries(value)) {
      if (inner === 'done') continue;
      into.add(name);
      activeNames(inner, into);
    }
  }
  return into;
}
